"""HTML (self-contained), PDF (headless Chromium, reports/pdf.py) and XLSX annex of a bilan, from the same data
(the `publication` tables: the annex's sheets are those tables, secrecy applied)."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import jinja2
import pandas as pd

from core.common import slug
from reports import charts, statuts
from reports.annexe import render_xlsx  # noqa: F401  (assets/bilan.py writes the annex through render)
from reports.data import BilanData
from reports.format import compte, nombre
from reports.pdf import printer, render_pdf, start_printer, submit_pdf  # noqa: F401  (assets/bilan.py prints its PDFs through render)
from reports.sections import Geography, build_sections
from reports.synthese_ecrite import synthese_ecrite

TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def _environment(section_templates: tuple[Path, ...] = ()) -> jinja2.Environment:
    """One per process and template folders: compiling the templates took a tenth of a bilan's rendering. The
    sections' templates are looked for in the project's, then in a config folder's own (config/bilan.yaml)."""
    loader = jinja2.FileSystemLoader(list(dict.fromkeys([TEMPLATES, TEMPLATES / "sections", *section_templates])))
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["slug"] = slug
    return env


def arrete_au(sources: pd.DataFrame, annee: int, qualite: pd.DataFrame | None = None) -> str | None:
    """The date the bilan's data stop at: the day the last accepted file of the year's box was deposited (as the
    inbox recorded it: the file's modification time), not the day a run first saw it nor the day the bilan was
    produced, so any run on the same files shows the same date. A refused file fed nothing: it does not count."""
    if sources.empty:
        return None
    year = sources[sources["annee"] == annee]
    if qualite is not None and len(qualite) and "statut" in qualite:
        refused = set(qualite.loc[qualite["statut"] == "refuse", "fichier"])
        year = year[~year["nom_fichier"].isin(refused)]
    recus = year["depose_le"].dropna()
    return None if recus.empty else pd.Timestamp(recus.max()).strftime("%d/%m/%Y")


def copil_mention(copil: dt.date | None, genere_le: dt.date) -> dict | None:
    """How the cover names the COPIL: the bilan presented to it, or, made after its date, the version updated
    since (a corrected file arrived after the COPIL)."""
    if copil is None:
        return None
    return {"date": copil.strftime("%d/%m/%Y"), "apres": genere_le > copil}


def _rapport(data: BilanData) -> dict | None:
    """How the cover names the annual report the bilan is (décret n° 2015-1118): a draft for opinion, or final."""
    r = data.rapport_annuel
    if r is None:
        return None
    return {"projet": r.version == "projet", "soumis_le": r.soumis_le.strftime("%d/%m/%Y"),
            "avis_jusqu_au": r.avis_jusqu_au.strftime("%d/%m/%Y")}


def build_context(data: BilanData, features: list[dict] | None, commune_names: dict[str, str],
                  copil: dt.date | None, communes: list[dict] | None = None) -> dict:
    """`features`: the territory's QPV contours; `communes`: its communes' contours (None: maps without them).
    Each section's context is under its code (config/bilan.yaml), `sections` lists them in order."""
    t = data.territoire
    parts, contexts = build_sections(data, Geography(charts.wound(features), commune_names, charts.wound(communes)))
    return {
        "t": t, "annee": data.annee, "run_id": data.run_id, "referentiel_version": data.referentiel_version,
        "genere_le": data.genere_le, "couverture": {"arrete_au": arrete_au(data.sources, data.annee, data.qualite),
                       "copil": copil_mention(copil, dt.date.today()),
                       "rapport": _rapport(data)},
        "css": (TEMPLATES / "bilan.css").read_text(encoding="utf-8") + statuts.css(data.vocabulaire),
        # the contract's population (config/territoires), as published in measure prog.population
        "population_qpv": nombre(data.m("prog.population") or sum(q.population for q in t.qpv)),
        "sections": parts, **contexts,
    }


def commune_context(data: BilanData, context: dict, commune: str, qpv: list[str]) -> dict:
    """A commune bilan's context: the territory's, with the sections the commune bilans carry, its own quartiers'
    pages and the synthesis of its quartiers."""
    out = {**context, "commune": commune,
           "quartiers_mot": compte(len(qpv), "quartier prioritaire", "quartiers prioritaires"),
           "sections": [s for s in context["sections"] if s["communes"]]}
    if "quartiers" in context:
        # a commune bilan always has its quartiers' pages, even where the territory's gives them as a table
        out["quartiers"] = {**context["quartiers"], "tableau": None,
                            "pages": [p for p in context["quartiers"]["pages"] if p["code"] in qpv]}
    if "synthese" in context:
        out["synthese"] = {**context["synthese"], "ecrite": synthese_ecrite(data, qpv=qpv, commune=commune)}
    return out


def render_html(context: dict, template: str = "bilan.html.j2", section_templates: tuple[Path, ...] = ()) -> str:
    return _environment(tuple(section_templates)).get_template(template).render(**context)
