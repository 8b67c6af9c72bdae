"""CPO cohorts from hand-written files (tests/fixtures/cohortes: 6 people, 2 CPO, two years of files) against
figures worked out by hand, and statistical secrecy cell by cell."""

from __future__ import annotations

import pandas as pd
import pytest

from assets.publication.colonnes_cohortes import CohortColumns
from assets.publication.secret import SECONDARY
from core.config.projet import ProjectConfig
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
        assert set(shown[pd.to_numeric(shown, errors="coerce").isna()]) <= {"< 5", SECONDARY}
    assert published["taux_sortie_positive"].isna().all()   # every denominator here is below 10


# --- the secrecy rules on their own: tests/test_secret_publication.py ---------------------------------------------


def test_a_year_where_every_rate_is_withheld_still_publishes_the_next_year():
    """The published tables keep their types when a first year has every rate withheld (a small territory)."""
    import duckdb

    from assets.publication.tables import write_year

    def block(annee, rate):
        return pd.DataFrame({"territoire": ["t"], "annee": [annee], "observes": pd.array(["< 5" if rate is None
                                                                                          else "40"], dtype="string"),
                             "taux_sortie_positive": pd.array([rate], dtype="Float64")})

    con = duckdb.connect()
    write_year(con, {"cohortes_jalons": block(2024, None)}, 2024)
    write_year(con, {"cohortes_jalons": block(2025, 100.0)}, 2025)
    write_year(con, {"cohortes_jalons": block(2025, 100.0)}, 2025)     # a year run again replaces its rows
    rates = con.execute("SELECT annee, taux_sortie_positive FROM publication.cohortes_jalons ORDER BY annee").fetchall()
    assert rates == [(2024, None), (2025, 100.0)]
