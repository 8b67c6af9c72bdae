"""Orientations proposed to the COPIL (issue 30, item 4): rules on hand-made figures — the quartier first on a need
whose credits fell, the CPO share projected under the aim, the landlords under full TFPB coverage — and the demo's
proposals, each with its figure, pilot and deadline, marked as proposals."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd

from core.config.referentiel import Besoin, Orientations
from reports.sections import Geography, section_of
from reports.sections.orientations import build
from tests.test_synthese import A, B, _measures, _ref, _tfpb, make_data

NB = "\u00a0"


def _indicators(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame([{"code_indicateur": c, "libelle_indicateur": lib, "perimetre": p, "valeur": v, "unite": u,
                          "secret": False, "millesime": 2021} for c, lib, p, v, u in rows])


def _proposals(data) -> list[dict]:
    return build(data, section_of(data, "orientations"), Geography())["propositions"]


def test_the_quartier_first_on_a_need_whose_credits_fell_is_named(config):
    data = make_data(config, measures=_measures([
        ("prog.montant_par_habitant", A, None, 70.0, "euros"), ("prog.montant_par_habitant", B, None, 120.0, "euros"),
        ("prog.montant_par_habitant", "territoire", None, 107.5, "euros")]),
        before=_measures([("prog.montant_par_habitant", A, None, 95.0, "euros"),
                          ("prog.montant_par_habitant", B, None, 110.0, "euros")]))
    data.tables["indicateurs"] = _indicators([
        ("taux_pauvrete", "Personnes en situation de pauvreté", A, 43.9, "pourcentage"),
        ("taux_pauvrete", "Personnes en situation de pauvreté", B, 31.0, "pourcentage"),
        ("taux_emploi_15_64", "Taux d'emploi des 15-64 ans", A, 48.0, "pourcentage"),
        ("taux_emploi_15_64", "Taux d'emploi des 15-64 ans", B, 41.0, "pourcentage")])
    data = dataclasses.replace(data, orientations=Orientations(pilote="CCCO", besoins=[
        Besoin(indicateur="taux_pauvrete", sens="hausse"), Besoin(indicateur="taux_emploi_15_64", sens="baisse")]))
    needs = [p for p in _proposals(data) if p["regle"] == "besoins"]
    # A is first on poverty and its credits fell; B is first on employment (the lowest rate) but its credits rose
    # and are over the contract's: nothing to propose for it
    assert [p["texte"] for p in needs] == ["Renforcer les crédits vers Les Argales"]
    assert needs[0]["chiffre"] == (f"Premier des 2 quartiers pour « Personnes en situation de pauvreté » (43,9{NB}%, "
                                   f"2021) ; 70,00{NB}€ accordés par habitant en 2025 (95,00{NB}€ en 2024), pour "
                                   f"107,50{NB}€ dans l'ensemble des quartiers.")
    assert needs[0]["pilote"] == "CCCO" and needs[0]["echeance"] == "COPIL du 18/03/2027"


def test_the_cpo_share_and_the_landlords_under_coverage(config):
    data = make_data(config, measures=_measures([("prog.part_cpo_dossiers", "territoire", None, 36.8,
                                                   "pourcentage")]),
                     referentiel=_ref([{"code_indicateur": "I7.1", "libelle": "Part des CPO", "valeur": 36.8,
                                        "cible": 50.0, "statut": "en retard", "mesure": "prog.part_cpo_dossiers",
                                        "projection_cible": 41.6, "objectifs": "OG.1.1"}]),
                     tfpb=_tfpb([("SIGH", A, 1000.0, 900.0), ("SIGH", B, 2000.0, 2500.0),
                                 ("Norévie", B, 1000.0, 700.0)]))
    proposals = _proposals(data)
    cpo = next(p for p in proposals if p["regle"] == "cpo")
    assert cpo["chiffre"] == (f"36,8{NB}% des dossiers en CPO en 2025, 41,6{NB}% projetés en 2027 au rythme observé, "
                              f"pour 50{NB}% visés par la circulaire.")
    landlords = [p for p in proposals if p["regle"] == "tfpb"]
    assert [p["texte"] for p in landlords] == ["Demander à Norévie un programme d'actions complémentaire",
                                               "Demander à SIGH un programme d'actions complémentaire"]
    assert landlords[1]["chiffre"] == (f"Couverture de l'abattement : 90{NB}% à Les Argales ; 100{NB}€ de "
                                       "contreparties à valoriser pour le couvrir.")
    # numbered in order, every one a proposal with its pilot and deadline
    assert [p["numero"] for p in proposals] == list(range(1, len(proposals) + 1))


def test_the_demo_bilan_proposes_orientations_after_its_synthesis(demo_run_partage):
    html = (demo_run_partage.sortie / "2025" / "ccco" / "bilan_ccco_2025.html").read_text(encoding="utf-8")
    assert html.index('<section id="synthese">') < html.index('<section id="orientations">') < html.index(
        '<section id="referentiel">')
    section = html[html.index('<section id="orientations">'):]
    section = section[:section.index("</section>")]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    assert "à débattre : le comité de pilotage les retient ou non" in text
    assert "P1. Renforcer les crédits vers Lemay Sainte-Marie" in text
    assert section.count("<strong>P") >= 4 and "COPIL du 18/03/2027" in section


def test_the_lagging_indicators_are_one_proposal_that_refers_to_the_synthesis(config):
    """Issue 30, item 5: the synthesis's « Points de vigilance » give each lagging indicator's gap and money; the
    orientations name them once, without saying the figures again."""
    rows = [{"code_indicateur": f"I{i}.1", "libelle": lib, "valeur": 10.0 * i, "cible": 100.0, "statut": "en retard",
             "mesure": "prog.montant_accorde", "objectifs": "OG.1.1"}
            for i, lib in enumerate(["Demandeurs d'emploi accompagnés", "Jeunes en service civique"], start=1)]
    data = make_data(config, referentiel=_ref(rows))
    lagging = [p for p in _proposals(data) if p["regle"] == "retard"]
    assert [p["texte"] for p in lagging] == ["Cibler l'appel à projets sur les 2 indicateurs en retard"]
    assert lagging[0]["chiffre"] == ("« Demandeurs d'emploi accompagnés » et « Jeunes en service civique » ; leur "
                                     "écart à la cible et les crédits accordés à leurs objectifs en 2025 sont dans "
                                     "les points de vigilance de la synthèse.")
    assert "pour une cible" not in lagging[0]["chiffre"]             # the figures are the synthesis's, said once
