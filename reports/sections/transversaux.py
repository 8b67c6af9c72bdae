"""The referential's transversal axes (participation, illectronisme, égalité femmes-hommes…): for each, the granted
dossiers that serve it — by their objective or by their own tag — and their credits. A dossier serving two axes
counts in both rows, once in the total of the dossiers serving any: the rows are not added up. Left out of the
bilan when the referential declares no transversal axis."""

from __future__ import annotations

from core.config.bilan import Section
from reports.data import BilanData
from reports.format import compte, euros, nombre, pct
from reports.sections.commun import manquants, missing


def build(data: BilanData, section: Section, geography) -> dict:
    if not data.transversaux:
        return {"hors_bilan": True}
    absent = missing(data, section.famille)
    if absent:
        return {"absent": absent, "manquants": manquants(data, section.famille)}
    total = data.m("prog.montant_accorde")
    dossiers, montants = data.keyed("prog.dossiers_transversal"), data.keyed("prog.montant_transversal")
    rows = []
    for axe in data.transversaux:
        montant = montants.get(axe["code"])
        rows.append({"code": axe["code"], "intitule": axe["intitule"],
                     "objectifs": axe["objectifs"],
                     "dossiers": nombre(dossiers.get(axe["code"], 0)), "montant": euros(montant or 0),
                     "part": pct(100 * montant / total, 0) if montant and total else "—"})
    servent = data.m("prog.dossiers_transversal") or 0
    montant_servent = data.m("prog.montant_transversal")
    return {"absent": None, "lignes": rows,
            "servent": compte(servent, "dossier accordé"),
            "servent_nombre": servent,
            "montant_servent": euros(montant_servent or 0),
            "part_servent": pct(100 * montant_servent / total, 0) if montant_servent and total else None,
            "manquants": manquants(data, section.famille)}
