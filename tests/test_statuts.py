"""Honest statuses of the referential's indicators (issue 11, item 4): each rule on a hand-made case."""

from __future__ import annotations

import json
import re
import shutil

import duckdb
import pandas as pd
import pytest
import yaml

from assets.marts.reference_tables import sync_reference_tables
from assets.marts.sql import run_script
from assets.referentiel.compute import (
    ATTEINT,
    BONNE_VOIE,
    NON_RENSEIGNE,
    NON_SIGNIFICATIF,
    PAS_ENCORE,
    REJETEE,
    RETARD,
    SECRET,
    SILENCIEUX,
    STATUTS,
    Jugement,
    Point,
    avec_rejets,
    compute_referentiel,
    juger,
    part_bornes,
    rapport_bornes,
    statuts_entre,
)
from core.config.base import PROJECT_ROOT, ConfigurationError
from core.config.projet import ProjectConfig
from core.config.referentiel import Cible, IndicateurReferentiel
from core.marts import SCHEMA
from reports import charts, statuts


def indicateur(sens="hausse", unite="pourcentage", reference=None, **extra) -> IndicateurReferentiel:
    return IndicateurReferentiel(code="IX", libelle="test", unite=unite, mesure="prog.part_cpo_montant", sens=sens,
                                 reference=reference, cibles=[{"annee": 2027, "valeur": extra.pop("cible", 50)},
                                                              {"annee": 2030, "valeur": 55}], **extra)


CIBLE_2027 = Cible(annee=2027, valeur=50)


# --- en bonne voie only when the observed trend reaches the target by its year ----------------------------------


def test_a_rising_share_too_slow_to_reach_its_target_is_late_not_on_track():
    # the demo's CPO share: 34.4 % → 36.8 %, +2.4 points a year, ≈ 41.6 % in 2027 against a target of 50 %
    j = juger(indicateur(), 36.8, 2025, Point(2024, 34.4), CIBLE_2027, seuil=1.0)
    assert j.statut == RETARD
    assert j.projection == pytest.approx(41.6)
    assert "41,6 % projeté en 2027" in j.raison and "+2,4 points par an" in j.raison


def test_a_trend_that_reaches_the_target_by_its_year_is_on_track():
    j = juger(indicateur(), 45.6, 2025, Point(2024, 43.2), CIBLE_2027, seuil=1.0)  # +2.4 a year: 50.4 in 2027
    assert j.statut == BONNE_VOIE and j.projection == pytest.approx(50.4)


def test_the_trend_starts_at_the_reference_when_there_is_one():
    ind = indicateur(reference={"annee": 2019, "valeur": 40.0}, cible=44)
    # 40 → 41 in two years: 0.5 a year, 44 reached in 2027 (41 + 6 × 0.5) — last year's 39 is not the start
    assert juger(ind, 41.0, 2021, Point(2020, 39.0), Cible(annee=2027, valeur=44), seuil=0.5).statut == BONNE_VOIE
    assert juger(ind, 40.8, 2021, Point(2020, 39.0), Cible(annee=2027, valeur=44), seuil=0.5).statut == RETARD


def test_a_first_value_below_its_target_is_never_on_track():
    j = juger(indicateur(), 49.0, 2025, None, CIBLE_2027, seuil=0)
    assert j.statut == RETARD and "aucune tendance" in j.raison


def test_moving_the_wrong_way_is_late():
    j = juger(indicateur(), 40.0, 2025, Point(2024, 45.0), CIBLE_2027, seuil=1.0)
    assert j.statut == RETARD and "mauvais sens" in j.raison


def test_a_reached_target_is_reached_in_the_indicators_direction():
    assert juger(indicateur(), 50.0, 2025, None, CIBLE_2027, seuil=0).statut == ATTEINT
    falling = indicateur(sens="baisse", unite="nombre", cible=0)
    assert juger(falling, 0, 2025, Point(2024, 2), Cible(annee=2027, valeur=0), seuil=0).statut == ATTEINT


# --- a change under the indicator's threshold is not significant ------------------------------------------------


