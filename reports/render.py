"""HTML (self-contained), PDF (headless Chromium, reports/pdf.py) and XLSX annex of a bilan, from the same data
(the `publication` tables: the annex's sheets are those tables, secrecy applied)."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from core.common import slug
from reports import contenu, rejets, sections, statuts, synthese
from reports.annexe import render_xlsx  # noqa: F401  (assets/bilan.py writes the annex through render)
from reports.data import BilanData
from reports.format import compte, nombre
from reports.pdf import printer, render_pdf, start_printer, submit_pdf  # noqa: F401  (assets/bilan.py prints its PDFs through render)

TEMPLATES = Path(__file__).parent / "templates"



@functools.cache
def _environment() -> jinja2.Environment:
    """One per process: compiling the templates took a tenth of a bilan's rendering."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["slug"] = slug
    return env


def build_context(data: BilanData, features: list[dict] | None, commune_names: dict[str, str],
                  copil: str | None, communes: list[dict] | None = None) -> dict:
    """`features`: the territory's QPV contours; `communes`: its communes' contours (None: maps without them)."""
    t = data.territoire
    dep = next((n.libelle for n in t.niveaux_comparaison if n.niveau_geo == "qpv_departement"), "QP du département")
    epci = next((n.libelle for n in t.niveaux_comparaison if n.niveau_geo == "epci"), "EPCI")
    return rejets.annoter({
        "t": t, "annee": data.annee, "run_id": data.run_id, "referentiel_version": data.referentiel_version,
        "genere_le": data.genere_le, "copil": copil, "couverture": contenu.couverture(data),
        "css": (TEMPLATES / "bilan.css").read_text(encoding="utf-8") + statuts.css(data.vocabulaire),
        # the contract's population (config/territoires), as published in measure prog.population
        "population_qpv": nombre(data.m("prog.population") or sum(q.population for q in t.qpv)),
        "synthese": sections.synthese(data, [dict(f, properties=dict(f["properties"])) for f in features]
                                      if features else None, communes),
        "referentiel": sections.referentiel(data),
        "programmation": sections.programmation(data),
        "financeurs_axes": contenu.financeurs_axes(data),
        "demande_accorde_verse": contenu.demande_accorde_verse(data),
        "conventions": contenu.conventions(data),
        "tfpb_bailleurs_axes": contenu.tfpb_bailleurs_axes(data),
        "engagements": sections.engagements(data),
        "tfpb": sections.tfpb(data),
        "indicateurs": sections.indicateurs(data, dep, epci),
        "cohortes": sections.cohortes(data),
        "qpv_pages": sections.qpv_pages(data, features, commune_names, communes, dep),
        "qualite": sections.qualite(data),
        "sources": sections.sources(data),
        "synthese_ecrite_donnees": synthese.synthese_ecrite(data),
        "glossaire_sigles": data.glossaire,
    }, data)


def commune_context(data: BilanData, commune: str, qpv: list[str]) -> dict:
    """What a commune bilan adds to the territory's context: the synthesis of its own quartiers."""
    return {"commune": commune, "quartiers_mot": compte(len(qpv), "quartier prioritaire", "quartiers prioritaires"),
            "synthese_ecrite_donnees": synthese.synthese_ecrite(data, qpv=qpv, commune=commune)}


def render_html(context: dict, template: str = "bilan.html.j2") -> str:
    return _environment().get_template(template).render(**context)
