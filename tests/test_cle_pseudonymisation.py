"""A key that cannot be mistaken: a file name in the key variable, a guessable production key or a mistyped
BILAN_ENVIRONNEMENT stops everything before any file is touched, with a French message, in every entry point
(`bilan run`, `bilan verifier`, a Dagster run, a sensor or schedule tick)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import secrets

import pytest
from dagster import DagsterInstance, asset, build_schedule_context, build_sensor_context, materialize

from core.pseudonymisation import CleInvalide, EnvironnementInvalide, from_environment
from core.resources import BilanSettings
from pipelines.cli import main

KEY, KEY_FILE, ENV = "BILAN_CLE_PSEUDONYMISATION", "BILAN_CLE_PSEUDONYMISATION_FICHIER", "BILAN_ENVIRONNEMENT"

FILE_NAMES = ["cle_pseudonymisation_production.key", "secrets/cle_pseudonymisation.pem", r"C:\secrets\cle.txt",
              r"secrets\cle_pseudonymisation", "~/cle_pseudonymisation_de_production", "./cle_de_production.cle",
              "/etc/bilan/cle_pseudonymisation", r"\\serveur\partage\cle_pseudonymisation"]
# each one at least 32 characters long: only their form tells them from a key
# fixed values: xdist's workers must collect the same test ids
GUESSABLE = ["a" * 64, "0123456789abcdef" * 4, "deadbeef" * 8, hashlib.sha256(b"31 octets").hexdigest()[:62],
             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
             "une phrase de passe assez longue pour passer les 32 caractères"]


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    for name in (KEY, KEY_FILE, ENV):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("environment", ["", "demo", "production"])
@pytest.mark.parametrize("value", FILE_NAMES)
def test_a_file_name_is_never_the_key(monkeypatch, value, environment):
    monkeypatch.setenv(ENV, environment)
    monkeypatch.setenv(KEY, value)
    with pytest.raises(CleInvalide, match=f"ressemble à un chemin ou à un nom de fichier.*{KEY_FILE}"):
        from_environment()


@pytest.mark.parametrize("value", GUESSABLE)
def test_production_refuses_a_key_that_does_not_look_random(monkeypatch, capsys, value):
    monkeypatch.setenv(KEY, value)
    assert not from_environment().is_demo                 # outside production: said, not refused
    assert "serait refusée en production" in capsys.readouterr().err
    monkeypatch.setenv(ENV, "production")
    with pytest.raises(CleInvalide, match="en production, la clé doit être tirée au hasard") as refused:
        from_environment()
    assert value not in str(refused.value)               # a key, even a bad one, is never repeated in a message


def test_production_refuses_a_guessable_key_read_from_its_file(monkeypatch, tmp_path):
    path = tmp_path / "cle"
    path.write_text("0" * 64 + "\n")
    path.chmod(0o600)
    monkeypatch.setenv(KEY_FILE, str(path))
    monkeypatch.setenv(ENV, "production")
    with pytest.raises(CleInvalide, match="trop régulière"):
        from_environment()


@pytest.mark.parametrize("make", [
    lambda: secrets.token_urlsafe(48),                    # README's command
    lambda: secrets.token_urlsafe(32),                    # 32 bytes, 43 characters
    lambda: secrets.token_hex(32),                        # openssl rand -hex 32
    lambda: "X" + base64.b64encode(os.urandom(32)).decode()[1:],   # openssl rand -base64 32 (not starting with /)
], ids=["token_urlsafe_48", "token_urlsafe_32", "hex_32", "base64_32"])
def test_production_takes_a_random_key(monkeypatch, capsys, make):
    monkeypatch.setenv(ENV, "production")
    for _ in range(20):
        key = make()
        monkeypatch.setenv(KEY, key)
        assert from_environment().key == key.encode()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("written", ["prod", "Prod", "dev", "production2", "démo", "true"])
def test_an_unknown_environment_is_refused_with_the_accepted_values(monkeypatch, written):
    monkeypatch.setenv(ENV, written)
    monkeypatch.setenv(KEY, secrets.token_urlsafe(48))
    with pytest.raises(EnvironnementInvalide, match=f"« {written} ».*« demo », « production »"):
        from_environment()


@pytest.mark.parametrize("written", ["", "  ", "demo", "DEMO", " production ", "Production"])
def test_the_documented_environments(monkeypatch, written):
    monkeypatch.setenv(ENV, written)
    if written.strip().lower() == "production":
        with pytest.raises(CleInvalide, match="aucun run ne démarre sans clé"):
            from_environment()
    else:
        assert from_environment().is_demo


def test_bilan_run_stops_before_touching_anything(monkeypatch, tmp_path, capsys):
    inbox = tmp_path / "donnees" / "inbox" / "ccco" / "2025"
    inbox.mkdir(parents=True)
    (inbox / "programmation_2025.csv").write_text("numero_dossier\n2025-00001\n")
    sortie = tmp_path / "sortie"
    command = ["run", "--annee", "2025", "--donnees", str(tmp_path / "donnees"), "--sortie", str(sortie)]
    monkeypatch.setenv(ENV, "prod")
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "Environnement : BILAN_ENVIRONNEMENT vaut « prod »" in err and "« production »" in err
    monkeypatch.delenv(ENV)
    monkeypatch.setenv(KEY, "cle_pseudonymisation_production.key")
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "Clé de pseudonymisation : " in err and KEY_FILE in err and "Traceback" not in err
    assert not sortie.exists()


def test_bilan_verifier_stops_too_whatever_the_family(monkeypatch, tmp_path, capsys):
    path = tmp_path / "programmation_2025.csv"
    path.write_text("numero_dossier\n2025-00001\n")
    monkeypatch.setenv(ENV, "prod")
    assert main(["verifier", str(path), "--territoire", "ccco", "--annee", "2025"]) == 2
    printed = capsys.readouterr()
    assert "BILAN_ENVIRONNEMENT vaut « prod »" in printed.err and "Vérification de" not in printed.out
    monkeypatch.delenv(ENV)
    monkeypatch.setenv(KEY, r"C:\secrets\cle.txt")
    assert main(["verifier", str(path), "--territoire", "ccco", "--annee", "2025"]) == 2
    assert KEY_FILE in capsys.readouterr().err


def test_a_dagster_run_fails_at_its_start(monkeypatch, tmp_path):
    touched = tmp_path / "touche"

    @asset
    def lit_la_boite(parametres: BilanSettings) -> None:
        touched.write_text("oui")

    for name, value in ((ENV, "prod"), (KEY, "cle_pseudonymisation_production.key")):
        monkeypatch.setenv(name, value)
        result = materialize([lit_la_boite], resources={"parametres": BilanSettings()}, raise_on_error=False)
        assert not result.success and not touched.exists()
        monkeypatch.delenv(name)
    assert materialize([lit_la_boite], resources={"parametres": BilanSettings()}).success and touched.exists()


def test_sensor_and_schedule_ticks_fail_with_the_french_message(monkeypatch, tmp_path):
    from pipelines.schedules import bilan_annuel_planifie
    from pipelines.sensors import boite_de_depot

    monkeypatch.setenv(ENV, "prod")
    resources = {"parametres": BilanSettings(racine_donnees=str(tmp_path))}
    with DagsterInstance.ephemeral() as instance:
        ticks = [lambda: boite_de_depot.evaluate_tick(build_sensor_context(instance=instance, resources=resources)),
                 lambda: bilan_annuel_planifie.evaluate_tick(build_schedule_context(
                     scheduled_execution_time=dt.datetime(2026, 1, 15, 6), resources=resources))]
        for tick in ticks:
            with pytest.raises(Exception) as failed:
                tick()
            assert isinstance(failed.value.__cause__, EnvironnementInvalide)
