"""Only this territory's data (issue 11, item 5): another territory's indicator rows are never published as this
one's, and every check outcome belongs to one territory — its warnings reach its own bilan only, and its blocking
failure holds back its own bilan only. Two territories, one broken: the other is published."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from dagster import AssetCheckSeverity, AssetKey, DagsterInstance, materialize

from assets.marts import marts_assets as mart_assets
from assets.marts.reference_tables import sync_reference_tables
from assets.marts.sql import run_script
from assets.staging.load import ensure_tables
from checks.controles import REGISTRE
from checks.outcomes import blocking_failures
from checks.sql import run_check
from core.config.base import PROJECT_ROOT
from core.config.projet import ProjectConfig
from core.familles.registry import FAMILIES
from core.resources import BilanSettings, warehouse
from pipelines.definitions import ALL_ASSETS, ALL_CHECKS

FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
OTHER_SIREN = "200041234"


# --- the mart takes the contract's own value only --------------------------------------------------------------


def _indicator_warehouse(rows: list[dict]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    config = ProjectConfig()
    sync_reference_tables(con, config, [config.territoire("ccco")])
    run_script(con, "schema.sql")
    ensure_tables(con, FAMILIES["indicateurs"])
    base = {"territoire": "ccco", "annee_boite": 2025, "code_indicateur": "taux_pauvrete", "millesime": 2020,
            "unite": "pourcentage", "source": "INSEE", "fichier": "indicateurs.csv", "ligne": 2}
    frame = pd.DataFrame([{**base, **r, "ligne": i + 2} for i, r in enumerate(rows)])
    con.register("_rows", frame)
    con.execute("INSERT INTO staging.indicateurs BY NAME SELECT * FROM _rows")
    run_script(con, "indicateurs.sql", 2025)
    return con


def test_the_contract_value_is_its_own_siren_s_row_only():
    con = _indicator_warehouse([
        {"niveau_geo": "qpv_epci", "code_geo": OTHER_SIREN, "valeur": 12.0},        # another contract's QPV
        {"niveau_geo": "epci", "code_geo": OTHER_SIREN, "valeur": 10.0},
        {"niveau_geo": "qpv", "code_geo": "QN05934M", "valeur": 40.0},
    ])
    rows = con.execute("SELECT perimetre, valeur, valeur_epci FROM marts.indicateurs WHERE annee = 2025 "
                       "ORDER BY perimetre").fetchall()
    assert rows == [("QN05934M", 40.0, None)]          # no territory value taken from another SIREN
    con = _indicator_warehouse([
        {"niveau_geo": "qpv_epci", "code_geo": OTHER_SIREN, "valeur": 12.0, "millesime": 2021},
        {"niveau_geo": "qpv_epci", "code_geo": "245901152", "valeur": 33.0},
    ])
    assert con.execute("SELECT millesime, valeur FROM marts.indicateurs WHERE annee = 2025 "
                       "AND perimetre = 'territoire'").fetchall() == [(2020, 33.0)]


# --- a check about every territory at once: one row per territory -----------------------------------------------


def test_a_sql_check_over_every_territory_gives_one_outcome_per_territory():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts; CREATE SCHEMA staging")
    con.execute("CREATE TABLE marts.programmation (territoire VARCHAR, annee INTEGER, montant_accorde DOUBLE)")
    con.execute("CREATE TABLE staging.programmation (territoire VARCHAR, annee INTEGER, montant_accorde DOUBLE)")
    con.execute("INSERT INTO marts.programmation VALUES ('ccco', 2025, 2000), ('autre', 2025, 500)")
    con.execute("INSERT INTO staging.programmation VALUES ('ccco', 2025, 1000), ('autre', 2025, 500)")
    check = next(c for c in REGISTRE.controles if c.nom == "montants_egaux_au_staging")
    outcomes = {o.territoire: o for o in run_check(con, check, 2025, ["ccco", "autre", "troisieme"])}
    assert {t: o.problemes for t, o in outcomes.items()} == {"ccco": 1, "autre": 0, "troisieme": 0}
    assert outcomes["ccco"].detail == "mart 2000.0 € / staging 1000.0 €"


def test_a_sql_check_must_return_its_territory():
    con = duckdb.connect()
    check = next(c for c in REGISTRE.controles if c.nom == "montants_egaux_au_staging")
    broken = check.model_copy(update={"sql": "SELECT 1 AS problemes, 'x' AS detail -- territoire, $annee"})
    with pytest.raises(ValueError, match="montants_egaux_au_staging.*au lieu de \\(territoire, problemes, detail\\)"):
        run_check(con, broken, 2025, ["ccco"])


# --- two territories, one broken ------------------------------------------------------------------------------


def _two_territories(tmp_path: Path) -> BilanSettings:
    """The project's configuration plus a second territory `autre` (another SIREN), both with the fixture inbox of
    the marts tests; `autre` has no TFPB files, so the TFPB coverage warning is ccco's alone."""
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
    local = settings["geographie_reference"].get("fichier_local")
    if local and not Path(local).is_absolute():
        settings["geographie_reference"]["fichier_local"] = str((PROJECT_ROOT / local).resolve())
        (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    text = (config / "territoires" / "ccco.yaml").read_text(encoding="utf-8")
    assert text.count("code: ccco") == 1 and text.count('siren_epci: "245901152"') == 1
    (config / "territoires" / "autre.yaml").write_text(
        text.replace("code: ccco", "code: autre").replace('siren_epci: "245901152"', f'siren_epci: "{OTHER_SIREN}"')
        .replace("nom_court: CCCO", "nom_court: AUTRE"), encoding="utf-8")
    inbox = tmp_path / "donnees" / "inbox"
    shutil.copytree(FIXTURES / "marts" / "inbox" / "ccco" / "2025", inbox / "ccco" / "2025")
    shutil.copytree(FIXTURES / "marts" / "inbox" / "ccco" / "2025", inbox / "autre" / "2025",
                    ignore=shutil.ignore_patterns("tfpb_*"))
    return BilanSettings(racine_donnees=str(tmp_path / "donnees"), sortie=str(tmp_path / "sortie"),
                         dossier_config=str(config), pdf=False)


def test_one_territory_broken_the_other_is_published_with_its_own_warnings_only(tmp_path, monkeypatch):
    original = mart_assets.run_script

    def breaking(con, name, annee=None, **where):
        original(con, name, annee, **where)
        if name == "programmation.sql":  # a bug that double-counts ccco's shared dossiers, and only ccco's
            con.execute("UPDATE marts.programmation SET part_qpv = part_qpv * 2, montant_accorde = montant_accorde * 2 "
                        "WHERE annee = 2025 AND territoire = 'ccco' AND qpv_cibles LIKE '%;%'")

    monkeypatch.setattr(mart_assets, "run_script", breaking)
    parametres = _two_territories(tmp_path)
    result = materialize([*ALL_ASSETS, *ALL_CHECKS], partition_key="2025", instance=DagsterInstance.ephemeral(),
                         raise_on_error=False,
                         resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)})
    assert result.success

    # the check names the territory it fails for; a failure that leaves a territory to publish does not stop
    # the graph
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    broken = evaluations["montants_egaux_au_staging"]
    assert not broken.passed and broken.severity == AssetCheckSeverity.WARN
    assert broken.metadata["territoires_en_echec"].value == "ccco"
    assert broken.metadata["bilans_retenus"].value == "ccco"
    assert evaluations["couverture_sous_100"].metadata["territoires_en_echec"].value == "ccco"

    sortie = tmp_path / "sortie" / "2025"
    assert (sortie / "autre" / "bilan_autre_2025.html").is_file()
    assert not (sortie / "ccco").exists()                                     # held back: its mart is broken
    bilan = next(e.event_specific_data.materialization for e in result.all_events
                 if e.event_type_value == "ASSET_MATERIALIZATION"
                 and e.event_specific_data.materialization.asset_key == AssetKey(["bilan", "bilan"]))
    assert bilan.metadata["autre/statut"].value == "publié"
    assert bilan.metadata["ccco/statut"].value.startswith("non publié : contrôle(s) bloquant(s) en échec")
    assert "montants_egaux_au_staging" in bilan.metadata["ccco/statut"].value

    with duckdb.connect(str(parametres.warehouse_path), read_only=True) as con:
        rows = con.execute("SELECT controle, territoire, reussi FROM staging.controles WHERE annee = 2025 "
                           "AND controle IN ('montants_egaux_au_staging', 'couverture_sous_100', "
                           "'conservation_des_lignes') ORDER BY ALL").fetchall()
        assert con.execute("SELECT count(*) FROM staging.controles WHERE territoire IS NULL").fetchone()[0] == 0
        assert blocking_failures(con, "autre", 2025) == []
        assert [c for c, _, _ in blocking_failures(con, "ccco", 2025)] == [
            "montants_egaux_au_staging", "parts_qpv_completes", "parts_qpv_entre_0_et_1"]
    assert ("montants_egaux_au_staging", "autre", True) in rows and ("montants_egaux_au_staging", "ccco", False) in rows
    assert ("couverture_sous_100", "autre", True) in rows and ("couverture_sous_100", "ccco", False) in rows
    assert {t for c, t, _ in rows if c == "conservation_des_lignes"} == {"autre", "ccco"}

    # the published bilan shows its own warnings, never ccco's
    html = (sortie / "autre" / "bilan_autre_2025.html").read_text(encoding="utf-8")
    assert "Points d'attention des contrôles automatiques" in html
    assert "Bailleur A / QN05936M : 80.0 %" not in html                        # ccco's TFPB warning
    own = next(c for c in REGISTRE.controles if c.nom == "engagements_non_renseignes")
    assert own.message in html                                               # its own: Pass Sport not reported


def test_when_every_territory_is_held_back_the_bilan_says_so(tmp_path):
    # two territories, each failing a different blocking check: neither check stops the graph alone, the bilan
    # publishes nothing and fails with the reason of each
    from checks.outcomes import Constat, Verification, record

    parametres = _two_territories(tmp_path)
    parametres.warehouse_path.parent.mkdir(parents=True)
    with duckdb.connect(str(parametres.warehouse_path)) as con:
        failing = {"montants_egaux_au_staging": "ccco", "parts_qpv_completes": "autre"}
        record(con, 2025, "marts/programmation",
               [(Verification(nom, True, "contrôle bloquant de test", "constat de test"),
                 [Constat(t, int(t == broken), "détail") for t in ("ccco", "autre")])
                for nom, broken in failing.items()], "run", list(failing))
    result = materialize(ALL_ASSETS, selection=[AssetKey(["bilan", "bilan"])], partition_key="2025",
                         instance=DagsterInstance.ephemeral(), raise_on_error=False,
                         resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)})
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.message
    assert "Aucun bilan 2025 publié" in message
    assert "ccco : montants_egaux_au_staging" in message and "autre : parts_qpv_completes" in message
    assert not (tmp_path / "sortie" / "2025").exists()
