"""CPO cohorts from hand-written files (tests/fixtures/cohortes: 6 people, 2 CPO, two years of files) against
figures worked out by hand, and statistical secrecy cell by cell."""

from __future__ import annotations

import pandas as pd
import pytest

from assets.publication.cohortes import CohortColumns, publish_cohortes, relations_of_block
from assets.publication.secret import protect, withheld_rate
from pipelines.config import ProjectConfig
from tests.test_marts import FIXTURES, _materialize

COLUMNS = CohortColumns.of(ProjectConfig().vocabulaire)
COUNTS = COLUMNS.counts


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    import os

    os.environ.setdefault("BILAN_CLE_PSEUDONYMISATION", "cle-de-test-bilan-quartiers-0123456789abcdef")
    connection = _materialize(FIXTURES / "cohortes", tmp_path_factory.mktemp("cohortes"), [2024, 2025])
    yield connection
    connection.close()


def row(con, annee, cpo, cohorte, jalon, dimension="ensemble", modalite="ensemble"):
    frame = con.execute("SELECT * FROM marts.cohortes_jalons WHERE annee = ? AND reference_cpo = ? AND cohorte = ? "
                        "AND jalon = ? AND dimension = ? AND modalite = ?",
                        [annee, cpo, cohorte, jalon, dimension, modalite]).df()
    assert len(frame) == 1, frame
    return frame.iloc[0]


def test_cohort_2024_as_known_in_2025(con):
    # A, B, C, D entered CPO-T-01 in 2024. Entry: A, B, D looking for work, C inactive.
    entry = row(con, 2025, "CPO-T-01", 2024, "entree")
    assert (entry.attendus, entry.observes, entry.recherche_emploi, entry.inactif) == (4, 4, 3, 1)
    # 6 months: A's 2024 observation (recherche) is replaced by the 2025 inbox's (emploi_transition); D's arrives in
    # 2025. A transition, B training, C searching, D durable job → 3 positive exits out of 4.
    six = row(con, 2025, "CPO-T-01", 2024, "6_mois")
    assert (six.attendus, six.observes, six.emploi_transition, six.formation_qualifiante, six.recherche_emploi,
            six.emploi_durable) == (4, 4, 1, 1, 1, 1)
    assert six.taux_sortie_positive == pytest.approx(75.0)
    assert six.taux_emploi_durable == pytest.approx(25.0)
    # 12 months: A durable, B transition, C lost, D durable
    twelve = row(con, 2025, "CPO-T-01", 2024, "12_mois")
    assert (twelve.attendus, twelve.observes, twelve.sorties_positives, twelve.emploi_durable, twelve.perdu_de_vue) \
        == (4, 4, 3, 2, 1)
    assert (twelve.taux_sortie_positive, twelve.taux_emploi_durable, twelve.taux_perdus_de_vue) == \
        pytest.approx((75.0, 50.0, 25.0))


def test_breakdowns_by_sex_age_and_residence(con):
    f = row(con, 2025, "CPO-T-01", 2024, "12_mois", "sexe", "F")       # A durable, C lost
    m = row(con, 2025, "CPO-T-01", 2024, "12_mois", "sexe", "M")       # B transition, D durable
    assert (f.observes, f.sorties_positives, m.observes, m.sorties_positives) == (2, 1, 2, 2)
    young = row(con, 2025, "CPO-T-01", 2024, "12_mois", "tranche_age", "moins de 26 ans")  # A (24), D (20)
    middle = row(con, 2025, "CPO-T-01", 2024, "12_mois", "tranche_age", "26 à 49 ans")     # B (34)
    older = row(con, 2025, "CPO-T-01", 2024, "12_mois", "tranche_age", "50 ans et plus")   # C (54)
    assert (young.observes, middle.observes, older.observes) == (2, 1, 1)
    assert row(con, 2025, "CPO-T-01", 2024, "12_mois", "residence", "résident QPV").observes == 3   # A, C, D
    assert row(con, 2025, "CPO-T-01", 2024, "12_mois", "residence", "hors QPV").observes == 1       # B
    unknown = row(con, 2025, "CPO-T-01", 2025, "entree", "tranche_age", "non renseigné")          # F: no birth year
    assert unknown.observes == 1


