"""Data quality, as a COPIL reads it: rows read, kept and quarantined per family of files, the contract rules the
rejected rows broke, the automatic checks' warnings. File names and line numbers stay out of the body: the file by
file table is the XLSX annex's « Qualité » sheet, and each partner's rows to correct are in its feedback workbook."""

from __future__ import annotations

from core.config.bilan import Section
from reports.data import BilanData
from reports.format import compte, nombre, texte_chiffres
from reports.plafonds import plafonner, plafonner_texte
from reports.sections.commun import manquants


def build(data: BilanData, section: Section, geography) -> dict:
    q, cap = data.qualite, data.rendu
    familles = data.vocabulaire.libelles("familles")
    by_family = []
    if len(q):
        grouped = q.assign(_refuse=q["statut"] == "refuse").groupby("famille", sort=False).agg(
            fichiers=("fichier", "count"), refuses=("_refuse", "sum"), lues=("lignes_lues", "sum"),
            retenues=("lignes_retenues", "sum"), quarantaine=("lignes_quarantaine", "sum"))
        order = {code: i for i, code in enumerate(familles)}
        for famille, r in sorted(grouped.iterrows(), key=lambda kv: order.get(kv[0], len(order))):
            by_family.append({"famille": familles.get(famille, famille), "fichiers": nombre(r.fichiers),
                              "refuses": int(r.refuses), "lues": nombre(r.lues), "retenues": nombre(r.retenues),
                              "quarantaine": nombre(r.quarantaine)})
    errors = data.erreurs_par_regle
    rules = []
    if len(errors):
        grouped = errors.groupby(["regle", "gravite"], sort=False).agg(n=("n", "sum"), fichiers=("fichier", "nunique"))
        grouped = grouped.reset_index().sort_values(["n", "regle"], ascending=[False, True], kind="stable")
        shown = plafonner(grouped, cap.lignes_par_tableau)
        rules = [{"regle": data.regles.get(r.regle, r.regle), "gravite": r.gravite, "n": nombre(r.n),
                  "fichiers": compte(r.fichiers, "fichier")} for r in shown.elements.itertuples()]
        rules_cap = shown.resume("règles", "aux lignes les plus nombreuses")
    else:
        rules_cap = None
    totals = {k: nombre(q[c].sum()) if len(q) else "0" for k, c in
              (("lues", "lignes_lues"), ("retenues", "lignes_retenues"), ("quarantaine", "lignes_quarantaine"))}
    refused = int((q["statut"] == "refuse").sum()) if len(q) else 0
    warnings = [{"actif": r.actif, "controle": r.controle, "description": r.description, "message": r.message,
                 "n": nombre(r.problemes),
                 "detail": _names(data, texte_chiffres(plafonner_texte(r.detail or "", cap.elements_par_liste,
                                                                       total=r.problemes)))}
                for r in data.controles.itertuples()] if len(data.controles) else []
    return {"familles": by_family, "regles": rules, "regles_plafond": rules_cap, "manquants": manquants(data),
            "totaux": totals, "fichiers": compte(len(q), "fichier reçu", "fichiers reçus"),
            "refuses": compte(refused, "fichier refusé", "fichiers refusés") if refused else None,
            "avertissements": warnings}


def _names(data: BilanData, text: str) -> str:
    """A check's detail names QPV by code: the reader gets their names."""
    for code, nom in zip(data.qpv["code_qpv"], data.qpv["nom_qpv"]) if len(data.qpv) else []:
        text = text.replace(code, nom)
    return text
