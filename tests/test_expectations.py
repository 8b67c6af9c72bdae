"""Great Expectations suites run as Dagster checks; Data Docs written per year and usable offline."""

from __future__ import annotations

from dataclasses import replace

import duckdb
from dagster import AssetCheckSeverity, AssetKey, DagsterInstance, materialize
from markupsafe import escape

from assets.marts import marts_assets as mart_assets
from checks.controles import REGISTRE
from core.config.base import PROJECT_ROOT
from core.resources import BilanSettings, warehouse
from pipelines.definitions import ALL_ASSETS, ALL_CHECKS

FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
GE = {c.nom: c for c in REGISTRE.expectations()}


def _run(tmp_path, years=(2025,)):
    # these tests read the bilan's HTML (or its absence), not its PDF
    parametres = BilanSettings(racine_donnees=str(FIXTURES / "marts"), sortie=str(tmp_path), pdf=False)
    instance = DagsterInstance.ephemeral()
    results = [materialize([*ALL_ASSETS, *ALL_CHECKS], partition_key=str(a), instance=instance, raise_on_error=False,
                           resources={"parametres": parametres,
                                      "entrepot": warehouse(parametres.warehouse_path)}) for a in years]
    return parametres, results


def _ge(result) -> dict:
    """The evaluations of the checks built from the registry's Great Expectations expectations, by check name."""
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.check_name in GE}


def test_suites_run_as_checks_and_data_docs_open_offline(marts_run_2025):
    from tools.screenshot import open_all_offline

    parametres, result = marts_run_2025.parametres, marts_run_2025.result
    tmp_path = parametres.output_dir
    assert result.success
    ge = _ge(result)
    assert {e.asset_key.to_user_string() for e in ge.values()} == {
        "staging/programmation", "staging/engagements", "staging/tfpb", "staging/indicateurs", "staging/cohortes",
        "marts/programmation", "marts/tfpb", "marts/indicateurs", "marts/engagements"}
    assert ge["parts_qpv_entre_0_et_1"].passed and ge["identifiants_pseudonymises"].passed
    coverage = ge["couverture_sous_100"]
    assert not coverage.passed and coverage.severity == AssetCheckSeverity.WARN  # Masny at 80 %
    docs = tmp_path / "2025" / "data_docs"
    assert coverage.metadata["data_docs"].value == str(docs / "marts" / "index.html")
    assert ge["identifiants_pseudonymises"].metadata["data_docs"].value == str(
        docs / "staging" / "cohortes" / "index.html")
    for site in ("staging/programmation", "staging/cohortes", "marts"):
        pages = [docs / site / "index.html", *sorted((docs / site / "validations").rglob("*.html"))]
        assert len(pages) >= 2
        for page, opened in zip(pages[:3], open_all_offline(pages[:3], allowed_dir=docs / site), strict=True):
            assert opened["outside"] == [] and opened["errors"] == [], (page, opened)
    with duckdb.connect(str(parametres.warehouse_path), read_only=True) as con:
        message, warning = con.execute("SELECT message, detail FROM staging.controles WHERE annee = 2025 "
                                       "AND actif = 'marts/tfpb' AND controle = 'couverture_sous_100'").fetchone()
    assert message == GE["couverture_sous_100"].message                    # the French message, not GE's name
    assert "Bailleur A / QN05936M : 80.0 %" in warning                      # names the failing bailleur and QPV
    html = (tmp_path / "2025" / "ccco" / "bilan_ccco_2025.html").read_text(encoding="utf-8")
    assert html.count(str(escape(GE["couverture_sous_100"].description))) == 1  # the warning is shown once
    assert "great_expectations" not in html and "expect_column" not in html


def test_an_error_expectation_on_a_mart_blocks_the_bilan(tmp_path, monkeypatch):
    original = mart_assets.run_script

    def breaking(con, name, annee=None, **where):
        original(con, name, annee, **where)
        if name == "programmation.sql":  # shares that still add up to 1 but are out of [0, 1]: only GE sees it
            con.execute("UPDATE marts.programmation SET part_qpv = CASE code_qpv WHEN 'QN05934M' THEN 1.5 ELSE -0.5 "
                        "END WHERE annee = 2025 AND numero_dossier = '2025-00001' AND financeur = 'etat_bop147'")

    monkeypatch.setattr(mart_assets, "run_script", breaking)
    _, (result,) = _run(tmp_path)
    programmation = _ge(result)["parts_qpv_entre_0_et_1"]
    assert not programmation.passed and programmation.severity == AssetCheckSeverity.ERROR
    assert "part_qpv" in programmation.metadata["attente"].value
    materialized = {e.event_specific_data.materialization.asset_key for e in result.all_events
                    if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert AssetKey(["bilan", "bilan"]) not in materialized


def test_an_error_expectation_on_a_staging_table_blocks_what_reads_it(tmp_path, monkeypatch):
    from checks import expectations

    original = expectations.suites

    def stricter(vocabulaire, annee, *registre):  # a rule the fixture breaks: no commitment above 100 units
        out = original(vocabulaire, annee, *registre)
        suite = out["staging.engagements"]
        out["staging.engagements"] = replace(suite, expects=[
            replace(e, kwargs={**e.kwargs, "max_value": 100}) if e.controle.nom == "valeurs_realisees_positives" else e
            for e in suite.expects])
        return out

    monkeypatch.setattr(expectations, "suites", stricter)
    _, (result,) = _run(tmp_path)
    engagements = _ge(result)["valeurs_realisees_positives"]
    assert not engagements.passed and engagements.severity == AssetCheckSeverity.ERROR
    materialized = {e.event_specific_data.materialization.asset_key for e in result.all_events
                    if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert AssetKey(["marts", "engagements"]) not in materialized and AssetKey(["marts", "tfpb"]) in materialized