def test_the_same_cohort_as_known_in_2024(con):
    # from the 2024 inbox only: A still searching at 6 months; D's 6 months are not due before 2025-03-01
    six = row(con, 2024, "CPO-T-01", 2024, "6_mois")
    assert (six.attendus, six.observes, six.sorties_positives) == (3, 3, 1)
    assert con.execute("SELECT count(*) FROM marts.cohortes_jalons WHERE annee = 2024 AND jalon = '12_mois'"
                       ).fetchone()[0] == 0


def test_transitions_between_consecutive_jalons(con):
    got = set(con.execute("SELECT jalon_depart, situation_depart, situation_arrivee, effectif FROM "
                          "marts.cohortes_transitions WHERE annee = 2025 AND reference_cpo = 'CPO-T-01' "
                          "AND cohorte = 2024").fetchall())
    assert got == {
        ("entree", "recherche_emploi", "emploi_transition", 1),
        ("entree", "recherche_emploi", "formation_qualifiante", 1),
        ("entree", "inactif", "recherche_emploi", 1), ("entree", "recherche_emploi", "emploi_durable", 1),
        ("6_mois", "emploi_transition", "emploi_durable", 1),
        ("6_mois", "formation_qualifiante", "emploi_transition", 1),
        ("6_mois", "recherche_emploi", "perdu_de_vue", 1), ("6_mois", "emploi_durable", "emploi_durable", 1),
    }


def test_cohort_measures_reach_the_measures_table(con):
    def m(code, cle):
        return con.execute("SELECT valeur, effectif FROM referentiel.mesures WHERE annee = 2025 AND code_mesure = ? "
                           "AND cle = ?", [code, cle]).fetchone()
    assert m("cohorte.taux_sortie_positive_12_mois", "CPO-T-01") == pytest.approx((75.0, 4))
    assert m("cohorte.taux_sortie_positive_12_mois", "CPO-T-02") == pytest.approx((100.0, 1))       # E durable
    # across the CPO of objective OG.1.1: (3 + 1) positive out of 4 + 1 observed
    assert m("cohortes_objectif.taux_sortie_positive_12_mois", "OG.1.1") == pytest.approx((80.0, 5))


def test_referential_publication_withholds_rates_about_too_few_people(con):
    internal = con.execute("SELECT valeur FROM referentiel.indicateurs WHERE annee = 2025 AND code_indicateur = 'I1.5'"
                           ).fetchone()[0]
    published = con.execute("SELECT valeur, raison FROM publication.referentiel WHERE annee = 2025 "
                            "AND code_indicateur = 'I1.5'").fetchone()
    assert internal == pytest.approx(80.0)          # computed, kept inside the pipeline
    assert published[0] is None and "moins de 10 personnes" in published[1]


def test_published_cohort_tables_never_show_a_small_count(con):
    published = con.execute("SELECT * FROM publication.cohortes_jalons WHERE annee = 2025").df()
    for column in COUNTS:
        shown = published[column].dropna()
        numbers = pd.to_numeric(shown, errors="coerce").dropna()
        assert (numbers >= 5).all(), column
        assert set(shown[pd.to_numeric(shown, errors="coerce").isna()]) <= {"< 5", "s"}
    assert published["taux_sortie_positive"].isna().all()   # every denominator here is below 10


# --- the secrecy rules on their own -----------------------------------------------------------------------------


def test_primary_rule_hides_counts_below_the_threshold():
    p = protect({"a": 4, "b": 5, "c": 0}, [], threshold=5)
    assert p.primary == {"a", "c"} and not p.secondary
    assert (p.show("a", 4, 5), p.show("b", 5, 5)) == ("< 5", "5")


def test_a_naive_table_would_let_the_hidden_cell_be_recomputed_from_its_total():
    # total 20 = 2 + 9 + 9: hiding only the 2 would leave 20 - 9 - 9 = 2 readable
    values = {"total": 20, "x": 2, "y": 9, "z": 9}
    p = protect(values, [("total", ["x", "y", "z"])], threshold=5)
    assert p.primary == {"x"}
    assert len(p.secondary) == 1 and p.secondary <= {"y", "z"}   # one more part hidden: x is no longer recoverable