def test_two_close_census_years_are_not_a_significant_change():
    # the demo's poverty rate: 37.0 % (reference 2020) → 36.4 % (2021), a census indicator with a 2-point threshold
    pauvrete = indicateur(sens="baisse", reference={"annee": 2020, "valeur": 37.0}, cible=35.5)
    target = Cible(annee=2027, valeur=35.5)
    j = juger(pauvrete, 36.4, 2021, Point(2020, 37.0), target, seuil=2.0)
    assert j.statut == NON_SIGNIFICATIF
    assert "−0,6 point depuis 2020" in j.raison and "2,0 points" in j.raison
    # the same change is judged as a trend once it passes the threshold
    assert juger(pauvrete, 36.4, 2021, Point(2020, 37.0), target, seuil=0.5).statut == BONNE_VOIE


def test_a_value_no_newer_than_the_reference_has_no_new_data_yet():
    ind = indicateur(reference={"annee": 2019, "valeur": 42.2}, cible=44)
    j = juger(ind, 42.2, 2019, Point(2014, 40.1), Cible(annee=2027, valeur=44), seuil=2.0)
    assert j.statut == PAS_ENCORE and "référence 2019" in j.raison


def test_the_same_data_year_as_last_bilan_is_no_new_data():
    assert juger(indicateur(), 40.0, 2024, Point(2024, 40.0), CIBLE_2027, seuil=0).statut == PAS_ENCORE


# --- the wording follows the indicator's direction --------------------------------------------------------------


@pytest.mark.parametrize("valeur,precedent", [(3, Point(2024, 1)), (5, Point(2024, 7)), (5, None), (1, Point(2024, 1))])
def test_a_falling_indicator_above_its_target_is_above_it_never_under_it(valeur, precedent):
    alertes = indicateur(sens="baisse", unite="nombre", cible=0)  # I2.2: landlord-QPV pairs under coverage
    j = juger(alertes, valeur, 2025, precedent, Cible(annee=2027, valeur=0), seuil=0)
    assert j.statut == RETARD
    assert "au-dessus de la cible 2027 (0) : à réduire" in j.raison
    assert "sous la cible" not in j.raison


def test_a_rising_indicator_below_its_target_is_under_it():
    j = juger(indicateur(), 30.0, 2025, None, CIBLE_2027, seuil=0)
    assert "sous la cible 2027 (50,0 %)" in j.raison and "au-dessus" not in j.raison


# --- a rejected row that would have fed the indicator ------------------------------------------------------------


def test_a_value_fed_by_rejected_rows_is_provisional_and_says_what_it_would_be():
    late = juger(indicateur(sens="baisse", unite="nombre", cible=0), 3, 2025, Point(2024, 1),
                 Cible(annee=2027, valeur=0), seuil=0)
    j = avec_rejets(late, 2, 2034.0, "tfpb_2025.csv (ligne 4), tfpb_2025.csv (ligne 9)")
    assert j.statut == REJETEE
    assert "2 lignes rejetées (2 034 €)" in j.raison and "pourraient en changer le statut" in j.raison
    # the files and lines are for the partner's correction list, not for the bilan's body
    assert "tfpb_2025.csv" not in j.raison and "ligne 4" not in j.raison
    assert "sans elles : en retard" in j.raison
    one = avec_rejets(late, 1)
    assert "1 ligne rejetée en quarantaine alimenterait cette valeur et pourrait" in one.raison
    assert "sans elle : en retard" in one.raison
    assert avec_rejets(late, 0) == late


def test_a_sum_of_money_keeps_its_status_when_the_rejected_amount_cannot_change_it():
    """240 500 € granted against a 200 000 € target, 13 900 € rejected: reached with or without them."""
    ind = indicateur(unite="euros", cible=200_000)
    target = Cible(annee=2027, valeur=200_000)
    reached = juger(ind, 240_500, 2025, Point(2024, 180_000), target, seuil=0)
    with_them = juger(ind, 240_500 + 13_900, 2025, Point(2024, 180_000), target, seuil=0)
    j = avec_rejets(reached, 1, 13_900.0, avec_elles=with_them)
    assert j.statut == ATTEINT
    assert j.raison.startswith("cible 2027 (200 000 €) atteinte — provisoire : 1 ligne rejetée (13 900 €) en "
                               "quarantaine, qui ne changerait pas ce statut")
    # 190 000 € without them (on its way), 203 900 € with them (reached): the rejected row decides, the status is
    # withheld
    short = juger(ind, 190_000, 2025, Point(2024, 180_000), target, seuil=0)
    over = juger(ind, 203_900, 2025, Point(2024, 180_000), target, seuil=0)
    j = avec_rejets(short, 1, 13_900.0, avec_elles=over)
    assert over.statut == ATTEINT and j.statut == REJETEE and "sans elle : en bonne voie" in j.raison


