"""The contract's complementary geography (poches de pauvreté, quartiers de veille active, quartiers vécus): each
quartier with its communes and population, the granted credits that target it (its population share of each
dossier) and its own indicators. Reported apart: none of these figures is inside a QPV total of the bilan. Left out
when the territory declares no such quartier."""

from __future__ import annotations

import pandas as pd

from core.config.bilan import Section
from reports import charts
from reports.data import BilanData
from reports.format import accorde, compte, euros, nombre, valeur


def build(data: BilanData, section: Section, geography) -> dict:
    quartiers = data.territoire.quartiers_complementaires
    if not quartiers:
        return {"hors_bilan": True}
    types = data.vocabulaire.libelles("types_quartier_complementaire")
    communes = {c.code_insee: c.nom for c in data.territoire.communes}
    indicateurs = data.table("indicateurs")
    programmation_recue = data.families_present.get("programmation", False)
    dossiers, montants = data.keyed("prog.dossiers_complementaire"), data.keyed("prog.montant_complementaire")
    par_habitant = data.keyed("prog.montant_par_habitant_complementaire")
    rows = []
    for q in quartiers:
        own = indicateurs[indicateurs["perimetre"] == q.code] if len(indicateurs) else indicateurs
        rows.append({
            "code": q.code, "nom": q.nom, "type": types.get(q.type, q.type),
            "communes": ", ".join(communes.get(c, c) for c in q.communes), "population": nombre(q.population),
            "dossiers": nombre(dossiers.get(q.code, 0)), "montant": euros(montants.get(q.code, 0)),
            "par_habitant": euros(par_habitant[q.code]) if q.code in par_habitant else "—",
            "indicateurs": [{"libelle": r.libelle_indicateur, "millesime": int(r.millesime),
                             "valeur": "secret statistique" if r.secret or pd.isna(r.valeur)
                             else valeur(r.valeur, r.unite), "source": r.source}
                            for r in own.sort_values("code_indicateur").itertuples()],
        })
    by_type: dict[str, int] = {}
    for q in quartiers:
        by_type[types.get(q.type, q.type)] = by_type.get(types.get(q.type, q.type), 0) + q.population
    drawn = [f for v in data.contours_complementaires.values() if isinstance(v, list) for f in v]
    carte = charts.complementary_map(drawn, geography.features, geography.communes,
                                     "La géographie complémentaire et les QPV",
                                     "contours déposés par le territoire ; QPV 2024 (ANCT)") if drawn else None
    sans_contour = [f"{q.nom} : {data.contours_complementaires[q.code]}" for q in quartiers
                    if isinstance(data.contours_complementaires.get(q.code), str)]
    total = data.m("prog.montant_complementaire")
    n_dossiers = data.m("prog.dossiers_complementaire") or 0
    return {"lignes": rows, "programmation_recue": programmation_recue, "carte": carte,
            "sans_contour": sans_contour,
            "population": nombre(sum(q.population for q in quartiers)),
            "quartiers": compte(len(quartiers), "quartier"),
            "dossiers": compte(n_dossiers, "dossier accordé"), "viser": accorde(n_dossiers, "vise", "visent"),
            "montant": euros(total or 0), "bop147": euros(data.m("prog.montant_bop147_complementaire") or 0),
            "montant_qpv": euros(data.m("prog.montant_accorde") or 0),
            "par_type": [{"type": k, "population": nombre(v)} for k, v in by_type.items()]}
