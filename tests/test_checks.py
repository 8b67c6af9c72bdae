"""Checks of the registry (config/controles.yaml): a broken mart stops the bilan (blocking check), a warning reaches
the bilan."""

from __future__ import annotations

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from assets.marts import marts_assets as mart_assets
from assets.marts.reference_tables import sync_reference_tables
from assets.marts.sql import run_script
from assets.staging.load import ensure_tables
from checks.controles import REGISTRE, TABLES, load_registry, template_fields
from checks.sql import run_check
from core.config.base import PROJECT_ROOT, ConfigurationError
from core.config.projet import ProjectConfig
from core.familles.registry import FAMILIES
from core.resources import BilanSettings, warehouse
from pipelines.definitions import ALL_ASSETS, ALL_CHECKS, GRAPH, WITHOUT_BILAN, defs

FIXTURES = PROJECT_ROOT / "tests" / "fixtures"


def _materialize(tmp_path, years=(2024, 2025)):
    """The fixtures' years, the bilan for the last one only (without PDF: these tests read its HTML or its
    absence)."""
    parametres = BilanSettings(racine_donnees=str(FIXTURES / "marts"), sortie=str(tmp_path), pdf=False)
    instance = DagsterInstance.ephemeral()
    results = [materialize([*ALL_ASSETS, *ALL_CHECKS], partition_key=str(a), instance=instance, raise_on_error=False,
                           selection=None if a == years[-1] else WITHOUT_BILAN,
                           resources={"parametres": parametres,
                                      "entrepot": warehouse(parametres.warehouse_path)})
               for a in years]
    return parametres, results


def test_a_broken_mart_stops_the_bilan(tmp_path, monkeypatch):
    original = mart_assets.run_script

    def breaking(con, name, annee=None, **where):
        original(con, name, annee, **where)
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


def test_a_warning_is_shown_in_the_bilan(marts_run_2025):
    result = marts_run_2025.result
    assert result.success
    warnings = {e.check_name: e for e in result.get_asset_check_evaluations() if not e.passed}
    assert set(warnings) == {"couverture_sous_100", "engagements_non_renseignes"}  # fixture: Masny 80 %, Pass Sport
    html = (marts_run_2025.parametres.output_dir / "2025" / "ccco" / "bilan_ccco_2025.html").read_text(
        encoding="utf-8")
    assert "Points d'attention des contrôles automatiques" in html
    # the check's detail in the reader's words: the QPV's name, a decimal comma
    masny = next(q.nom for q in ProjectConfig().territoire("ccco").qpv if q.code == "QN05936M")
    assert f"Bailleur A / {masny} : 80,0\u00a0%" in html.replace("&#39;", "'")


# --- the registry ---------------------------------------------------------------------------------

VALID = """controles:
  - nom: couverture
    table: marts.tfpb
    gravite: avertissement
    description: "Les contreparties couvrent l'abattement."
    message: "Contreparties sous l'abattement."
    attente:
      type: ExpectColumnValuesToBeBetween
      kwargs: {column: taux_couverture, min_value: 100}
  - nom: jalons
    table: staging.cohortes
    gravite: bloquant
    description: "Les jalons sont ceux du vocabulaire."
    message: "Jalons inconnus dans les cohortes."
    attente:
      type: ExpectColumnValuesToBeInSet
      kwargs: {column: jalon}
      domaine: jalons
"""


def _load(tmp_path, text):
    path = tmp_path / "controles.yaml"
    path.write_text(text, encoding="utf-8")
    return load_registry(path, ProjectConfig().vocabulaire)


def test_a_value_set_comes_from_the_vocabulary(tmp_path):
    vocabulaire = ProjectConfig().vocabulaire
    jalons = _load(tmp_path, VALID).controles[1]
    assert jalons.attente.resolved_kwargs(vocabulaire, 2025)["value_set"] == vocabulaire.codes("jalons")
    assert jalons.actif == "staging/cohortes" and jalons.year_column == "annee_boite"


