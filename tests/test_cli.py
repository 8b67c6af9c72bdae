"""`bilan verifier`: what a data steward sees for a clean file, a file it cannot read, a file with bad rows."""

from __future__ import annotations

from pipelines.cli import main

HEADER = ("Partenaire;Type partenaire;Année;Code objectif;Engagement;Indicateur;Unité;Valeur cible;"
          "Valeur réalisée;Code QPV;Montant droit commun (€);Commentaire\n")


def _file(tmp_path, body: str, name="engagements_cpam.csv"):
    folder = tmp_path / "inbox" / "ccco" / "2025"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes((HEADER + body).encode("cp1252"))
    return path


def test_clean_windows_1252_file_with_decimal_commas(tmp_path, capsys):
    path = _file(tmp_path, "CPAM Lille-Douai;operateur_etat;2025;O.G.3.1;Bilans de santé précarité;bilans réalisés;"
                           "nombre;1 800;1 650;;12\u00a0500,50 €;Score EPICE\n"
                           "CPAM Lille-Douai;operateur_etat;2025;OG.3.1;Bilans de santé précarité;part QPV;"
                           "pourcentage;37,5 %;41,2;QN05936M;;\n")
    assert main(["verifier", str(path), "--sortie", str(tmp_path / "sortie")]) == 0
    out = capsys.readouterr().out
    assert "territoire ccco, année 2025" in out  # guessed from inbox/<territoire>/<annee>/
    assert "windows-1252" in out and "séparateur « ; »" in out
    assert "2 lignes lues, 2 correctes, 0 à corriger" in out


def test_missing_required_column_exit_2_names_it(tmp_path, capsys):
    path = tmp_path / "programmation_2025.csv"
    path.write_text("N° dossier;Année;Porteur\n2025-00001;2025;CS le Phare\n", encoding="utf-8")
    assert main(["verifier", str(path), "--annee", "2025", "--territoire", "ccco"]) == 2
    out = capsys.readouterr().out
    assert "FICHIER REFUSÉ" in out and "programmation_2025.csv" in out and "intitule_action" in out


def test_bad_rows_exit_1_each_row_named(tmp_path, capsys):
    path = _file(tmp_path, "CPAM;operateur_etat;2025;OG.3.1;Bilans;réalisés;nombre;1800;1650;;;\n"
                           "CPAM;operateur_etat;2024;OG.3.1;Bilans;part QPV;pourcentage;50;112;QM05936M;;\n"
                           "CPAM;operateur_etat;2025;OG.9.9;Bilans;autre;nombre;abc;;;;\n")
    assert main(["verifier", str(path), "--sortie", str(tmp_path / "sortie")]) == 1
    out = capsys.readouterr().out
    assert "ligne 3, colonne « annee »" in out and "[annee_boite" in out
    assert "ligne 3, colonne « code_qpv » : « QM05936M » n'est pas un QPV du territoire ccco" in out
    assert "QN05936M ?" in out
    assert "ligne 3, colonne « valeur_realisee »" in out
    assert "ligne 4, colonne « code_objectif »" in out and "ligne 4, colonne « valeur_cible »" in out
    assert "3 lignes lues, 1 correctes, 2 à corriger" in out


def test_unknown_family_and_missing_file_exit_2(tmp_path, capsys):
    other = tmp_path / "compte_rendu.csv"
    other.write_text("a\n1\n")
    assert main(["verifier", str(other)]) == 2
    assert main(["verifier", str(tmp_path / "absent.csv")]) == 2
    err = capsys.readouterr().err
    assert "famille inconnue" in err and "introuvable" in err
