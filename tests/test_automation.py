"""Schedules and the inbox sensor, driven with Dagster's test contexts and a controlled clock."""

from __future__ import annotations

import datetime as dt
import json
import os
import time

from dagster import DagsterInstance, RunRequest, build_schedule_context, build_sensor_context

from core.resources import BilanSettings
from pipelines.definitions import defs
from pipelines.schedules import bilan_annuel_planifie, bilan_avant_copil
from pipelines.sensors import boite_de_depot, scan

PARIS = dt.timezone(dt.timedelta(hours=1))


def _tick(schedule, day: dt.date):
    at_six = dt.datetime(day.year, day.month, day.day, 6, tzinfo=PARIS)
    context = build_schedule_context(scheduled_execution_time=at_six,
                                     resources={"parametres": BilanSettings()},
                                     repository_def=defs.get_repository_def())
    return list(schedule.evaluate_tick(context).run_requests or [])


def test_copil_schedule_runs_21_days_before_and_the_day_before():
    # ccco.yaml: COPIL of 19 March 2026 for the 2025 bilan
    before = _tick(bilan_avant_copil, dt.date(2026, 2, 26))
    assert [(r.partition_key, r.tags["bilan/declencheur"]) for r in before] == [("2025", "copil")]
    assert "ccco:2026-03-19:preparation" in before[0].tags["bilan/copil"]
    eve = _tick(bilan_avant_copil, dt.date(2026, 3, 18))
    assert [r.partition_key for r in eve] == ["2025"] and eve[0].run_key != before[0].run_key
    assert _tick(bilan_avant_copil, dt.date(2026, 2, 27)) == []
    assert _tick(bilan_avant_copil, dt.date(2026, 3, 19)) == []


def test_yearly_schedule_runs_the_past_year_once():
    runs = _tick(bilan_annuel_planifie, dt.date(2026, 2, 1))
    assert [(r.partition_key, r.run_key) for r in runs] == [("2025", "annuel-2025")]
    assert _tick(bilan_annuel_planifie, dt.date(2026, 2, 2)) == []
    assert _tick(bilan_annuel_planifie, dt.date(2024, 2, 1)) == []      # 2023 is not a year of this contract


def test_sensor_waits_for_stable_files_and_never_runs_twice_for_the_same_set(tmp_path):
    parametres = BilanSettings(racine_donnees=str(tmp_path))           # stabilite_fichier_s = 60 (settings.yaml)
    inbox = tmp_path / "inbox" / "ccco" / "2025"
    inbox.mkdir(parents=True)
    file = inbox / "engagements_caf.csv"
    file.write_text("partenaire;annee\nCAF;2025\n")
    t0 = file.stat().st_mtime

    runs, cursor, waiting = scan(parametres, {}, t0 + 1)               # just dropped: not seen settled yet
    assert runs == [] and waiting == ["ccco/2025/engagements_caf.csv"]
    runs, cursor, _ = scan(parametres, cursor, t0 + 30)                 # unchanged but younger than 60 s
    assert runs == []
    runs, cursor, _ = scan(parametres, cursor, t0 + 90)                 # stable: one run for 2025
    assert [r.partition_key for r in runs] == ["2025"]
    first_key = runs[0].run_key
    runs, cursor, _ = scan(parametres, cursor, t0 + 200)                # same set of files: no second run
    assert runs == []

    file.write_text("partenaire;annee\nCAF;2025\nCAF;2025\n")           # the file changes (still being written)
    os.utime(file, (t0 + 250, t0 + 250))
    runs, cursor, waiting = scan(parametres, cursor, t0 + 260)
    assert runs == [] and waiting
    runs, cursor, _ = scan(parametres, cursor, t0 + 400)
    assert [r.partition_key for r in runs] == ["2025"] and runs[0].run_key != first_key

    (inbox / "programmation_2025.csv").write_text("numero_dossier\n2025-00001\n")   # another file arrives
    os.utime(inbox / "programmation_2025.csv", (t0 + 410, t0 + 410))
    runs, cursor, _ = scan(parametres, cursor, t0 + 420)
    assert runs == []                                                   # the year waits for the new file to settle
    runs, cursor, _ = scan(parametres, cursor, t0 + 600)
    assert len(runs) == 1

    os.utime(file, (t0 + 700, t0 + 700))                                # touched, same content
    scan(parametres, cursor, t0 + 710)
    runs, cursor, _ = scan(parametres, cursor, t0 + 900)
    assert runs == []                                                   # same set of contents: never twice


def test_sensor_through_dagster_context(tmp_path):
    inbox = tmp_path / "inbox" / "ccco" / "2024"
    inbox.mkdir(parents=True)
    dropped = inbox / "tfpb_sigh.xlsx"
    dropped.write_bytes(b"PK fake")
    old = time.time() - 3600
    os.utime(dropped, (old, old))
    instance = DagsterInstance.ephemeral()
    resources = {"parametres": BilanSettings(racine_donnees=str(tmp_path))}
    repo = defs.get_repository_def()
    first = boite_de_depot.evaluate_tick(build_sensor_context(instance=instance, resources=resources,
                                                                                 repository_def=repo))
    assert not first.run_requests                                       # first sight: remember, do not run yet
    second = boite_de_depot.evaluate_tick(build_sensor_context(instance=instance, resources=resources,
                                                               cursor=first.cursor, repository_def=repo))
    assert [r.partition_key for r in second.run_requests] == ["2024"]
    assert isinstance(second.run_requests[0], RunRequest)
    third = boite_de_depot.evaluate_tick(build_sensor_context(instance=instance, resources=resources,
                                                              cursor=second.cursor, repository_def=repo))
    assert not third.run_requests and "aucun fichier nouveau" in (third.skip_message or "")
    assert json.loads(third.cursor)["demandes"]["2024"]
