"""The bilan's sections, as config/bilan.yaml declares them (title, order, published tables, template, family,
commune bilans). Each section with a module here (`reports/sections/<code>.py`) builds its context with its
`build(data, section, geography)`; a section without one (a family added by configuration) gets the generic
context of `generique.py`: its tables' rows and its family's measures. A section's context is what its template
reads under the section's code."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field

from core.config.bilan import Section
from reports.data import BilanData


@dataclass
class Geography:
    """The maps' contours: the territory's QPV (None: maps cannot be drawn), its communes' names and contours."""

    features: list[dict] | None = None
    commune_names: dict[str, str] = field(default_factory=dict)
    communes: list[dict] | None = None


def _builder(code: str):
    name = f"{__name__}.{code}"
    module = importlib.import_module(name) if importlib.util.find_spec(name) else None
    if module is None or not hasattr(module, "build"):
        module = importlib.import_module(f"{__name__}.generique")
    return module.build


def build_sections(data: BilanData, geography: Geography) -> tuple[list[dict], dict[str, dict]]:
    """Every section of the bilan in its order: (what the template's contents and loop read, each section's
    context by code). A section whose context says `hors_bilan` is left out; `titre_valeurs` fill its title."""
    parts, contexts = [], {}
    for section in data.sections:
        content = _builder(section.code)(data, section, geography)
        contexts[section.code] = content
        if content.get("hors_bilan"):
            continue  # nothing to say this year (no decision recorded): neither the section nor its contents line
        title = section.intitule(annee=data.annee, **content.get("titre_valeurs", {}))
        parts.append({"code": section.code, "titre": title, "ancre": section.ancre, "gabarit": section.gabarit,
                      "communes": section.communes,
                      # a section that is several pages (one per quartier) lists them in the contents itself
                      "sommaire": content.get("sommaire") or [{"ancre": section.ancre, "titre": title}]})
    return parts, contexts


def section_of(data: BilanData, code: str) -> Section | None:
    return next((s for s in data.sections if s.code == code), None)
