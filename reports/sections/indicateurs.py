"""The quartiers in figures: the observatories' indicators for the contract's QPV as a whole at their latest
millésime, beside the department's QP and the EPCI, with their change and gaps in points."""

from __future__ import annotations

import pandas as pd

from core.config.bilan import Section
from reports import charts
from reports.data import BilanData
from reports.format import valeur
from reports.sections.commun import SECRET, change, comparison_labels, gap
from reports.sections.commun import missing as missing_notice


def build(data: BilanData, section: Section, geography) -> dict:
    dep_label, epci_label = comparison_labels(data.territoire)
    missing = missing_notice(data, section.famille)
    if missing:
        return {"absent": missing}
    indicateurs = data.table("indicateurs")
    i = indicateurs[indicateurs["perimetre"] == "territoire"].sort_values("code_indicateur")
    rows = [{"libelle": r.libelle_indicateur or r.code_indicateur, "millesime": r.millesime,
             "valeur": SECRET if r.secret else valeur(r.valeur, r.unite), "evolution": change(r),
             "dep": valeur(r.valeur_qpv_departement, r.unite), "ecart_dep": gap(r.ecart_qpv_departement, r.unite),
             "epci": valeur(r.valeur_epci, r.unite), "ecart_epci": gap(r.ecart_epci, r.unite),
             "calcule": bool(r.calcule), "code": r.code_indicateur} for r in i.itertuples()]
    long = []
    for r in i[i["unite"] == "pourcentage"].itertuples():
        levels = (("QP du contrat", r.valeur), (dep_label, r.valeur_qpv_departement), (epci_label, r.valeur_epci))
        for level, v in levels:
            if pd.notna(v):
                long.append({"libelle": r.libelle_indicateur or r.code_indicateur, "niveau": level, "valeur": v})
    chart = charts.comparison(pd.DataFrame(long), "Les QPV du contrat face aux QP du département et à l'EPCI",
                              "indicateurs des observatoires, dernier millésime") if long else None
    return {"absent": None, "lignes": rows, "graphique": chart, "dep": dep_label, "epci": epci_label}
