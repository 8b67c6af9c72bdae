"""The context of a section no module of reports/sections/ builds (a family added by configuration): the rows of
the published tables it declares and the measures of its family for the territory, labelled from
config/mesures.yaml; or, when the family sent no file, the notice that says so."""

from __future__ import annotations

import pandas as pd

from core.config.bilan import Section
from reports.data import BilanData
from reports.format import valeur
from reports.sections.commun import missing


def build(data: BilanData, section: Section, geography) -> dict:
    absent = missing(data, section.famille)
    if absent:
        return {"absent": absent, "tables": {}, "mesures": []}
    tables = {name: data.table(name).to_dict("records") for name in section.tables}
    measures = data.measures
    codes = set(data.famille_mesures(section.famille)) if section.famille else set()
    rows = measures[measures["code_mesure"].isin(codes) & (measures["perimetre"] == "territoire")
                    & measures["cle"].isna()] if len(measures) else measures
    shown = [{"code": r.code_mesure, "libelle": data.libelles_mesures.get(r.code_mesure, r.code_mesure),
              "valeur": valeur(r.valeur, r.unite) if pd.notna(r.valeur) else "—"}
             for r in rows.itertuples()]
    return {"absent": None, "tables": tables, "mesures": shown}
