"""`bilan verifier`: what a data steward sees for a clean file, a file it cannot read, a file with bad rows; and
everything `bilan` prints in French — its help and errors, a failed step, an unexpected error."""

from __future__ import annotations

from pathlib import Path

import pytest

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


# --- French to the end: no argparse English, no Python warning, no trace on the console ----------

ARGPARSE_ENGLISH = ["usage:", "positional arguments", "optional arguments", "show this help message",
                    "the following arguments are required", "invalid int value", "invalid choice",
                    "unrecognized arguments", "error:", "expected one argument", "subcommands"]


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["verifier", "--help"], ["run"],
                                  ["run", "--annee", "abc"], ["run", "--annee", "2025", "--inconnu"],
                                  ["run", "--annee"], ["lancer"], [], ["run", "--annee", "2025", "--processus", "x"]])
def test_the_command_line_speaks_french(argv, capsys):
    import argparse

    with pytest.raises(SystemExit) as stopped:
        main(argv)
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert stopped.value.code == (0 if "--help" in argv else 2)
    assert not [word for word in ARGPARSE_ENGLISH if word in text], text
    assert "utilisation : bilan" in text
    if stopped.value.code:
        assert "erreur :" in printed.err
    assert argparse._("usage: ") == "usage: "             # argparse speaks English again to everyone else


def test_refused_rows_are_formatted_without_a_python_warning(tmp_path, capsys):
    import warnings

    # a missing required cell has no failure value: pandera gathered those through a deprecated concat
    path = _file(tmp_path, "CPAM;operateur_etat;2025;OG.3.1;Bilans;réalisés;nombre;1800;1650;;;\n"
                           "CPAM;;;OG.3.1;;;;-1;-2;;-3;\n")
    main(["verifier", str(path), "--sortie", str(tmp_path / "sortie")])   # imports done, then watched
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", DeprecationWarning)          # never shown outside __main__
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        assert main(["verifier", str(path), "--sortie", str(tmp_path / "sortie")]) == 1
    out = capsys.readouterr().out
    assert "ligne 3, colonne « annee » : valeur obligatoire manquante" in out
    assert "2 lignes lues, 1 correctes, 1 à corriger" in out


FAILING_RUN = """
import sys

from dagster import asset

import pipelines.definitions as definitions
from core.config.base import ConfigurationError
from core.partitions import annee_partitions


@asset(key_prefix=["staging"], partitions_def=annee_partitions)
def programmation():
    raise KeyError("cellule « Dufrenoy » de programmation_2025.csv")


@asset(key_prefix=["staging"], partitions_def=annee_partitions)
def tfpb():
    raise ConfigurationError("config/territoires/ccco.yaml : clé qpv.0.population : un nombre est attendu")


@asset(key_prefix=["marts"], partitions_def=annee_partitions, deps=[tfpb])
def tfpb_mart():
    return 1


definitions.ALL_ASSETS[:] = [programmation, tfpb, tfpb_mart]
definitions.ALL_CHECKS[:] = []
definitions.WITHOUT_BILAN[:] = [a.key for a in definitions.ALL_ASSETS]
from pipelines.cli import main

sys.exit(main(sys.argv[1:]))
"""


def test_a_failed_step_is_a_french_paragraph_and_its_traces_go_to_a_journal(tmp_path):
    import os
    import re
    import stat
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    script = tmp_path / "run_en_echec.py"
    script.write_text(FAILING_RUN)
    (tmp_path / "donnees" / "inbox").mkdir(parents=True)
    sortie = tmp_path / "sortie"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BILAN_", "DAGSTER_HOME"))}
    done = subprocess.run([sys.executable, str(script), "run", "--annee", "2025", "--donnees",
                           str(tmp_path / "donnees"), "--sortie", str(sortie)], cwd=root, capture_output=True,
                          text=True, env={**env, "PYTHONPATH": str(root)}, timeout=600)
    console = done.stdout + done.stderr
    assert done.returncode == 1, console
    assert "L'actif « staging/programmation » a échoué : erreur inattendue du programme (KeyError). Fichier en " \
           "cause : programmation_2025.csv. Que faire : relancez" in done.stderr
    assert "L'actif « staging/tfpb » a échoué : config/territoires/ccco.yaml : clé qpv.0.population : un nombre " \
           "est attendu. Fichier en cause : config/territoires/ccco.yaml. Que faire : corrigez" in done.stderr
    assert "2 étape(s) en échec" in done.stderr
    for trace in ("Traceback", "Stack Trace", 'File "', "Dufrenoy", "DagsterExecutionStepExecutionError"):
        assert trace not in console
    found = re.search(r"Journal complet .* : (\S+\.log)", done.stderr)
    assert found, done.stderr
    journal = Path(found.group(1))
    assert journal.parent == sortie / "journaux" and journal.name.startswith("run_")
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600 and stat.S_IMODE(journal.parent.stat().st_mode) == 0o700
    detail = journal.read_text()
    assert "Stack Trace" in detail and 'raise KeyError("cellule « Dufrenoy »' in detail
    assert "étape staging__tfpb" in detail and "ConfigurationError" in detail


