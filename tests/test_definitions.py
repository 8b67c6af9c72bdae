"""The Definitions load, and the graph reads as the data's path: every asset described, grouped and owned."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
from dagster import AssetKey

from core.config.projet import ProjectConfig
from pipelines.definitions import defs


def test_graph_shape():
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    families = ["programmation", "bilans_actions", "engagements", "tfpb", "indicateurs", "cohortes"]
    for f in families:
        assert AssetKey(["sources", f]) in keys and AssetKey(["staging", f]) in keys
        assert AssetKey(["sources", f]) in graph.get(AssetKey(["staging", f])).parent_keys
        assert AssetKey(["staging", f]) in graph.get(AssetKey(["staging", "rapport_qualite"])).parent_keys
    # cross-family rules read the programmation: it is upstream of the families that refer to it
    assert AssetKey(["staging", "programmation"]) in graph.get(AssetKey(["staging", "bilans_actions"])).parent_keys
    assert AssetKey(["staging", "programmation"]) in graph.get(AssetKey(["staging", "cohortes"])).parent_keys
    # every mart feeds the measures, which feed the referential
    for mart in ("programmation", "bilans_actions", "engagements", "tfpb", "indicateurs"):
        assert AssetKey(["marts", mart]) in graph.get(AssetKey(["referentiel", "mesures"])).parent_keys
    assert AssetKey(["referentiel", "mesures"]) in graph.get(AssetKey(["referentiel", "referentiel"])).parent_keys
    # every mart reaches the bilan
    bilan_ancestors = graph.upstream_key_iterator(AssetKey(["bilan", "bilan"]))
    ancestors = set(bilan_ancestors)
    for key in keys:
        if key.path[0] in ("marts", "staging", "sources", "referentiel", "publication"):
            assert key in ancestors or key.path[-1] == "retours_partenaires", key
    for key in keys:
        node = graph.get(key)
        assert node.description and len(node.description) > 40, key
        assert node.group_name in {"sources", "staging", "marts", "cohortes", "referentiel", "publication",
                                   "bilan"}, key
        assert node.owners, key
        assert node.partitions_def is not None, key


def test_every_staging_asset_has_its_checks():
    checks = {c.name for spec in defs.resolve_asset_graph().asset_check_keys for c in [spec]}
    assert {"conservation_des_lignes", "fichiers_lisibles", "bilans_de_dossiers_connus",
            "actions_sur_patrimoine_declare", "cohortes_de_cpo_connues"} <= checks


def test_tables_carry_their_schema_and_marts_their_column_lineage():
    from assets.marts.marts_assets import DIRECT_COLUMNS, column_lineage

    graph = defs.resolve_asset_graph()
    for family in ("programmation", "engagements", "tfpb", "indicateurs", "cohortes", "bilans_actions"):
        schema = graph.get(AssetKey(["staging", family])).metadata["dagster/column_schema"]
        assert len(schema.columns) > 8
    lineage = column_lineage("programmation")
    dep = lineage.deps_by_column["montant_accorde"][0]
    assert dep.asset_key == AssetKey(["staging", "programmation"]) and dep.column_name == "montant_accorde"
    assert set(DIRECT_COLUMNS) == {"programmation", "tfpb", "engagements", "indicateurs", "bilans_actions"}


def test_dagster_asset_materialize_runs_on_a_fresh_instance(tmp_path):
    """`dagster asset materialize` (and the UI outside the yearly job) uses the Definitions' default executor:
    in-process, so steps never fight over the DuckDB writer lock."""
    root = Path(__file__).resolve().parent.parent
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(root / "deploiement" / "dagster.sqlite.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "BILAN_SORTIE": str(tmp_path / "sortie")}
    dagster = Path(sys.executable).parent / "dagster"
    done = subprocess.run([str(dagster), "asset", "materialize", "-m", "pipelines.definitions",
                           "--select", "group:sources", "--partition", "2025"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with duckdb.connect(str(tmp_path / "sortie" / "entrepot.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT DISTINCT famille FROM archive.depots WHERE annee = 2025").fetchall()
    families = {r[0] for r in rows}
    assert families == set(ProjectConfig().vocabulaire.codes("familles"))
