"""A cohort file carrying names and contacts leaves none of them, nor the given identifiers, anywhere the
pipeline writes or prints — only the raw file archive keeps the original file."""

from __future__ import annotations

from pathlib import Path

from pipelines.cli import main
from tests.conftest import TEST_KEY, write_csv

PEOPLE = [
    {"nom": "Dufrenoy", "prenom": "Maëlys", "email": "maelys.dufrenoy@exemple.fr", "tel": "06 12 34 56 78",
     "id": "ML-24-90017"},
    {"nom": "Boutemy", "prenom": "Kylian", "email": "kylian.boutemy@exemple.fr", "tel": "07 98 76 54 32",
     "id": "ML-24-90018"},
    {"nom": "Wattiez", "prenom": "Océane", "email": "oceane.wattiez@exemple.fr", "tel": "06 55 44 33 22",
     "id": "ML-24-90019"},
]


def _inbox(root: Path) -> Path:
    folder = root / "inbox" / "ccco" / "2025"
    folder.mkdir(parents=True)
    write_csv(folder / "programmation_2025.csv", [{
        "numero_dossier": "2025-00001", "annee": "2025", "porteur": "Mission Locale du Douaisis", "siret": "",
        "intitule_action": "Parcours emploi", "code_objectif": "OG.1.1", "qpv_cibles": "TOUS",
        "mode_financement": "CPO", "reference_cpo": "CPO-CCCO-2024-01", "cpo_annee_debut": "2024",
        "cpo_annee_fin": "2026", "financeur": "etat_bop147", "nature_credit": "specifique",
        "montant_demande": "20000", "montant_accorde": "20000", "statut": "accorde", "cout_total_action": "60000",
    }])
    rows = []
    for i, p in enumerate(PEOPLE):
        rows.append({"Nom": p["nom"], "Prénom": p["prenom"], "E-mail": p["email"], "Téléphone": p["tel"],
                     "reference_cpo": "CPO-CCCO-2024-01" if i < 2 else "CPO-INCONNUE",  # third row: quarantine
                     "identifiant_beneficiaire": p["id"], "date_entree": "03/02/2025", "jalon": "entree",
                     "date_observation": "03/02/2025", "situation": "recherche_emploi", "sexe": "F",
                     "annee_naissance": "2003", "code_qpv": "QN05934M"})
    write_csv(folder / "cohortes_mission_locale_2025.csv", rows, sep=";", encoding="cp1252")
    return folder


def _secrets() -> list[str]:
    return [v for p in PEOPLE for k, v in p.items()]


