"""A bilan's length does not grow with its quartiers (issue 30, item 5): past `rendu.quartiers_en_pages`, the
territory's bilan gives its quartiers as one table — population, credits, credits per inhabitant, the needs
indicators of the orientations — and the contents have one entry; each commune bilan keeps its quartiers' pages."""

from __future__ import annotations

import dataclasses

import pandas as pd

from core.config.referentiel import Besoin, Orientations
from core.config.settings import Rendu
from reports.render import commune_context, render_html
from reports.sections import Geography, section_of
from reports.sections.quartiers import build
from tests.test_synthese import A, B, _measures, make_data

NB, NNB = "\u00a0", "\u202f"   # before a unit; between thousands


def _data(config, cap: int):
    data = make_data(config, measures=_measures([
        ("prog.population", A, None, 1000.0, "nombre"), ("prog.population", B, None, 3000.0, "nombre"),
        ("prog.montant_accorde", "territoire", None, 40000.0, "euros"),
        ("prog.montant_accorde", A, None, 10000.0, "euros"), ("prog.montant_accorde", B, None, 30000.0, "euros"),
        ("prog.montant_par_habitant", A, None, 10.0, "euros"), ("prog.montant_par_habitant", B, None, 10.0, "euros")]))
    data.tables["indicateurs"] = pd.DataFrame([
        {"code_indicateur": "taux_pauvrete", "libelle_indicateur": "Personnes en situation de pauvreté",
         "perimetre": p, "valeur": v, "unite": "pourcentage", "secret": s, "millesime": 2021, "source": "INSEE",
         "millesime_precedent": None, "valeur_precedente": None, "evolution": None, "unite_evolution": None,
         "valeur_qpv_departement": None, "ecart_qpv_departement": None, "valeur_epci": None, "ecart_epci": None,
         "calcule": False}
        for p, v, s in [(A, 43.9, False), (B, None, True), ("territoire", 38.0, False)]])
    return dataclasses.replace(data, rendu=Rendu(quartiers_en_pages=cap),
                               orientations=Orientations(pilote="CCCO", besoins=[
                                   Besoin(indicateur="taux_pauvrete", sens="hausse")]))


def test_past_the_cap_the_quartiers_are_one_table(config):
    data = _data(config, cap=1)
    context = build(data, section_of(data, "quartiers"), Geography())
    assert context["sommaire"] == [{"ancre": "quartiers", "titre": "Les quartiers prioritaires"}]
    table = context["tableau"]
    assert table["colonnes"] == ["Personnes en situation de pauvreté"]
    assert [(r["nom"], r["population"], r["montant"], r["besoins"]) for r in table["lignes"]] == [
        ("Les Argales", f"1{NNB}000", f"10{NNB}000{NB}€", [f"43,9{NB}%"]),
        ("Le Bruille", f"3{NNB}000", f"30{NNB}000{NB}€", ["secret statistique"])]
    assert len(context["pages"]) == 2                        # built still: the commune bilans carry them


def test_within_the_cap_a_page_per_quartier(config):
    data = _data(config, cap=12)
    context = build(data, section_of(data, "quartiers"), Geography())
    assert context["tableau"] is None
    assert [e["ancre"] for e in context["sommaire"]] == [f"qpv-{A}", f"qpv-{B}"]


def test_the_table_is_rendered_and_a_commune_bilan_keeps_its_pages(config):
    data = _data(config, cap=1)
    quartiers = build(data, section_of(data, "quartiers"), Geography())
    section = {"code": "quartiers", "gabarit": "quartiers.html.j2", "ancre": "quartiers", "titre": "",
               "communes": True}
    territory = render_html({"annee": 2025, "quartiers": quartiers, "section": section},
                            template="quartiers.html.j2")
    assert '<section id="quartiers">' in territory and "Les 2 quartiers prioritaires du contrat" in territory
    assert 'id="qpv-' not in territory
    commune = commune_context(data, {"quartiers": quartiers, "sections": []}, "Aniche", [A])
    assert commune["quartiers"]["tableau"] is None and [p["code"] for p in commune["quartiers"]["pages"]] == [A]


def test_a_quartier_page_names_the_source_of_its_population_as_the_territory_declares_it(config):
    """The source of the QPV populations is the territory's (`source_population_qpv`), never one territory's
    wording for all: CCCO's come from the Filosofi 2019 re-estimate, another contract's may not."""
    data = _data(config, cap=12)
    section = {"code": "quartiers", "gabarit": "quartiers.html.j2", "ancre": "quartiers", "titre": "",
               "communes": True}

    def first_page(d) -> str:
        quartiers = build(d, section_of(d, "quartiers"), Geography())
        return render_html({"annee": 2025, "quartiers": quartiers, "section": section}, template="quartiers.html.j2")

    assert "habitants (population réestimée, Filosofi 2019) — commune" in first_page(data)
    unsaid = dataclasses.replace(data, territoire=data.territoire.model_copy(update={"source_population_qpv": None}))
    assert "habitants — commune" in first_page(unsaid) and "Filosofi" not in first_page(unsaid)
