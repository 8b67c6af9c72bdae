"""Great Expectations suites run as Dagster checks; Data Docs written per year and usable offline."""

from __future__ import annotations

import duckdb
from dagster import AssetCheckSeverity, AssetKey, DagsterInstance, materialize

from assets.marts import assets as mart_assets
from pipelines.config import PROJECT_ROOT
from pipelines.definitions import ALL_ASSETS, ALL_CHECKS
from pipelines.resources import BilanSettings, warehouse

FIXTURES = PROJECT_ROOT / "tests" / "fixtures"


def _run(tmp_path, years=(2025,)):
    parametres = BilanSettings(racine_donnees=str(FIXTURES / "marts"), sortie=str(tmp_path))
    instance = DagsterInstance.ephemeral()
    results = [materialize([*ALL_ASSETS, *ALL_CHECKS], partition_key=str(a), instance=instance, raise_on_error=False,
                           resources={"parametres": parametres,
                                      "entrepot": warehouse(parametres.warehouse_path)}) for a in years]
    return parametres, results


def test_suites_run_as_checks_and_data_docs_open_offline(tmp_path):
    from tools.screenshot import open_offline

    parametres, (result,) = _run(tmp_path)
    assert result.success
    ge = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()
          if e.check_name == "great_expectations"}
    assert set(ge) == {"staging/programmation", "staging/engagements", "staging/tfpb", "staging/indicateurs",
                       "staging/cohortes", "marts/programmation", "marts/tfpb", "marts/indicateurs",
                       "marts/engagements"}
    assert ge["marts/programmation"].passed and ge["staging/cohortes"].passed
    assert not ge["marts/tfpb"].passed and ge["marts/tfpb"].severity == AssetCheckSeverity.WARN  # Masny at 80 %
    docs = tmp_path / "2025" / "data_docs"
    assert ge["marts/tfpb"].metadata["data_docs"].value == str(docs / "marts" / "index.html")
    assert ge["staging/cohortes"].metadata["data_docs"].value == str(docs / "staging" / "cohortes" / "index.html")
    for site in ("staging/programmation", "staging/cohortes", "marts"):
        pages = [docs / site / "index.html", *sorted((docs / site / "validations").rglob("*.html"))]
        assert len(pages) >= 2
        for page in pages[:3]:
            opened = open_offline(page, allowed_dir=docs / site)
            assert opened["outside"] == [] and opened["errors"] == [], (page, opened)
    with duckdb.connect(str(parametres.warehouse_path), read_only=True) as con:
        warning = con.execute("SELECT detail FROM staging.controles WHERE annee = 2025 AND actif = 'marts/tfpb' "
                              "AND controle = 'great_expectations'").fetchone()[0]
    assert "taux_couverture" in warning
    html = (tmp_path / "2025" / "ccco" / "bilan_ccco_2025.html").read_text(encoding="utf-8")
    assert "great_expectations" in html                                   # the warning is shown in the bilan


def test_an_error_expectation_on_a_mart_blocks_the_bilan(tmp_path, monkeypatch):
    original = mart_assets.run_script

    def breaking(con, name, annee=None):
        original(con, name, annee)
        if name == "programmation.sql":  # shares that still add up to 1 but are out of [0, 1]: only GE sees it
            con.execute("UPDATE marts.programmation SET part_qpv = CASE code_qpv WHEN 'QN05934M' THEN 1.5 ELSE -0.5 "
                        "END WHERE annee = 2025 AND numero_dossier = '2025-00001' AND financeur = 'etat_bop147'")

    monkeypatch.setattr(mart_assets, "run_script", breaking)
    _, (result,) = _run(tmp_path)
    ge = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()
          if e.check_name == "great_expectations"}
    programmation = ge["marts/programmation"]
    assert not programmation.passed and programmation.severity == AssetCheckSeverity.ERROR
    assert "part_qpv" in programmation.metadata["erreurs"].value
    materialized = {e.event_specific_data.materialization.asset_key for e in result.all_events
                    if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert AssetKey(["bilan", "bilan"]) not in materialized


def test_an_error_expectation_on_a_staging_table_blocks_what_reads_it(tmp_path, monkeypatch):
    from checks import expectations

    original = expectations.suites

    def stricter(con, annee):  # a rule the fixture breaks: no commitment above 100 units
        out = original(con, annee)
        key, sql, expects = out["staging.engagements"]
        out["staging.engagements"] = (key, sql, [*expects, expectations.Expect(
            "ExpectColumnValuesToBeBetween", {"column": "valeur_realisee", "max_value": 100})])
        return out

    monkeypatch.setattr(expectations, "suites", stricter)
    _, (result,) = _run(tmp_path)
    ge = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()
          if e.check_name == "great_expectations"}
    assert not ge["staging/engagements"].passed and ge["staging/engagements"].severity == AssetCheckSeverity.ERROR
    materialized = {e.event_specific_data.materialization.asset_key for e in result.all_events
                    if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert AssetKey(["marts", "engagements"]) not in materialized and AssetKey(["marts", "tfpb"]) in materialized
