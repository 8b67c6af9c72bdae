"""Mart checks: a broken mart stops the bilan (blocking check), a warning reaches the bilan."""

from __future__ import annotations

import duckdb
from dagster import AssetKey, DagsterInstance, materialize

from assets.marts import assets as mart_assets
from pipelines.config import PROJECT_ROOT
from pipelines.definitions import ALL_ASSETS
from pipelines.resources import BilanSettings, warehouse

FIXTURES = PROJECT_ROOT / "tests" / "fixtures"


def _materialize(tmp_path, years=(2024, 2025)):
    parametres = BilanSettings(racine_donnees=str(FIXTURES / "marts"), sortie=str(tmp_path))
    instance = DagsterInstance.ephemeral()
    results = [materialize(ALL_ASSETS, partition_key=str(a), instance=instance, raise_on_error=False,
                           resources={"parametres": parametres,
                                      "entrepot": warehouse(parametres.warehouse_path)})
               for a in years]
    return parametres, results


def test_a_broken_mart_stops_the_bilan(tmp_path, monkeypatch):
    original = mart_assets.run_script

    def breaking(con, name, annee=None):
        original(con, name, annee)
        if name == "programmation.sql" and annee == 2025:  # a bug that would double-count shared dossiers
            con.execute("UPDATE marts.programmation SET part_qpv = part_qpv * 2, "
                        "montant_accorde = montant_accorde * 2 WHERE annee = 2025 AND qpv_cibles LIKE '%;%'")

    monkeypatch.setattr(mart_assets, "run_script", breaking)
    parametres, (ok_2024, broken_2025) = _materialize(tmp_path)
    assert ok_2024.success
    failed = {e.check_name for e in broken_2025.get_asset_check_evaluations() if not e.passed}
    assert {"montants_egaux_au_staging", "parts_qpv_completes"} <= failed
    materialized = {e.asset_key for e in broken_2025.get_asset_materialization_events()} \
        if hasattr(broken_2025, "get_asset_materialization_events") else \
        {e.event_specific_data.materialization.asset_key for e in broken_2025.all_events
         if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert AssetKey(["bilan", "bilan"]) not in materialized                 # not published on a broken mart
    assert not (tmp_path / "2025" / "ccco" / "bilan_ccco_2025.html").exists()
    with duckdb.connect(str(parametres.warehouse_path), read_only=True) as con:
        why = con.execute("SELECT controle, detail FROM staging.controles WHERE annee = 2025 AND NOT reussi "
                          "AND bloquant ORDER BY controle").fetchall()
    assert [c for c, _ in why] == ["montants_egaux_au_staging", "parts_qpv_completes"]
    assert "2025-00001" in why[1][1]                                         # names the broken dossier


def test_a_warning_is_shown_in_the_bilan(tmp_path):
    parametres, results = _materialize(tmp_path, years=(2025,))
    assert results[0].success
    warnings = {e.check_name: e for e in results[0].get_asset_check_evaluations() if not e.passed}
    assert set(warnings) == {"couverture_sous_100", "engagements_non_renseignes"}  # fixture: Masny 80 %, Pass Sport
    html = (tmp_path / "2025" / "ccco" / "bilan_ccco_2025.html").read_text(encoding="utf-8")
    assert "Points d'attention des contrôles automatiques" in html
    assert "Bailleur A / QN05936M : 80.0 %" in html
