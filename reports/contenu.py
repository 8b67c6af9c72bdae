"""The content a COPIL expects (issue 12, item 5), from the published tables only: each function formats what
BilanData read from `publication.*`; figures come from published measures."""

from __future__ import annotations

import pandas as pd

from reports.data import BilanData
from reports.format import NBSP, euros, signe


def arrete_au(sources: pd.DataFrame, annee: int) -> str | None:
    """The date the bilan's data stop at: the day the last file of the year's box was received (its first sight in
    the archive), not the day the bilan was produced, so two runs on the same files show the same date."""
    if sources.empty:
        return None
    recus = sources.loc[sources["annee"] == annee, "premier_vu_le"].dropna()
    return None if recus.empty else pd.Timestamp(recus.max()).strftime("%d/%m/%Y")


def couverture(data: BilanData) -> dict:
    return {"arrete_au": arrete_au(data.sources, data.annee)}


def cle_financeur_axe(financeur: str, axe: str) -> str:
    """The key of measure prog.montant_financeur for one financeur on one axe (programmation_mesures.sql)."""
    return f"{financeur} · axe {axe}"


def financeurs_axes(data: BilanData) -> dict:
    """Granted money by financeur × axe, with the subtotals by financeur and by axe and the change by financeur
    since last year: every cell is a published measure (prog.montant_financeur, prog.montant_accorde)."""
    if data.m("prog.montant_accorde") is None:
        return {"lignes": [], "axes": [], "total": None}
    axes = [{"code": ax["code"], "intitule": ax["intitule"],
             "cle": f"axe {ax['code']}", "montant": euros(data.m("prog.montant_accorde", cle=f"axe {ax['code']}"))}
            for ax in data.axes]
    libelles = data.vocabulaire.libelles("financeurs")
    granted = data.keyed("prog.montant_financeur")
    lignes = []
    for code in data.vocabulaire.codes("financeurs"):
        if code not in granted:
            continue
        before = data.m("prog.montant_financeur", cle=code, before=True)
        now = granted[code]
        lignes.append({
            "code": code, "financeur": libelles.get(code, code), "montant": euros(now),
            "cellules": [{"cle": cle_financeur_axe(code, ax["code"]),
                          "montant": euros(data.m("prog.montant_financeur", cle=cle_financeur_axe(code, ax["code"])))}
                         for ax in axes],
            "avant": euros(before), "evolution": evolution(now, before)})
    return {"lignes": lignes, "axes": axes, "total": euros(data.m("prog.montant_accorde")),
            "annee_avant": data.annee - 1}


def evolution(now: float | None, before: float | None) -> str:
    """The change from last year, in percent; "—" when either year is missing or last year was nothing."""
    if now is None or before is None or before == 0:
        return "—"
    return f"{signe(100 * (now - before) / before)}{NBSP}%"
