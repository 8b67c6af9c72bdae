"""The bilans fanned out on Dagster's multiprocess executor, on a national-shaped dataset of two territories
(tools/generate_national.py): `bilan run --processus 2` renders each batch of territories in its own process, from
the snapshot of the published tables, and the ledger records every territory once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
from dagster import DagsterEventType, DagsterInstance, EventRecordsFilter

from tests.conftest import TEST_KEY

ROOT = Path(__file__).resolve().parent.parent


def test_a_few_national_territories_render_in_parallel_batches(tmp_path):
    donnees, sortie, home = tmp_path / "donnees", tmp_path / "sortie", tmp_path / "dagster_home"
    subprocess.run([sys.executable, str(ROOT / "tools" / "generate_national.py"), "--racine", str(donnees),
                    "--echelle", "2"], cwd=ROOT, check=True, capture_output=True)
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "deploiement" / "dagster.sqlite.yaml").read_text())
    env = {**os.environ, "DAGSTER_HOME": str(home), "BILAN_CLE_PSEUDONYMISATION": TEST_KEY, "BILAN_PDF": "non",
           "PYTHONPATH": str(ROOT)}
    # the first year of the contract: nothing earlier to load, the run is the fan-out this test is about
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--annee", "2024", "--processus", "2",
                           "--donnees", str(donnees), "--sortie", str(sortie), "--config", str(donnees / "config")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "rendus par 2 processus à la fois" in done.stdout

    territoires = sorted(p.stem for p in (donnees / "config" / "territoires").glob("*.yaml"))
    assert len(territoires) == 2   # one batch each (rendu.lots_minimum: 2)
    for code in territoires:
        published = sortie / "2024" / code
        for name in (f"bilan_{code}_2024.html", f"bilan_{code}_2024_annexe.xlsx"):
            assert (published / name).is_file(), name
        assert list((published / "communes").glob("*.html"))
    with duckdb.connect(str(sortie / "entrepot.duckdb"), read_only=True) as con:
        ledger = con.execute("SELECT territoire, count(*), count(DISTINCT run_id) FROM publication.bilans_publies "
                             "WHERE annee = 2024 GROUP BY ALL ORDER BY 1").fetchall()
    assert ledger == [(code, 1, 1) for code in territoires]

    # the batches ran as steps of their own, each in its own process, none of them the command's
    instance = DagsterInstance.from_config(str(home))
    starts = instance.get_event_records(EventRecordsFilter(event_type=DagsterEventType.STEP_START))
    batches = {r.event_log_entry.step_key: r.event_log_entry.dagster_event.pid for r in starts
               if (r.event_log_entry.step_key or "").startswith("bilan__bilan.render_batch[")}
    assert len(batches) == 2, batches
    assert len(set(batches.values())) == 2
    snapshot = sortie / "instantane" / "publication_2024"
    assert (snapshot / "mesures.parquet").is_file() and not (snapshot / "bilans_publies.parquet").exists()
    assert not (snapshot / "lignes_mesures.parquet").exists()           # no bilan reads it

    # the same command again, nothing changed: no Dagster run at all (issue 32, item 3)
    first_runs = {r.run_id for r in instance.get_runs()}
    command = [sys.executable, "-m", "pipelines.cli", "run", "--annee", "2024", "--processus", "2", "--donnees",
               str(donnees), "--sortie", str(sortie), "--config", str(donnees / "config")]
    idle = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert idle.returncode == 0, idle.stdout[-3000:] + idle.stderr[-3000:]
    assert "rien n'est relancé (--forcer pour le relancer)" in idle.stdout
    assert {r.run_id for r in instance.get_runs()} == first_runs
    # forced: no file is staged again, no bilan rendered, no render process
    again = subprocess.run([*command, "--forcer"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    nothing = "Bilans 2024 : tous publiés des mêmes tables, rien à rendre (dans ce processus)"
    assert nothing in again.stdout, again.stdout[-3000:]
    starts = instance.get_event_records(EventRecordsFilter(event_type=DagsterEventType.STEP_START), limit=10_000)
    keys = sorted(k for r in starts if (k := r.event_log_entry.step_key or "").startswith("bilan__bilan.render_batch["))
    # the relaunch's bilan step looked at every territory and gave its one render step an empty batch
    assert keys == sorted([*batches, "bilan__bilan.render_batch[none]"])
    with duckdb.connect(str(sortie / "entrepot.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM publication.bilans_publies").fetchall() == [(2,)]
        steps = dict(con.execute("SELECT etape, run_id FROM journal.calculs WHERE annee = 2024").fetchall())
    assert {s for s in steps if s.startswith("staging/")} >= {"staging/programmation", "staging/engagements"}
    assert set(steps.values()) <= first_runs   # every result in the ledger was computed by the first command

    # one territory's commitments corrected, its run alone: only what depends on that family runs again, and only
    # its bilan is rendered; the other territory's bilan keeps its bytes
    corrected, other = territoires
    kept = {p: p.read_bytes() for p in (sortie / "2024" / other).resolve().rglob("*") if p.is_file()}
    engagements = sorted((donnees / "inbox" / corrected / "2024").glob("engagements_*"))[0]
    data = engagements.read_bytes()
    end = b"\r\n" if b"\r\n" in data else b"\n"
    lines = data.split(end)
    lines[1] += b" (corrige)"   # the last column, « Commentaire »
    engagements.write_bytes(end.join(lines))
    runs_before = {r.run_id for r in instance.get_runs()}
    scoped = subprocess.run([*command, "--territoire", corrected], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert scoped.returncode == 0, scoped.stdout[-3000:] + scoped.stderr[-3000:]
    assert "seuls ont changé engagements" in scoped.stdout, scoped.stdout[-3000:]
    new_runs = [r for r in instance.get_runs() if r.run_id not in runs_before]
    steps = {e.step_key for r in new_runs for e in instance.all_logs(r.run_id)
             if e.dagster_event and e.dagster_event.event_type_value == "STEP_START"}
    assert {"staging__engagements", "marts__engagements", "publication__tableaux"} <= steps
    assert not steps & {"staging__tfpb", "staging__programmation", "marts__indicateurs", "sources__cohortes"}
    with duckdb.connect(str(sortie / "entrepot.duckdb"), read_only=True) as con:
        rendered = con.execute("SELECT territoire FROM publication.bilans_publies WHERE run_id IN "
                               "(SELECT unnest(?::VARCHAR[]))", [[r.run_id for r in new_runs]]).fetchall()
    assert rendered == [(corrected,)]
    assert {p: p.read_bytes() for p in (sortie / "2024" / other).resolve().rglob("*") if p.is_file()} == kept