def test_secondary_suppression_propagates_through_linked_totals():
    # a 2×2 table with row and column totals; one small cell forces a chain of hidden cells
    values = {"r1": 12, "r2": 30, "c1": 10, "c2": 32, "t": 42, "a": 3, "b": 9, "c": 7, "d": 23}
    relations = [("r1", ["a", "b"]), ("r2", ["c", "d"]), ("c1", ["a", "c"]), ("c2", ["b", "d"]),
                 ("t", ["r1", "r2"]), ("t", ["c1", "c2"])]
    p = protect(values, relations, threshold=5)
    for total, parts in relations:
        assert len([c for c in [total, *parts] if c in p.hidden]) != 1, (total, parts, p.hidden)
    assert p.hidden == {"a", "b", "c", "d"}


def test_rates_withheld_for_small_denominators_or_hidden_numerators():
    p = protect({"n": 3, "m": 12}, [], threshold=5)
    assert withheld_rate(50.0, "m", 9, p, 10) is None       # denominator below 10
    assert withheld_rate(25.0, "n", 12, p, 10) is None      # numerator hidden: 25 % × 12 gives it back
    assert withheld_rate(40.0, "m", 30, p, 10) == 40.0


def test_published_demo_like_block_leaks_nothing():
    # one cohort × jalon block: ensemble row and a breakdown whose modalities add up to it
    rows = []
    for dimension, modalite, counts in [("ensemble", "ensemble", (30, 28, 9, 6, 3, 6, 2, 2)),
                                        ("sexe", "F", (16, 15, 6, 2, 1, 4, 1, 1)),
                                        ("sexe", "M", (14, 13, 3, 4, 2, 2, 1, 1))]:
        attendus, observes, *situations = counts
        rows.append({"territoire": "t", "annee": 2025, "reference_cpo": "CPO", "code_objectif": "OG.1.1",
                     "cohorte": 2024, "jalon": "12_mois", "rang_jalon": 3, "dimension": dimension,
                     "modalite": modalite, "attendus": attendus, "observes": observes,
                     **dict(zip(COLUMNS.situations, situations)),
                     "sorties_positives": sum(situations[:3]),
                     "taux_sortie_positive": 100 * sum(situations[:3]) / observes,
                     "taux_emploi_durable": 100 * situations[0] / observes,
                     "taux_perdus_de_vue": 100 * situations[5] / observes})
    frame = pd.DataFrame(rows)
    published = publish_cohortes(frame, COLUMNS, 5, 10)
    hidden = {(i, c) for i in published.index for c in COUNTS if published.at[i, c] in ("< 5", "s")}
    for total, parts in relations_of_block(frame, COLUMNS):
        assert len([c for c in [total, *parts] if c in hidden]) != 1, (total, parts)
    assert published.at[0, "observes"] == "28" and published.at[0, "emploi_durable"] == "9"
    assert published.at[1, "inactif"] == "< 5"
    assert published.at[0, "taux_sortie_positive"] == pytest.approx(100 * 18 / 28)


def test_a_year_where_every_rate_is_withheld_still_publishes_the_next_year():
    """The published tables keep their types when a first year has every rate withheld (a small territory)."""
    import duckdb

    from assets.publication.assets import _replace

    def block(annee, observes):
        situations = [observes, 0, 0, 0, 0, 0]
        return pd.DataFrame([{"territoire": "t", "annee": annee, "reference_cpo": "CPO", "code_objectif": "OG.1.1",
                              "cohorte": 2024, "jalon": "12_mois", "rang_jalon": 3, "dimension": "ensemble",
                              "modalite": "ensemble", "attendus": observes, "observes": observes,
                              **dict(zip(COLUMNS.situations, situations)), "sorties_positives": observes,
                              "taux_sortie_positive": 100.0, "taux_emploi_durable": 100.0,
                              "taux_perdus_de_vue": 0.0}])

    con = duckdb.connect()
    small = publish_cohortes(block(2024, 3), COLUMNS, 5, 10)
    assert small["taux_sortie_positive"].isna().all()            # under 10 people: withheld
    _replace(con, "cohortes_jalons", small, 2024)
    _replace(con, "cohortes_jalons", publish_cohortes(block(2025, 40), COLUMNS, 5, 10), 2025)
    rates = con.execute("SELECT annee, taux_sortie_positive FROM publication.cohortes_jalons ORDER BY annee").fetchall()
    assert rates == [(2024, None), (2025, 100.0)]