def test_a_share_is_bounded_by_what_its_rejected_rows_weigh():
    """A share of 14 dossiers in 38 (36,8 %) with 4 rejected rows: between 14 in 42 (none of them in the part) and
    18 in 42 (all of them); with a rejected amount of 20 200 € against 200 000 €, between 0 and all of it."""
    low, high = part_bornes(100 * 14 / 38, 38, 4)
    assert (low, high) == (pytest.approx(100 * 14 / 42), pytest.approx(100 * 18 / 42))
    low, high = part_bornes(40.0, 200_000, 20_200)
    assert (low, high) == (pytest.approx(100 * 80_000 / 220_200), pytest.approx(100 * 100_200 / 220_200))
    assert part_bornes(40.0, 0, 3) is None and part_bornes(40.0, 100, None) is None


def test_a_ratio_of_two_sums_is_bounded_both_ways():
    """The TFPB coverage, 733 839 € of valued actions for 656 671 € of abatement (111,8 %): 7 269 € of rejected rows
    could all be abatement (110,5 %) or all valued actions (112,9 %) — reached either way."""
    low, high = rapport_bornes(733_839, 656_671, 7_269)
    assert (round(low, 1), round(high, 1)) == (110.5, 112.9)
    assert statuts_entre(indicateur(cible=100), low, high, 2025, Point(2024, 116.4), Cible(annee=2027, valeur=100),
                         seuil=1.0) == {ATTEINT}
    assert rapport_bornes(1.0, 0, 5) is None and rapport_bornes(1.0, 10, None) is None


def test_a_share_keeps_its_status_only_when_it_is_the_same_over_the_whole_range():
    ind = indicateur()
    # a first value (no trend) under its target wherever the rejected rows fall: late either way
    assert statuts_entre(ind, 38.1, 42.9, 2025, None, CIBLE_2027, seuil=1.0) == {RETARD}
    # the demo's CPO share of dossiers, 36,8 % from 34,4 %: with 4 rejected rows of 95 it could be 35,4 % (under the
    # threshold of significance from 34,4 %) or 39,4 % (late): withheld
    assert statuts_entre(ind, 35.35, 39.39, 2025, Point(2024, 34.44), CIBLE_2027, seuil=1.0) == {NON_SIGNIFICATIF,
                                                                                                     RETARD}
    # a range crossing the target from below
    assert ATTEINT in statuts_entre(ind, 48.0, 51.0, 2025, Point(2024, 47.0), CIBLE_2027, seuil=0.5)
    # both ends late for the same reason, but the middle of the range not significant: seen at the threshold
    assert NON_SIGNIFICATIF in statuts_entre(ind, 30.0, 40.0, 2025, Point(2024, 35.0), CIBLE_2027, seuil=1.0)


def test_a_missing_value_with_rejected_rows_is_a_rejected_row():
    silent = Jugement(SILENCIEUX, "engagement absent")
    j = avec_rejets(silent, 1, sans_valeur=True)
    assert j.statut == REJETEE and "1 ligne rejetée" in j.raison and "sans elles" not in j.raison


# --- the statuses without a value, on a warehouse built by hand ---------------------------------------------------


