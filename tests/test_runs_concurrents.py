"""Runs that share a warehouse: one at a time (a lock beside `entrepot.duckdb`), the second waits then stops with
a French message and exit code 3, `bilan verifier` answers while a run writes. Real processes, as in production."""

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, asset, materialize

from assets.staging.load import write_programmation_snapshot
from core.resources import BilanSettings, WarehouseResource, warehouse
from core.verrou import WarehouseBusy, acquire, lock_path, release, verrou_entrepot
from pipelines.cli import EXIT_BUSY, main
from tests.conftest import DEMO_DATA, TEST_KEY

ROOT = Path(__file__).resolve().parent.parent
BILAN_2025 = DEMO_DATA / "inbox" / "ccco" / "2025" / "bilans_actions_2025_centres_sociaux.csv"


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # ephemeral instance: no shared sqlite
    env.update(PYTHONPATH=str(ROOT), BILAN_CLE_PSEUDONYMISATION=TEST_KEY, PYTHONUNBUFFERED="1")
    return env


def _bilan(*args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, env={**_env(), **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _hold_lock_in_other_process(warehouse_path: Path) -> subprocess.Popen:
    """Another process holding the warehouse lock (what a run in progress does), until it is killed."""
    code = ("import sys, time; from core.verrou import acquire; acquire(sys.argv[1], 0); "
            "print('pris', flush=True); time.sleep(600)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(warehouse_path)], cwd=ROOT, env=_env(),
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "pris"
    return holder


def _programmation_warehouse(sortie: Path) -> Path:
    path = sortie / "entrepot.duckdb"
    sortie.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA staging")
        con.execute("CREATE TABLE staging.programmation (territoire VARCHAR, numero_dossier VARCHAR, annee INTEGER, "
                    "reference_cpo VARCHAR)")
        con.execute("INSERT INTO staging.programmation VALUES ('ccco', '2025-00001', 2025, NULL)")
        write_programmation_snapshot(con, BilanSettings(sortie=str(sortie)).snapshot_dir)
    return path


def test_second_run_waits_then_stops_with_exit_3_and_nothing_written(tmp_path):
    sortie = tmp_path / "sortie"
    path = _programmation_warehouse(sortie)
    holder = _hold_lock_in_other_process(path)
    try:
        started = time.monotonic()
        second = _bilan("run", "--annee", "2025", "--donnees", str(DEMO_DATA), "--sortie", str(sortie),
                        "--attente", "1.5")
        out, err = second.communicate(timeout=300)
        assert second.returncode == EXIT_BUSY == 3
        assert "Un autre run écrit dans l'entrepôt" in out and "1.5 s au plus" in out
        assert f"pid {holder.pid}" in err  # the message says who holds it
        assert "RUN NON LANCÉ" in err and "entrepot.attente_verrou_s" in err and "Traceback" not in err
        assert time.monotonic() - started >= 1.5
    finally:
        holder.kill()
        holder.wait()
    # nothing was written: no archive, no staging table beyond the one this test made
    assert not (sortie / "archive").exists()
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM information_schema.tables").fetchall()[0][0] == 1
    # the lock died with its holder: it is free at once
    with verrou_entrepot(path, 0):
        pass


def test_verifier_answers_while_a_writer_holds_the_warehouse(tmp_path):
    sortie = tmp_path / "sortie"
    path = _programmation_warehouse(sortie)
    with verrou_entrepot(path, 0), duckdb.connect(str(path)) as writer:  # a run writing, lock and DuckDB file
        writer.execute("CREATE TABLE staging.en_cours AS SELECT 1 AS x")
        verifier = _bilan("verifier", str(BILAN_2025), "--sortie", str(sortie))
        out, err = verifier.communicate(timeout=300)
    assert verifier.returncode in (0, 1), err
    assert "Résumé :" in out and "non vérifiées" not in out + err
    # cross-family rules were checked against the snapshot: the demo file names dossiers unknown to this warehouse
    assert "numero_dossier" in out


def test_dagster_run_takes_the_lock_through_the_entrepot_resource(tmp_path):
    path = tmp_path / "entrepot.duckdb"

    @asset
    def ecrit(entrepot: WarehouseResource) -> None:
        with entrepot.get_connection() as con:
            con.execute("CREATE TABLE IF NOT EXISTS t AS SELECT 1 AS x")

    instance = DagsterInstance.ephemeral()
    holder = _hold_lock_in_other_process(path)
    try:
        result = materialize([ecrit], instance=instance, raise_on_error=False,
                             resources={"entrepot": warehouse(path, attente_verrou_s=0.5)})
        assert not result.success
        assert any("WarehouseBusy" in str(e.event_specific_data) for e in result.all_events
                   if e.event_type_value == "RESOURCE_INIT_FAILURE")
        assert not path.exists() or not duckdb.connect(str(path), read_only=True).execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 't'").fetchall()[0][0]
    finally:
        holder.kill()
        holder.wait()
    # re-entrant in one process (`bilan run` holds it around its runs), released at the end of the run
    with verrou_entrepot(path, 0):
        assert materialize([ecrit], instance=instance, resources={"entrepot": warehouse(path, 0)}).success
    acquire(path, 0)
    release(path)


def test_the_holder_s_own_processes_work_under_its_lock_and_no_other(tmp_path):
    """A run's step processes (Dagster's multiprocess executor) inherit its lock; an unrelated process waits."""
    warehouse_path = tmp_path / "entrepot.duckdb"
    code = ("import subprocess, sys; from core.verrou import acquire, release; acquire(sys.argv[1], 0); "
            "child = 'import sys; from core.verrou import acquire, release; acquire(sys.argv[1], 0); "
            "release(sys.argv[1]); print(\"enfant : pris\")'; "
            "print(subprocess.run([sys.executable, '-c', child, sys.argv[1]], capture_output=True, text=True, "
            "timeout=60).stdout.strip(), flush=True); "
            "print('parent : toujours pris', flush=True); import time; time.sleep(600)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(warehouse_path)], cwd=ROOT, env=_env(),
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "enfant : pris"
        assert holder.stdout.readline().strip() == "parent : toujours pris"
        # the child's release did not free the parent's lock: this process, not a descendant, is refused
        with pytest.raises(WarehouseBusy):
            acquire(warehouse_path, 0.5)
    finally:
        holder.kill()
        holder.wait()
    acquire(warehouse_path, 5)      # the kernel dropped the lock with its holder
    release(warehouse_path)


def test_busy_message_names_the_setting(tmp_path):
    path = tmp_path / "entrepot.duckdb"
    holder = _hold_lock_in_other_process(path)
    try:
        with pytest.raises(WarehouseBusy, match="attente_verrou_s"):
            acquire(path, 0.3)
    finally:
        holder.kill()
        holder.wait()
    assert lock_path(path) == tmp_path / "entrepot.verrou"


def test_bilan_help_documents_exit_code_and_wait(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert "3  bilan run : l'entrepôt" in out and "--attente" in out and "entrepot.attente_verrou_s" in out


def test_two_real_runs_on_the_demo(tmp_path):
    """A real `bilan run` of the demo; a second one meanwhile waits, then stops (exit 3); `bilan verifier` answers
    during the run; the first run ends normally."""
    sortie = tmp_path / "sortie"
    # without the PDFs: the run lasts long enough for what happens meanwhile, and prints nothing this test reads
    first = _bilan("run", "--annee", "2024", "--donnees", str(DEMO_DATA), "--sortie", str(sortie), BILAN_PDF="non")
    try:
        deadline = time.monotonic() + 300
        while "pid" not in (lock_path(sortie / "entrepot.duckdb").read_text()
                            if lock_path(sortie / "entrepot.duckdb").exists() else ""):
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.2)
        second = _bilan("run", "--annee", "2024", "--donnees", str(DEMO_DATA), "--sortie", str(sortie),
                        "--attente", "2")
        out, err = second.communicate(timeout=300)
        assert second.returncode == EXIT_BUSY, err
        assert "RUN NON LANCÉ" in err and f"pid {first.pid}" in err and "Traceback" not in err
        assert first.poll() is None, "the first run ended before the second gave up: the test proves nothing"
        verifier = _bilan("verifier", str(BILAN_2025), "--sortie", str(sortie), "--annee", "2025")
        v_out, v_err = verifier.communicate(timeout=300)
        assert verifier.returncode in (0, 1), v_err
        assert "Résumé :" in v_out and "Traceback" not in v_err
        out, err = first.communicate(timeout=900)
        assert first.returncode == 0, err
        assert "Run Dagster" in out and "réussi" in out
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    with verrou_entrepot(sortie / "entrepot.duckdb", 0):  # released at the end
        pass


def test_staging_parses_files_with_no_warehouse_connection_open(tmp_path, monkeypatch):
    """The staging step reads what parsing needs, closes, parses, then opens again to write: the warehouse is
    never held while files are read."""
    from contextlib import contextmanager

    import assets.staging.load as load
    from pipelines.definitions import ALL_ASSETS

    open_connections: list[int] = [0]
    seen_while_parsing: list[int] = []

    class Suivi(WarehouseResource):
        @contextmanager
        def get_connection(self):
            with super().get_connection() as con:
                open_connections[0] += 1
                try:
                    yield con
                finally:
                    open_connections[0] -= 1

    parse = load.read_mapped

    def parse_and_look(*args, **kwargs):
        seen_while_parsing.append(open_connections[0])
        return parse(*args, **kwargs)

    monkeypatch.setattr(load, "read_mapped", parse_and_look)
    parametres = BilanSettings(racine_donnees=str(DEMO_DATA), sortie=str(tmp_path / "sortie"), pdf=False)
    entrepot = Suivi(database=str(parametres.warehouse_path), attente_verrou_s=0)
    parametres.output_dir.mkdir(parents=True)
    keys = {("sources", "programmation"), ("staging", "programmation")}
    result = materialize(ALL_ASSETS, partition_key="2025", instance=DagsterInstance.ephemeral(),
                         selection=[a.key for a in ALL_ASSETS if tuple(a.key.path) in keys],
                         resources={"parametres": parametres, "entrepot": entrepot})
    assert result.success
    assert seen_while_parsing and set(seen_while_parsing) == {0}
    # and the snapshot `bilan verifier` reads was left beside the warehouse
    assert (parametres.snapshot_dir / "programmation.parquet").is_file()