@pytest.mark.parametrize("change, key, words", [
    (("table: marts.tfpb", "table: marts.tfbp"), "controles.0.table", "inconnue"),
    (("ExpectColumnValuesToBeBetween", "ExpectColumnValuesToBeBetwen"), "controles.0.attente.type",
     "n'est pas un type d'attente"),
    (("nom: jalons", "nom: couverture"), "(racine)", "en double : couverture"),
    (("domaine: jalons", "domaine: etapes"), "controles.1.attente.domaine", "n'est pas un domaine"),
    (("kwargs: {column: jalon}", "kwargs: {column: jalon, value_set: [entree, sortie]}"),
     "controles.1.attente.kwargs", "jamais d'une liste"),
    (("min_value: 100}", "min_valeur: 100}"), "controles.0.attente", "invalide"),
    (("gravite: bloquant", "gravite: grave"), "controles.1.gravite", ""),
    (("nom: jalons", "nom: conservation_des_lignes"), "(racine)", "réservé"),
])
def test_the_registry_is_validated_when_loaded(tmp_path, change, key, words):
    with pytest.raises(ConfigurationError) as err:
        _load(tmp_path, VALID.replace(*change))
    text = str(err.value)
    assert str(tmp_path / "controles.yaml") in text and f"clé `{key}`" in text and words in text, text


def test_a_sql_check_reads_its_year(tmp_path):
    with pytest.raises(ConfigurationError, match=r"controles.0.sql.*\$annee absent"):
        _load(tmp_path, VALID.replace("""    attente:
      type: ExpectColumnValuesToBeBetween
      kwargs: {column: taux_couverture, min_value: 100}""",
            "    sql: SELECT count(*), NULL FROM marts.tfpb WHERE taux_couverture < 100"))


def test_a_sql_check_answers_per_territory(tmp_path):
    # one row per territory it finds a problem in: a query that cannot say whose problem it is, is refused
    with pytest.raises(ConfigurationError, match=r"controles.0.sql.*une ligne par territoire.*territoire absent"):
        _load(tmp_path, VALID.replace("""    attente:
      type: ExpectColumnValuesToBeBetween
      kwargs: {column: taux_couverture, min_value: 100}""",
            "    sql: SELECT count(*), NULL FROM marts.tfpb WHERE annee = $annee AND taux_couverture < 100"))
    # every query of the registry returns (territoire, problemes, detail): run on empty tables, each territory passes
    con = duckdb.connect()
    config = ProjectConfig()
    sync_reference_tables(con, config, list(config.territoires.values()))
    run_script(con, "schema.sql")
    for family in FAMILIES.values():
        ensure_tables(con, family)
    for c in REGISTRE.controles:
        if c.sql is not None:
            assert [(o.territoire, o.problemes) for o in run_check(con, c, 2025, ["ccco"])] == [("ccco", 0)], c.nom


def test_each_mart_table_belongs_to_the_mart_declaring_it():
    for mart in GRAPH.marts:
        assert {t: TABLES[f"marts.{t}"] for t in mart.tables} == {t: f"marts/{mart.name}" for t in mart.tables}
    for family in FAMILIES.values():
        assert all(TABLES[f"staging.{t.name}"] == f"staging/{family.name}" for t in family.tables)


def test_every_column_a_check_names_exists():
    con = duckdb.connect()
    config = ProjectConfig()
    sync_reference_tables(con, config, list(config.territoires.values()))  # schema.sql reads the vocabulary
    run_script(con, "schema.sql")
    columns = {f"marts.{t}": set(con.execute(f"SELECT * FROM marts.{t} LIMIT 0").df().columns)
               for t in {t for m in GRAPH.marts for t in m.tables}}
    columns |= {f"staging.{t.name}": set(t.stored_names) | {"territoire", "annee_boite"}
                for f in FAMILIES.values() for t in f.tables}
    for c in REGISTRE.expectations():
        named = {c.attente.column, *template_fields(c.attente.detail or "")} - {None}
        assert named <= columns[c.table], (c.nom, named - columns[c.table])


def test_each_check_is_one_dagster_check_built_from_the_registry():
    keys = defs.resolve_asset_graph().asset_check_keys
    built = sorted((k.asset_key.to_user_string(), k.name) for k in keys
                   if not k.name.startswith(("conservation_des_lignes", "fichiers_lisibles", "cle_unique_")))
    assert built == sorted((c.actif, c.nom) for c in REGISTRE.controles)
    # a table's unique key is checked from its contract (cle_unique_<table>), never again as an expectation
    assert not [c for c in REGISTRE.expectations() if c.attente.type == "ExpectCompoundColumnsToBeUnique"]
