"""The evaluation referential: each question's indicators with value, reference, target, trend and status,
means and results apart, questions grouped by priority; the chart of statuses by question."""

from __future__ import annotations

import pandas as pd

from core.config.bilan import Section
from reports import charts, statuts
from reports.data import BilanData
from reports.format import valeur
from reports.rejets import note
from reports.sections.commun import objectif_titles


def _question_axis(objectifs: str, data: BilanData) -> str:
    axes = set()
    for code in objectifs.split(", "):
        axes.add(code if not code.startswith("OG.") else code[3])
    return axes.pop() if len(axes) == 1 else "transversal"


def build(data: BilanData, section: Section, geography) -> dict:
    frame = data.referentiel
    if frame.empty:
        return {"natures": [], "graphique": None, "absent": "Le référentiel n'a pas pu être calculé pour cette année."}
    labels = {a["code"]: f"Priorité {a['code']} — {a['intitule']}" for a in data.axes}
    labels["transversal"] = "Questions transversales"
    status_labels = data.vocabulaire.libelles("statuts_indicateur")
    frame = frame.assign(axe=frame["objectifs"].map(lambda o: _question_axis(o, data)))
    criteres, titles = data.vocabulaire.libelles("criteres"), objectif_titles(data)
    natures = []
    # means and results apart: money spent or a partner's activity is not a change for the inhabitants
    for _, titre, of_nature in statuts.par_nature(frame):
        # questions in their order (Q1, Q2… Q10): consecutive questions of one priority share its heading
        order = sorted(of_nature["question"].unique(), key=lambda q: (len(q), q))
        runs: list[tuple[str, list[str]]] = []
        for q in order:
            axe = of_nature.loc[of_nature["question"] == q, "axe"].iloc[0]
            if runs and runs[-1][0] == axe:
                runs[-1][1].append(q)
            else:
                runs.append((axe, [q]))
        groups = []
        for axe, codes in runs:
            part = of_nature[of_nature["question"].isin(codes)]
            questions = []
            for q in codes:
                rows = part[part["question"] == q]
                first = rows.iloc[0]
                questions.append({
                    "code": q, "intitule": first["question_intitule"],
                    "critere": criteres.get(first["critere"], first["critere"]),
                    "objectifs": " ; ".join(titles.get(o, o) for o in str(first["objectifs"]).split(", ")),
                    "indicateurs": [{
                        "code": r.code_indicateur, "libelle": r.libelle,
                        "valeur": valeur(r.valeur, r.unite) if pd.notna(r.valeur) else "—",
                        "annee_donnees": "" if pd.isna(r.annee_donnees) else int(r.annee_donnees),
                        "reference": ("" if pd.isna(r.reference)
                                      else f"{valeur(r.reference, r.unite)} ({int(r.annee_reference)})"),
                        "cible": f"{valeur(r.cible, r.unite)} ({int(r.annee_cible)})",
                        "tendance": {"hausse": "↗", "baisse": "↘", "stable": "→"}.get(r.tendance, ""),
                        "statut": r.statut, "statut_libelle": status_labels.get(r.statut, r.statut),
                        "raison": r.raison, "mesure": r.mesure + (f" [{r.cle}]" if r.cle else ""),
                        "source": {"code": r.mesure, "cle": r.cle if isinstance(r.cle, str) else None,
                                   "qpv": r.perimetre},
                    } for r in rows.itertuples()],
                })
            groups.append({"titre": labels.get(axe, axe), "questions": questions})
        natures.append({"titre": titre, "groupes": groups})
    chart = charts.statuses(frame, "Statut des indicateurs par question évaluative, moyens et résultats à part",
                            f"référentiel d'évaluation du contrat, bilan {data.annee}", data.vocabulaire)
    out = {"natures": natures, "graphique": chart, "absent": None}
    _provisoires(out, data)
    return out




def _provisoires(section: dict, data: BilanData) -> None:
    """Each indicator fed by a rejected row gets its note."""
    if data.referentiel.empty:
        return
    where = {r.code_indicateur: (r.mesure, r.perimetre, None if pd.isna(r.cle) else r.cle)
             for r in data.referentiel.itertuples()}
    # the value of an indicator fed by rejected rows is marked provisional beside it, whatever its status
    for nature in section["natures"]:
        for group in nature["groupes"]:
            for q in group["questions"]:
                for i in q["indicateurs"]:
                    if i["code"] in where:
                        i["provisoire"] = note(data, *where[i["code"]])
