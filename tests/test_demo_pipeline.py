"""End to end, in-process: the committed demo inbox for 2024 and 2025 through sources and staging."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import AssetCheckSeverity, DagsterInstance, materialize

from core.config.base import PROJECT_ROOT
from core.resources import BilanSettings, warehouse
from pipelines.definitions import ALL_ASSETS, WITHOUT_BILAN  # the bilan has its own tests
from tests.conftest import copy_of

DEMO = PROJECT_ROOT / "data" / "demo"
TABLES = ["programmation", "bilans_actions", "engagements", "tfpb_patrimoine", "tfpb_actions", "indicateurs",
          "cohortes"]



def _run(sortie: Path, instance) -> list:
    parametres = BilanSettings(racine_donnees=str(DEMO), sortie=str(sortie))
    results = []
    for annee in ("2024", "2025"):
        result = materialize(ALL_ASSETS, partition_key=annee, instance=instance, selection=WITHOUT_BILAN,
                             resources={"parametres": parametres,
                                        "entrepot": warehouse(parametres.warehouse_path)})
        assert result.success
        results.append(result)
    return results


def _snapshot(path: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as con:
        out = {t: con.execute(f"SELECT * EXCLUDE (run_id) FROM staging.{t} ORDER BY ALL").df() for t in TABLES}
        out["quarantine"] = con.execute("SELECT * EXCLUDE (run_id) FROM quarantine.lignes ORDER BY ALL").df()
        out["mesures"] = con.execute("SELECT * FROM referentiel.mesures ORDER BY ALL").df()
        out["referentiel"] = con.execute("SELECT * EXCLUDE (valeur, ecart_cible, valeur_precedente) "
                                         "FROM referentiel.indicateurs ORDER BY ALL").df()
    return out


@pytest.fixture(scope="module")
def demo_run(demo_run_partage, demo_run_second, tmp_path_factory):
    """The shared demo run (first), the same pipeline again on a copy of its output (second), and a fresh run."""
    first = demo_run_partage.results
    snapshot = _snapshot(demo_run_partage.sortie / "entrepot.duckdb")
    again = copy_of(demo_run_partage, tmp_path_factory.mktemp("demo_relance") / "sortie")
    instance = DagsterInstance.ephemeral()
    second = _run(again, instance)
    return again, first, second, snapshot, _snapshot(demo_run_second.sortie / "entrepot.duckdb")


def test_every_check_passes_and_no_row_is_lost(demo_run):
    sortie, first, second, _, _ = demo_run
    for result in first + second:
        evaluations = result.get_asset_check_evaluations()
        assert len(evaluations) >= 6 * 3
        failed = [(e.asset_key.to_user_string(), e.check_name) for e in evaluations
                  if not e.passed and e.severity == AssetCheckSeverity.ERROR]
        assert failed == []
        warnings = {e.check_name for e in evaluations if not e.passed}
        assert warnings <= {"couverture_sous_100", "engagements_non_renseignes", "sauts_entre_millesimes"}
    with duckdb.connect(str(sortie / "entrepot.duckdb"), read_only=True) as con:
        read, kept, quarantined = con.execute(
            "SELECT sum(lignes_lues), sum(lignes_retenues), sum(lignes_quarantaine) FROM staging.qualite_fichiers"
        ).fetchone()
        clean = sum(con.execute(f"SELECT count(*) FROM staging.{t}").fetchone()[0] for t in TABLES)
        in_quarantine = con.execute("SELECT count(*) FROM quarantine.lignes").fetchone()[0]
    assert read == kept + quarantined == clean + in_quarantine
    assert read > 1000  # the demo has the volume of a real EPCI


def test_purposely_broken_rows_are_all_in_quarantine_for_their_reason(demo_run):
    sortie = demo_run[0]
    with open(DEMO / "erreurs_attendues.csv", encoding="utf-8") as handle:
        expected = {(int(r["annee"]), r["fichier"], int(r["ligne"]), r["colonne"], r["regle"])
                    for r in csv.DictReader(handle)}
    with duckdb.connect(str(sortie / "entrepot.duckdb"), read_only=True) as con:
        found = {(a, f, n, (s + "." + c) if s else c, r) for a, f, n, s, c, r in con.execute(
            "SELECT annee_boite, fichier, ligne, feuille, colonne, regle FROM quarantine.erreurs "
            "WHERE gravite = 'erreur'").fetchall()}
        quarantined = set(con.execute("SELECT annee_boite, fichier, ligne FROM quarantine.lignes").fetchall())
    assert expected <= found, expected - found
    assert quarantined == {(a, f, n) for a, f, n, _, _ in expected}  # and nothing else is refused
    assert len(expected) >= 20


def test_demo_outputs_for_data_stewards(demo_run):
    sortie = demo_run[0]
    quality = pd.read_csv(sortie / "2025" / "qualite_fichiers.csv", sep=";", encoding="utf-8-sig")
    errors = pd.read_csv(sortie / "2025" / "quarantaine.csv", sep=";", encoding="utf-8-sig")
    assert set(quality["famille"]) == {"programmation", "bilans_actions", "engagements", "tfpb", "indicateurs",
                                       "cohortes"}
    assert (quality["statut"] == "accepte").all()
    assert {"fichier", "ligne", "colonne", "regle", "message"} <= set(errors.columns) and len(errors) >= 10
    cohort_files = quality[quality["famille"] == "cohortes"]
    assert cohort_files["colonnes_supprimees"].fillna("").str.contains("Téléphone").any()


def test_second_run_reads_nothing_new_and_gives_identical_tables(demo_run):
    """The relaunch's files are those already staged: each family's year is taken as the first run left it (its
    rows keep that run's id), nothing is read or validated again, and no file gets a new archived version. The one
    exception is honest: in 2024, the families whose rules read the programming (`depend_de`) are validated again,
    since the programming known has grown by 2025's since the first run staged them."""
    from core.familles.registry import FAMILIES

    sortie, first, second, snapshot, _ = demo_run
    families = [k.path[1] for a in ALL_ASSETS for k in a.keys if k.path[0] == "staging"
                and k.path[1] not in ("rapport_qualite", "retours_partenaires")]
    assert len(families) == 6
    revalidated = {f for f in families if "programmation" in FAMILIES[f].depends_on}
    assert revalidated == {"bilans_actions", "cohortes"}
    for annee, before, again in zip((2024, 2025), first, second, strict=True):
        for step in [f"staging__{family}" for family in families] + ["marts__mesures_rejets"]:
            said = again.asset_materializations_for_node(step)[0].metadata["calcul"].value
            expected = ("exécuté" if annee == 2024 and step.removeprefix("staging__") in revalidated | {
                "marts__mesures_rejets"} else f"repris du run {before.run_id} (mêmes entrées, même code)")
            assert said == expected, (annee, step)
    with duckdb.connect(str(sortie / "entrepot.duckdb"), read_only=True) as con:
        runs = dict(con.execute("SELECT famille || '/' || annee_boite, list(DISTINCT run_id) "
                                "FROM staging.qualite_fichiers GROUP BY ALL").fetchall())
        versions = con.execute("SELECT max(version), count(*) FILTER (WHERE NOT actif) FROM archive.depots").fetchone()
    assert runs == {f"{f}/{annee}": [(again if annee == 2024 and f in revalidated else before).run_id]
                    for f in families for annee, before, again in zip((2024, 2025), first, second, strict=True)}
    assert versions == (1, 0)
    again = _snapshot(sortie / "entrepot.duckdb")
    for name, frame in snapshot.items():
        pd.testing.assert_frame_equal(frame, again[name], check_dtype=True, rtol=1e-12), name


def test_a_run_on_the_same_inputs_takes_the_published_tables_as_they_are(demo_run, tmp_path):
    """The relaunch read nothing new: the secrecy audit is not run again, the tables stay those of the first run;
    the fingerprint of the publication's inputs moves with any row of them."""
    from assets.publication import reprise

    sortie, first, second, _, _ = demo_run
    for before, again in zip(first, second, strict=True):
        computed = before.asset_materializations_for_node("publication__tableaux")[0].metadata["calcul"].value
        reused = again.asset_materializations_for_node("publication__tableaux")[0].metadata["calcul"].value
        assert computed == "exécuté" and reused == f"repris du run {before.run_id} (mêmes entrées, même code)"
    copy = tmp_path / "entrepot.duckdb"   # the module's tests share this warehouse: a row is changed on a copy
    shutil.copy(sortie / "entrepot.duckdb", copy)
    with duckdb.connect(str(copy)) as con:
        fingerprint = reprise.inputs_fingerprint(con, 2025, {"seuil_effectif": 5}, "code")
        assert reprise.inputs_fingerprint(con, 2024, {"seuil_effectif": 5}, "code") != fingerprint
        assert reprise.inputs_fingerprint(con, 2025, {"seuil_effectif": 5}, "code") == fingerprint
        assert reprise.inputs_fingerprint(con, 2025, {"seuil_effectif": 11}, "code") != fingerprint
        assert reprise.inputs_fingerprint(con, 2025, {"seuil_effectif": 5}, "autre code") != fingerprint
        con.execute("UPDATE marts.programmation SET montant_accorde = montant_accorde + 1 WHERE rowid = "
                    "(SELECT min(rowid) FROM marts.programmation)")
        assert reprise.inputs_fingerprint(con, 2025, {"seuil_effectif": 5}, "code") != fingerprint
        # what the rejected rows would have changed is computed again when one staged row of the year changes
        from assets.marts import rejets
        from pipelines.definitions import GRAPH

        before = rejets.inputs_fingerprint(con, GRAPH.families, 2025, "code")
        assert rejets.inputs_fingerprint(con, GRAPH.families, 2025, "code") == before
        con.execute("UPDATE staging.engagements SET partenaire = partenaire || ' (bis)' WHERE rowid = "
                    "(SELECT min(rowid) FROM staging.engagements WHERE annee_boite = 2025)")
        assert rejets.inputs_fingerprint(con, GRAPH.families, 2025, "code") != before


def test_two_fresh_runs_agree(demo_run):
    """Nothing depends on row order or on which row an aggregate happens to see first."""
    _, _, _, snapshot, fresh = demo_run
    for name, frame in snapshot.items():
        pd.testing.assert_frame_equal(frame, fresh[name], check_dtype=True, rtol=1e-9), name


def test_every_referential_indicator_has_a_value_or_a_reason_on_the_demo(demo_run):
    sortie = demo_run[0]
    with duckdb.connect(str(sortie / "entrepot.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT code_indicateur, valeur, statut, raison FROM referentiel.indicateurs "
                           "WHERE annee = 2025").fetchall()
        cohort_rates = con.execute("SELECT count(*) FROM referentiel.indicateurs WHERE annee = 2025 "
                                   "AND mesure = 'cohorte.taux_sortie_positive_12_mois' AND valeur IS NOT NULL"
                                   ).fetchone()[0]
    assert len(rows) == 30
    for code, value, status, reason in rows:
        # no value: a status that says why (« détail par QPV » for a rate known QPV by QPV only), with its reason
        assert value is not None or (status not in {"atteint", "en bonne voie", "en retard"} and len(reason) > 15), code
    assert cohort_rates == 4      # each demo CPO's 12-month positive-exit rate reaches the referential


def test_feedback_workbook_for_each_partner_file(demo_run):
    import openpyxl

    from assets.retours import feedback_name
    from core.familles.registry import family_of

    sortie = demo_run[0]
    folder = sortie / "2025" / "retours" / "ccco"
    with open(DEMO / "erreurs_attendues.csv", encoding="utf-8") as handle:
        expected = [r for r in csv.DictReader(handle) if r["annee"] == "2025"]
    received = list((DEMO / "inbox" / "ccco" / "2025").iterdir())
    assert len(list(folder.glob("retour_*.xlsx"))) == len(received)       # one workbook per file, clean ones too
    for e in expected:
        book = openpyxl.load_workbook(folder / feedback_name(e["fichier"]), read_only=True)
        rows = list(book["Problèmes"].iter_rows(values_only=True))
        assert rows[0] == ("Ligne", "Feuille", "Colonne", "Valeur", "Règle", "Effet", "Problème", "Que faire",
                           "Chiffres que la ligne aurait modifiés")
        hit = [r for r in rows[1:] if r[0] == int(e["ligne"]) and r[4] == e["regle"]]
        assert hit and hit[0][7] == family_of(e["fichier"]).que_faire(e["regle"]), e
    missing = openpyxl.load_workbook(sortie / "2025" / "retours" / "fichiers_manquants.xlsx", read_only=True)
    assert ("ccco", "engagements", "ARS Hauts-de-France") in list(missing.active.iter_rows(values_only=True))


def test_a_rerun_on_the_same_inbox_leaves_the_bilan_content_unchanged(demo_run):
    """The content fingerprint ignores run ids and dates, row order and the last bits of sums that DuckDB adds up
    in another order: a whole re-run of the same inbox would neither render the bilan again nor send it again."""
    from assets.bilan import REPORT_VERSION, content_fingerprint, last_fingerprint
    from core.config.projet import ProjectConfig
    from reports.data import load_bilan_data

    again = demo_run[0]                          # the shared run's output, the whole pipeline run again on it
    config = ProjectConfig()
    with duckdb.connect(str(again / "entrepot.duckdb")) as con:
        published = last_fingerprint(con, "ccco", 2025)
        # read as the render step reads it: the contributions to the annual report are files of the data root
        data = load_bilan_data(con, config, config.territoire("ccco"), 2025, "relance", DEMO)
        assert published is not None and content_fingerprint(data, REPORT_VERSION) == published
