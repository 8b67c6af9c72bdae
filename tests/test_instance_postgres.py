"""The production instance: Dagster's run, event and schedule storage in a throwaway PostgreSQL 15 cluster started
on loopback by the test; a partitioned run is executed against it and read back."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus, materialize

from core.config.base import PROJECT_ROOT
from core.resources import BilanSettings, warehouse
from pipelines.definitions import ALL_ASSETS


def _as_cluster_owner(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the `postgres` system user when we are root."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture
def postgres():
    (bindir,) = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1:]
    # directly under /tmp: pytest's own temp folders are private to root, where `postgres` cannot reach
    base = Path(tempfile.mkdtemp(prefix="bilan-pg-"))
    data, sockets = base / "data", base / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(_as_cluster_owner([f"{bindir}/initdb", "-D", str(data), "-U", "bilan", "--auth=trust",
                                      "-E", "UTF8"]), check=True, capture_output=True)
    subprocess.run(_as_cluster_owner([f"{bindir}/pg_ctl", "-D", str(data), "-w", "-l", str(base / "log"), "-o",
                                      f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1", "start"]),
                   check=True, capture_output=True)
    try:
        subprocess.run([f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "bilan", "dagster"],
                       check=True, capture_output=True)
        yield {"BILAN_PG_HOTE": "127.0.0.1", "BILAN_PG_PORT": str(port), "BILAN_PG_UTILISATEUR": "bilan",
               "BILAN_PG_MOT_DE_PASSE": "", "BILAN_PG_BASE": "dagster"}
    finally:
        subprocess.run(_as_cluster_owner([f"{bindir}/pg_ctl", "-D", str(data), "-m", "fast", "stop"]),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_partitioned_run_stored_in_postgres_and_read_back(tmp_path, postgres, monkeypatch):
    for key, value in postgres.items():
        monkeypatch.setenv(key, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "deploiement" / "dagster.postgres.yaml", home / "dagster.yaml")
    instance = DagsterInstance.from_config(str(home))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        parametres = BilanSettings(racine_donnees=str(PROJECT_ROOT / "tests" / "fixtures" / "marts"),
                                   sortie=str(tmp_path / "sortie"))
        selection = [AssetKey(["sources", "programmation"]), AssetKey(["staging", "programmation"])]
        result = materialize(ALL_ASSETS, selection=selection, partition_key="2025", instance=instance,
                             resources={"parametres": parametres,
                                        "entrepot": warehouse(parametres.warehouse_path)})
        assert result.success
    finally:
        instance.dispose()

    again = DagsterInstance.from_config(str(home))   # a new connection reads what the run stored
    try:
        (run,) = again.get_runs()
        assert run.run_id == result.run_id and run.status == DagsterRunStatus.SUCCESS
        assert run.tags["dagster/partition"] == "2025"
        event = again.get_latest_materialization_event(AssetKey(["staging", "programmation"]))
        assert event.asset_materialization.partition == "2025"
        assert event.asset_materialization.metadata["lignes_lues"].value == 7
    finally:
        again.dispose()
