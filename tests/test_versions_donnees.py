"""Dagster's data versions (issue 32, item 3): a source's version is its files' content, a staging family's and the
publication's the ledger's fingerprint of their inputs. The same files give the same versions, run after run, so
Dagster shows nothing as stale; a changed byte gives its source another version."""

from __future__ import annotations

import os
import shutil

import duckdb
from dagster import AssetKey, DagsterInstance, materialize

from assets.sources import build_source_asset
from core.config.projet import ProjectConfig
from core.familles.registry import build_families
from core.resources import BilanSettings, warehouse
from tests.conftest import DEMO_DATA, TEST_KEY

VERSION = "dagster/data_version"


def _source_version(parametres: BilanSettings, instance) -> str:
    families = build_families(ProjectConfig())
    result = materialize([build_source_asset("engagements", families)], partition_key="2025", instance=instance,
                         resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)})
    (event,) = result.asset_materializations_for_node("sources__engagements")
    return event.tags[VERSION]


def test_a_sources_version_is_its_files_content(tmp_path):
    os.environ["BILAN_CLE_PSEUDONYMISATION"] = TEST_KEY
    shutil.copytree(DEMO_DATA / "inbox", tmp_path / "donnees" / "inbox")
    parametres = BilanSettings(racine_donnees=str(tmp_path / "donnees"), sortie=str(tmp_path / "sortie"), pdf=False)
    instance = DagsterInstance.ephemeral()
    first = _source_version(parametres, instance)
    assert _source_version(parametres, instance) == first                  # read again: the same version
    changed = tmp_path / "donnees" / "inbox" / "ccco" / "2025" / "engagements_2025_caf_du_nord.csv"
    changed.write_bytes(changed.read_bytes() + b"\n")
    assert _source_version(parametres, instance) != first                  # a changed byte: another one
    record = instance.get_latest_materialization_event(AssetKey(["sources", "engagements"]))
    assert record is not None and record.asset_materialization.tags[VERSION] != first


def test_staging_and_publication_versions_are_the_ledgers_fingerprints(demo_run_partage):
    """In the shared demo run, 2025: each staging family's and the publication's data version is the fingerprint
    its step recorded in `journal.calculs`, which the next run with the same inputs finds again."""
    _, run_2025 = demo_run_partage.results
    with duckdb.connect(str(demo_run_partage.parametres.warehouse_path), read_only=True) as con:
        ledger = dict(con.execute("SELECT etape, empreinte FROM journal.calculs WHERE annee = 2025").fetchall())
    versions = {}
    for event in run_2025.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        versions[materialization.asset_key.to_user_string()] = materialization.tags.get(VERSION)
    staging = [k for k in versions if k.startswith("staging/") and k in ledger]
    assert len(staging) >= 6
    for key in [*staging, "publication/tableaux"]:
        assert versions[key] == ledger[key][:24], key