@pytest.fixture
def warehouse(config):
    con = duckdb.connect()
    sync_reference_tables(con, config, [config.territoire("ccco")])  # schema.sql reads the vocabulary
    run_script(con, SCHEMA)
    con.execute("CREATE SCHEMA staging; CREATE SCHEMA quarantine")
    con.execute("CREATE TABLE staging.qualite_fichiers (famille VARCHAR, territoire VARCHAR, annee_boite INTEGER, "
                "statut VARCHAR)")
    con.execute("CREATE TABLE quarantine.lignes (famille VARCHAR, territoire VARCHAR, annee_boite INTEGER, "
                "fichier VARCHAR, ligne INTEGER, regles VARCHAR, donnees JSON)")
    con.execute("CREATE TABLE marts.mesures_rejets (territoire VARCHAR, annee INTEGER, code_mesure VARCHAR, "
                "perimetre VARCHAR, cle VARCHAR, lignes_rejetees BIGINT, montant_rejete DOUBLE, lignes VARCHAR)")
    for famille in ("indicateurs", "engagements", "tfpb", "cohortes"):  # no programmation file at all
        con.execute("INSERT INTO staging.qualite_fichiers VALUES (?, 'ccco', 2025, 'accepte')", [famille])
    measures = [  # (code, cle, valeur, annee, annee_donnees)
        ("indicateur.taux_emploi_15_64", None, 42.2, 2025, 2019),
        ("indicateur.taux_pauvrete", None, 36.4, 2025, 2021),
        ("tfpb.alertes_couverture", None, 3, 2025, 2025), ("tfpb.alertes_couverture", None, 1, 2024, 2024),
        ("engagement.realise", "prefecture_nord.snu", 30, 2025, 2025),  # engagements are keyed by their codes
        ("engagement.realise", "prefecture_nord.snu", 28, 2024, 2024),
    ]
    con.executemany("INSERT INTO referentiel.mesures (territoire, annee, code_mesure, perimetre, cle, valeur, "
                    "annee_donnees, source) VALUES ('ccco', ?, ?, 'territoire', ?, ?, ?, 'test')",
                    [[a, c, k, v, d] for c, k, v, a, d in measures])
    con.executemany("INSERT INTO marts.indicateurs (territoire, annee, code_indicateur, perimetre, valeur, secret, "
                    "valeur_precedente, millesime_precedent) VALUES ('ccco', 2025, ?, 'territoire', ?, ?, ?, ?)",
                    [["taux_emploi_15_64", 42.2, False, 40.1, 2014], ["taux_pauvrete", 36.4, False, 37.0, 2020],
                     ["part_sans_diplome", None, True, None, None]])
    con.executemany("INSERT INTO marts.engagements (territoire, annee, partenaire, indicateur, cle, perimetre, "
                    "unite, non_renseigne) VALUES ('ccco', 2025, ?, ?, ?, 'territoire', 'nombre', ?)",
                    [["France Travail", "demandeurs d'emploi QPV accompagnés", "france_travail.de_accompagnes",
                      True]])
    con.execute("INSERT INTO quarantine.lignes VALUES ('engagements', 'ccco', 2025, 'engagements_2025_en.csv', 3, "
                "'valeur_maximale', ?)", [json.dumps({"partenaire": "Éducation nationale",
                                                      "indicateur": "part des élèves de 3e des QPV ayant trouvé "
                                                                    "un stage"})])
    con.execute("INSERT INTO marts.mesures_rejets VALUES ('ccco', 2025, 'tfpb.alertes_couverture', 'territoire', "
                "NULL, 2, NULL, 'tfpb_2025_sigh.csv (ligne 7), tfpb_2025_mec.csv (ligne 2)')")
    yield con
    con.close()


def test_each_reason_without_a_value_has_its_own_status(warehouse, config):
    frame = compute_referentiel(warehouse, config, [config.territoire("ccco")], 2025)
    by_code = frame.set_index("code_indicateur")
    status = by_code["statut"].to_dict()
    assert status["I1.1"] == PAS_ENCORE            # census millésime 2019 = the reference: no new data yet
    assert status["I3.1"] == NON_SIGNIFICATIF      # 37.0 → 36.4, under the 2-point census threshold
    assert status["I1.3"] == SILENCIEUX            # France Travail's line is there, its achieved value empty
    assert status["I3.4"] == SILENCIEUX            # the CPAM did not report the line at all
    assert status["I3.2"] == SECRET                # the source hides the value
    assert status["I4.4"] == REJETEE               # the Éducation nationale's line is in quarantine
    assert status["I2.2"] == REJETEE               # 3 alerts, 2 of them from rejected rows
    assert status["I1.5"] == PAS_ENCORE            # no cohort has reached 12 months yet
    assert status["I1.4"] == NON_RENSEIGNE         # no programmation file received
    assert status["I4.3"] == RETARD                # SNU 28 → 30, +2 a year: 34 in 2027 against 40
    assert by_code.loc["I2.2", "lignes_rejetees"] == 2
    assert "sans elles : en retard" in by_code.loc["I2.2", "raison"]
    assert "au-dessus de la cible 2027" in by_code.loc["I2.2", "raison"]
    # several kinds of "no value" never share one label any more
    missing = frame[frame["valeur"].isna()]
    assert set(missing["statut"]) >= {SILENCIEUX, SECRET, REJETEE, PAS_ENCORE, NON_RENSEIGNE}
    assert set(frame["statut"]) <= set(STATUTS)


