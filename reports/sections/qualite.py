"""Data quality: rows read, kept and quarantined, the automatic checks' warnings, file by file and rule by rule."""

from __future__ import annotations

from core.config.bilan import Section
from reports.data import BilanData
from reports.format import nombre, texte_chiffres
from reports.plafonds import plafonner, plafonner_texte
from reports.sections.commun import manquants


def build(data: BilanData, section: Section, geography) -> dict:
    q, cap = data.qualite, data.rendu
    familles = data.vocabulaire.libelles("familles")
    # the files a steward must look at first: refused, then those with the most rows in quarantine
    shown = plafonner(q, cap.lignes_par_tableau, lambda f: f.assign(
        _refuse=f["statut"] == "refuse").sort_values(["_refuse", "lignes_quarantaine"], ascending=False,
                                                     kind="stable"))
    files = [{"famille": r.famille, "famille_libelle": familles.get(r.famille, r.famille), "fichier": r.fichier,
              "statut": "refusé" if r.statut == "refuse" else "accepté",
              "lues": nombre(r.lignes_lues), "retenues": nombre(r.lignes_retenues),
              "quarantaine": nombre(r.lignes_quarantaine), "message": r.message or "",
              "colonnes": ", ".join(x for x in [r.colonnes_inconnues, r.colonnes_supprimees] if x)}
             for r in shown.elements.itertuples()] if len(q) else []
    problems = plafonner(data.erreurs_par_regle, cap.lignes_par_tableau,
                         lambda f: f.sort_values("n", ascending=False, kind="stable"))
    rules = [{"fichier": r.fichier, "regle": r.regle, "regle_libelle": data.regles.get(r.regle, r.regle),
              "gravite": r.gravite, "n": nombre(r.n)}
             for r in problems.elements.itertuples()] if len(data.erreurs_par_regle) else []
    totals = {k: nombre(q[c].sum()) if len(q) else "0" for k, c in
              (("lues", "lignes_lues"), ("retenues", "lignes_retenues"), ("quarantaine", "lignes_quarantaine"))}
    warnings = [{"actif": r.actif, "controle": r.controle, "description": r.description, "message": r.message,
                 "n": nombre(r.problemes),
                 "detail": _names(data, texte_chiffres(plafonner_texte(r.detail or "", cap.elements_par_liste,
                                                                       total=r.problemes)))}
                for r in data.controles.itertuples()] if len(data.controles) else []
    return {"fichiers": files, "regles": rules, "manquants": manquants(data), "totaux": totals,
            "avertissements": warnings,
            "fichiers_plafond": shown.resume("fichiers", "refusés ou aux lignes en quarantaine les plus nombreuses, "
                                             "par famille"),
            "regles_plafond": problems.resume("couples fichier-règle", "aux problèmes les plus nombreux, par fichier")}


def _names(data: BilanData, text: str) -> str:
    """A check's detail names QPV by code: the reader gets their names."""
    for code, nom in zip(data.qpv["code_qpv"], data.qpv["nom_qpv"]) if len(data.qpv) else []:
        text = text.replace(code, nom)
    return text