def test_no_personal_value_leaves_the_reader(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BILAN_CLE_PSEUDONYMISATION", TEST_KEY)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    # the PDFs print the HTML scanned below, and their streams are compressed: a byte scan would see nothing in them
    monkeypatch.setenv("BILAN_PDF", "non")
    inbox = _inbox(tmp_path / "donnees")
    sortie = tmp_path / "sortie"
    assert main(["run", "--annee", "2025", "--donnees", str(tmp_path / "donnees"), "--sortie", str(sortie)]) == 0
    status = main(["verifier", str(inbox / "cohortes_mission_locale_2025.csv"), "--sortie", str(sortie)])
    printed = capsys.readouterr()
    assert status == 1  # the unknown CPO row
    text_out = printed.out + printed.err
    assert "Nom, Prénom, E-mail, Téléphone" in text_out  # the dropped columns are named, never their values

    written = [p for p in sortie.rglob("*") if p.is_file() and "archive" not in p.relative_to(sortie).parts]
    assert any(p.name == "entrepot.duckdb" for p in written)
    assert any(p.name == "quarantaine.csv" for p in written)
    assert any(p.suffix == ".pkl" for p in written)  # the read cache is scanned too
    for secret in _secrets():
        assert secret not in text_out, secret
        for path in written:
            data = path.read_bytes()
            for encoding in ("utf-8", "cp1252", "utf-16-le"):
                assert secret.encode(encoding, errors="ignore") not in data, (secret, path)

    import duckdb

    with duckdb.connect(str(sortie / "entrepot.duckdb"), read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT identifiant_beneficiaire FROM staging.cohortes").fetchall()]
        quarantined = con.execute("SELECT donnees FROM quarantine.lignes WHERE famille = 'cohortes'").fetchall()
        dropped = con.execute("SELECT colonnes_supprimees FROM staging.qualite_fichiers "
                              "WHERE famille = 'cohortes'").fetchone()[0]
    assert len(ids) == 2 and all(i.startswith("P") and len(i) == 21 for i in ids)
    assert len(quarantined) == 1 and '"identifiant_beneficiaire":"P' in quarantined[0][0]
    assert dropped == "Nom, Prénom, E-mail, Téléphone"
    # the archive is the one place the original file exists
    archived = [p.read_bytes() for p in (sortie / "archive").rglob("*.csv")]
    assert any("Dufrenoy".encode("cp1252") in a for a in archived)


def test_same_person_same_pseudonym_across_files_and_a_key_changes_it():
    import pandas as pd

    from core.pseudonymisation import Pseudonymiser

    a = Pseudonymiser(key=TEST_KEY.encode(), is_demo=False)
    b = Pseudonymiser(key=(TEST_KEY + "x").encode(), is_demo=False)
    ids = pd.Series(["ML-24-00017", " ml-24-00017 ", "ML-24-00018"])
    assert a(ids).iloc[0] == a(ids).iloc[1] != a(ids).iloc[2]
    assert a(ids).iloc[0] != b(ids).iloc[0]


def test_pseudonyms_are_the_standard_hmac_sha256_of_the_normalised_identifier():
    """The pseudonyms are computed set-based in DuckDB; the standard library's HMAC is the reference (RFC 2104),
    for a short key and for a key longer than SHA-256's block (hashed first)."""
    import hashlib
    import hmac

    import pandas as pd

    from core.pseudonymisation import Pseudonymiser

    identifiers = pd.Series([" ab-123 ", "Élodie.9", None, "AB-123", "x" * 300], index=[10, 11, 12, 13, 14])
    for key in (TEST_KEY.encode(), b"k" * 100):
        got = Pseudonymiser(key=key, is_demo=False)(identifiers)
        expected = [None if v is None else
                    "P" + hmac.new(key, v.strip().upper().encode(), hashlib.sha256).hexdigest()[:20]
                    for v in identifiers]
        assert list(got.index) == list(identifiers.index)
        assert [None if pd.isna(v) else v for v in got] == expected
        assert got.iloc[0] == got.iloc[3]


def test_key_from_a_file_and_production_refuses_the_demo_key(tmp_path, monkeypatch):
    import pytest

    from core.pseudonymisation import CleInvalide, from_environment

    key_file = tmp_path / "cle.txt"
    key_file.write_text(TEST_KEY + "\n")
    key_file.chmod(0o600)
    monkeypatch.delenv("BILAN_CLE_PSEUDONYMISATION", raising=False)
    monkeypatch.setenv("BILAN_CLE_PSEUDONYMISATION_FICHIER", str(key_file))
    assert from_environment().key == TEST_KEY.encode() and not from_environment().is_demo
    monkeypatch.delenv("BILAN_CLE_PSEUDONYMISATION_FICHIER")
    monkeypatch.setenv("BILAN_CLE_PSEUDONYMISATION", "trop-courte")
    with pytest.raises(CleInvalide, match="32 caractères"):
        from_environment()
    monkeypatch.delenv("BILAN_CLE_PSEUDONYMISATION")
    assert from_environment().is_demo                      # the demo runs, and says so
    monkeypatch.setenv("BILAN_ENVIRONNEMENT", "production")
    with pytest.raises(CleInvalide, match="production"):
        from_environment()


def test_every_key_mistake_is_named_in_french(tmp_path, monkeypatch):
    import pytest

    from core.pseudonymisation import CleInvalide, from_environment

    monkeypatch.delenv("BILAN_CLE_PSEUDONYMISATION", raising=False)
    monkeypatch.delenv("BILAN_CLE_PSEUDONYMISATION_FICHIER", raising=False)
    missing = "/etc/bilan/cle_pseudonymisation_absente_depuis_toujours"
    # a mistyped path in the key variable never becomes the key, however long it is
    monkeypatch.setenv("BILAN_CLE_PSEUDONYMISATION", missing)
    with pytest.raises(CleInvalide, match="ressemble à un chemin"):
        from_environment()
    monkeypatch.delenv("BILAN_CLE_PSEUDONYMISATION")
    monkeypatch.setenv("BILAN_CLE_PSEUDONYMISATION_FICHIER", missing)
    with pytest.raises(CleInvalide, match="introuvable"):
        from_environment()
    monkeypatch.setenv("BILAN_CLE_PSEUDONYMISATION", TEST_KEY)
    with pytest.raises(CleInvalide, match="une seule"):
        from_environment()
    monkeypatch.delenv("BILAN_CLE_PSEUDONYMISATION")
    shared = tmp_path / "cle_partagee.txt"
    shared.write_text(TEST_KEY)
    shared.chmod(0o644)
    monkeypatch.setenv("BILAN_CLE_PSEUDONYMISATION_FICHIER", str(shared))
    assert not from_environment().is_demo                  # outside production: a warning only
    monkeypatch.setenv("BILAN_ENVIRONNEMENT", "production")
    with pytest.raises(CleInvalide, match="lisible par d'autres comptes"):
        from_environment()


def test_production_run_without_a_key_stops_before_touching_the_inbox(tmp_path):
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILAN_CLE")}
    env["BILAN_ENVIRONNEMENT"] = "production"
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--annee", "2025",
                           "--sortie", str(tmp_path / "sortie")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2
    assert "Clé de pseudonymisation" in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "sortie" / "archive").exists() and not (tmp_path / "sortie" / "entrepot.duckdb").exists()