def test_each_indicator_has_a_nature_from_the_referential_or_its_measure(warehouse, config):
    frame = compute_referentiel(warehouse, config, [config.territoire("ccco")], 2025).set_index("code_indicateur")
    assert set(frame["nature"]) == {"moyens", "resultats"}
    # money spent is a means; the public a followed action reaches is a result, though the measure is a partner's
    assert frame.loc[["I1.4", "I5.1", "I6.1"], "nature"].tolist() == ["moyens"] * 3
    assert frame.loc[["I4.1", "I3.1", "I7.3"], "nature"].tolist() == ["resultats"] * 3
    assert frame.loc["I8.3", "nature"] == "moyens"   # the catalogue's measure says resultats: the referential says
    assert frame.loc["I3.1", "seuil_significativite"] == 2.0
    assert frame.loc["I7.1", "seuil_significativite"] == 1.0       # the referential's default for a percentage
    assert frame.loc["I1.4", "seuil_significativite"] == 0.0       # no default for euros: every change counts


# --- the referential YAML and the vocabulary ---------------------------------------------------------------------


def _copy_config(tmp_path):
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    return target


def _edit(path, change):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize("change,message", [
    (lambda d: d["questions"][0]["indicateurs"][0].update(nature="impact"), "questions.0.indicateurs.0.nature"),
    (lambda d: d["questions"][0]["indicateurs"][0].update(seuil_significativite=-1),
     "questions.0.indicateurs.0.seuil_significativite"),
    (lambda d: d.update(seuils_significativite={"pourcentage": -1}), "seuil négatif pour : pourcentage"),
    (lambda d: d.update(seuils_significativite={"kilos": 1}), "« kilos » n'est pas dans la liste `unites`"),
])
def test_referential_status_fields_are_validated(tmp_path, change, message):
    cfg = _copy_config(tmp_path)
    _edit(cfg / "referentiels" / "ccco.yaml", change)
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        ProjectConfig(cfg).referentiel("ccco")


def test_the_significance_threshold_is_the_indicators_else_its_units_default_else_zero(config):
    ref = config.referentiel("ccco")
    ind = {i.code: i for _, i in ref.indicateurs}
    assert ref.seuil(ind["I3.1"]) == 2.0 and ref.seuil(ind["I7.1"]) == 1.0 and ref.seuil(ind["I5.2"]) == 0.0


def test_the_vocabulary_lists_exactly_the_statuses_the_code_decides(config):
    terms = config.vocabulaire.termes("statuts_indicateur")
    assert [t.code for t in terms] == list(STATUTS)
    for attribute in ("libelle", "couleur", "symbole"):
        values = [getattr(t, attribute) for t in terms]
        assert len(set(values)) == len(values), attribute


def test_two_statuses_drawn_alike_are_refused(tmp_path):
    cfg = _copy_config(tmp_path)
    path = cfg / "vocabulaire.yaml"
    _edit(path, lambda d: d["statuts_indicateur"][3].update(couleur=d["statuts_indicateur"][2]["couleur"]))
    with pytest.raises(ConfigurationError, match="deux statuts ont le même couleur"):
        _ = ProjectConfig(cfg).vocabulaire


# --- the bilan: means and results apart, every status with its own look ------------------------------------------


def _frame():
    return pd.DataFrame({
        "question": ["Q1", "Q1", "Q2", "Q2", "Q3"],
        "code_indicateur": ["I1.1", "I1.4", "I2.1", "I2.2", "I3.1"],
        "nature": ["resultats", "moyens", "moyens", "moyens", "resultats"],
        "statut": [PAS_ENCORE, ATTEINT, ATTEINT, REJETEE, NON_SIGNIFICATIF],
    })