@pytest.mark.parametrize("command", ["run", "verifier"])
def test_an_unexpected_error_outside_dagster_ends_in_french(command, tmp_path, capsys, monkeypatch):
    import re
    import stat

    import pipelines.cli as cli

    def broken(*args, **kwargs):
        raise RuntimeError("cellule « Dufrenoy » : no such thing")

    monkeypatch.setattr(cli, "years_to_run" if command == "run" else "_guess", broken)
    sortie = tmp_path / "sortie"
    if command == "run":
        (tmp_path / "donnees" / "inbox").mkdir(parents=True)
        argv = ["run", "--annee", "2025", "--donnees", str(tmp_path / "donnees"), "--sortie", str(sortie)]
    else:
        argv = ["verifier", str(_file(tmp_path, "")), "--sortie", str(sortie)]
    assert main(argv) == (1 if command == "run" else 2)
    printed = capsys.readouterr()
    assert f"ÉCHEC de `bilan {command}` : erreur inattendue du programme (RuntimeError)" in printed.err
    assert "Traceback" not in printed.out + printed.err and "Dufrenoy" not in printed.out + printed.err
    journal = Path(re.search(r"Journal complet .* : (\S+\.log)", printed.err).group(1))
    assert journal.parent == sortie / "journaux" and stat.S_IMODE(journal.stat().st_mode) == 0o600
    assert "Traceback" in journal.read_text() and "Dufrenoy" in journal.read_text()


def test_the_data_pass_without_bilans_selects_no_bilan_and_is_recorded_apart(tmp_path, capsys, monkeypatch):
    """`bilan run --sans-bilan`: the requested year's run selects every asset but the bilan's; run again, nothing is
    launched; the same year then asked with its bilans is not taken as done (its record names the data pass): its
    bilan's assets run, alone."""
    import types

    import dagster

    import pipelines.cli as cli
    from pipelines.definitions import WITHOUT_BILAN
    from tests.conftest import TEST_KEY

    monkeypatch.setenv("BILAN_CLE_PSEUDONYMISATION", TEST_KEY)
    selections = []

    def materialize(assets, partition_key, selection=None, **kwargs):
        selections.append((partition_key, selection))
        return types.SimpleNamespace(success=True, run_id=f"run-{len(selections)}")

    monkeypatch.setattr(dagster, "materialize", materialize)
    monkeypatch.setattr(cli, "_summary", lambda *args, **kwargs: None)
    root = Path(__file__).resolve().parent.parent
    argv = ["run", "--annee", "2025", "--donnees", str(root / "data" / "demo"), "--sortie", str(tmp_path / "sortie")]
    assert main([*argv, "--sans-bilan"]) == 0
    assert selections == [("2024", WITHOUT_BILAN), ("2025", WITHOUT_BILAN)]
    capsys.readouterr()
    assert main([*argv, "--sans-bilan"]) == 0
    assert len(selections) == 2
    assert "et ses tables telles qu'il les a publiées : rien n'est relancé" in capsys.readouterr().out
    assert main(argv) == 0
    assert [year for year, _ in selections[2:]] == ["2025"]   # 2024 stays as the data pass left it
    assert {key.path[0] for key in selections[2][1]} == {"bilan"}
