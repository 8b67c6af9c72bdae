"""The COPIL receives a bilan once per content: the pipeline run twice on the same inbox, with real rendering, sends
once; one changed input row makes a new content, sent again."""

from __future__ import annotations

import shutil

import duckdb
import yaml
from dagster import AssetKey, DagsterInstance, materialize

from core.config.base import PROJECT_ROOT
from core.resources import BilanSettings, warehouse
from pipelines.definitions import ALL_ASSETS
from tests.conftest import DEMO_DATA, copy_of

BILAN = [AssetKey(["bilan", "bilan"]), AssetKey(["bilan", "diffusion"])]


def _deliveries(sortie) -> list[tuple]:
    with duckdb.connect(str(sortie / "entrepot.duckdb"), read_only=True) as con:
        return con.execute("SELECT canal, empreinte_contenu, run_id FROM publication.diffusions ORDER BY envoye_le"
                           ).fetchall()


def test_one_send_per_content_over_real_runs(demo_run_partage, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    territoire = yaml.safe_load((config / "territoires" / "ccco.yaml").read_text(encoding="utf-8"))
    territoire["diffusion"] = {"dossier_partage": str(tmp_path / "partage")}
    (config / "territoires" / "ccco.yaml").write_text(yaml.safe_dump(territoire, allow_unicode=True), encoding="utf-8")
    sortie = copy_of(demo_run_partage, tmp_path / "sortie")
    donnees = tmp_path / "donnees"
    shutil.copytree(DEMO_DATA, donnees)

    def run(selection=None):
        parametres = BilanSettings(racine_donnees=str(donnees), sortie=str(sortie), dossier_config=str(config),
                                   pdf=False)
        result = materialize(ALL_ASSETS, selection=selection, partition_key="2025",
                             instance=DagsterInstance.ephemeral(),
                             tags={"bilan/diffuser": "oui"},
                             resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)})
        assert result.success
        return result

    first = run(BILAN)
    assert len(_deliveries(sortie)) == 1
    published = {p: p.stat().st_mtime_ns for p in (sortie / "2025" / "ccco").rglob("*") if p.is_file()}
    for _ in range(3):            # the whole graph again, same inbox, same code: nothing rendered, nothing sent
        again = run()
        bilan = again.asset_materializations_for_node("bilan__bilan")[0].metadata
        assert bilan["ccco/rendu"].value.startswith("inchangé") and len(_deliveries(sortie)) == 1
        # published from the same tables: not even sent to a render batch
        assert bilan["lots_rendus"].value == 0 and first.run_id != again.run_id
    assert {p: p.stat().st_mtime_ns for p in (sortie / "2025" / "ccco").rglob("*") if p.is_file()} == published

    caf = donnees / "inbox" / "ccco" / "2025" / "engagements_2025_caf_du_nord.csv"
    before = caf.read_bytes()
    after = before.replace(b"places AVIP ouvertes;nombre;10;8;", b"places AVIP ouvertes;nombre;10;9;", 1)
    assert after != before
    caf.write_bytes(after)                                # one partner row changes: the bilan's content changes
    run()
    deliveries = _deliveries(sortie)
    assert len(deliveries) == 2 and deliveries[0][1] != deliveries[1][1]