def test_the_synthesis_counts_statuses_of_means_and_results_apart(config):
    counts = statuts.comptes(_frame(), config.vocabulaire)
    assert [(g["nature"], g["total"]) for g in counts] == [("moyens", 3), ("resultats", 2)]
    assert [(s["code"], s["n"]) for s in counts[0]["statuts"]] == [(ATTEINT, 2), (REJETEE, 1)]
    assert [(s["code"], s["n"]) for s in counts[1]["statuts"]] == [(NON_SIGNIFICATIF, 1), (PAS_ENCORE, 1)]


def test_each_status_has_its_own_badge_and_legend_entry(config):
    css = statuts.css(config.vocabulaire)
    for t in config.vocabulaire.termes("statuts_indicateur"):
        assert t.couleur in css and f'"{t.symbole}\\00a0"' in css
    assert ".statut-partenaire-silencieux" in css and ".statut-pas-encore-de-donnee-nouvelle" in css
    svg = charts.statuses(_frame(), "Statuts", "test", config.vocabulaire)
    for label in ("✔ atteint", "⚠ ligne rejetée", "≈ évolution non significative", "… pas encore de donnée nouvelle"):
        assert label in svg
    assert "Q1 · moyens" in svg and "Q1 · résultats" in svg


def test_a_published_rate_about_too_few_people_is_secret_not_unreported(demo_run_partage):
    """publication/tableaux hides what the measures table hides; the indicator then says why, with its own status."""
    import duckdb

    with duckdb.connect(str(demo_run_partage.sortie / "entrepot.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT r.statut, r.valeur, r.projection_cible, r.raison FROM publication.referentiel r "
                           "JOIN publication.mesures p ON p.annee = r.annee AND p.territoire = r.territoire "
                           "AND p.code_mesure = r.mesure AND p.perimetre = r.perimetre "
                           "AND p.cle IS NOT DISTINCT FROM r.cle WHERE r.annee = 2025 AND p.secret IS NOT NULL"
                           ).fetchall()
    assert rows  # the demo's small CPO cohorts hide some exit rates
    for statut, valeur, projection, raison in rows:
        assert (statut, valeur, projection) == (SECRET, None, None) and "secret statistique" in raison


def test_a_change_under_the_threshold_is_drawn_flat():
    from assets.referentiel.compute import tendance

    assert tendance(36.4, 37.0, seuil=2.0) == "stable"
    assert tendance(36.4, 37.0, seuil=0.5) == "baisse"


def test_the_referential_section_shows_means_and_results_in_separate_tables(config):
    from types import SimpleNamespace

    from reports.sections import Geography, referentiel

    frame = _frame().assign(
        question_intitule="question", critere="efficacite", objectifs=["OG.1.1", "OG.1.1", "OG.2.1", "OG.2.1",
                                                                       "OG.3.1"],
        libelle="indicateur", valeur=[42.2, 240500, 111.8, 3, 36.4], unite=["pourcentage", "euros", "pourcentage",
                                                                            "nombre", "pourcentage"],
        annee_donnees=[2019, 2025, 2025, 2025, 2021], reference=None, annee_reference=None, cible=50.0,
        annee_cible=2027, tendance=None, raison="raison", mesure="m", cle=None, perimetre="territoire")
    referentiel_config = config.referentiel("ccco")
    axes = [{"code": a.code, "intitule": a.intitule,
             "objectifs": [{"code": o.code, "intitule": o.intitule} for o in a.objectifs]}
            for a in referentiel_config.axes]
    data = SimpleNamespace(referentiel=frame, axes=axes, vocabulaire=config.vocabulaire,
                           referentiel_version=referentiel_config.version, annee=2025, rejets=pd.DataFrame())
    declared = next(s for s in config.bilan.sections if s.code == "referentiel")
    section = referentiel.build(data, declared, Geography())
    by_nature = {n["titre"]: [i["code"] for g in n["groupes"] for q in g["questions"] for i in q["indicateurs"]]
                 for n in section["natures"]}
    assert by_nature == {"Moyens mis en œuvre": ["I1.4", "I2.1", "I2.2"],
                         "Résultats pour les habitants": ["I1.1", "I3.1"]}
    first = section["natures"][0]["groupes"][0]["questions"][0]["indicateurs"][0]
    assert first["statut_libelle"] == "atteint"
