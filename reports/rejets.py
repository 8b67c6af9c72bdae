"""Rejected rows beside the figures they would have changed. `data.rejets` (publication.mesures_rejets, keyed like the
measures) says, per measure, perimeter and key, how many quarantined rows would have fed it and, for money, how
much; this module writes "provisoire : 2 lignes rejetées, 2 034 €" beside those figures and says when an alert is
caused by rejected rows; each section (reports/sections/) adds these notes to what it shows."""

from __future__ import annotations

import pandas as pd

from reports.data import BilanData
from reports.format import euros, nombre

ALERTES_TFPB = "tfpb.alertes_couverture"


def rejected_row(data: BilanData, code: str, perimetre: str = "territoire", cle: str | None = None) -> pd.Series | None:
    frame = data.rejets
    if frame.empty:
        return None
    rows = frame[(frame["code_mesure"] == code) & (frame["perimetre"] == perimetre)
                 & ((frame["cle"] == cle) if cle is not None else frame["cle"].isna())]
    return None if rows.empty else rows.iloc[0]


def _lignes(n: int) -> str:
    return f"{nombre(n)} ligne{'s' if n > 1 else ''} rejetée{'s' if n > 1 else ''}"


def note(data: BilanData, code: str, perimetre: str = "territoire", cle: str | None = None) -> str:
    """"provisoire : 2 lignes rejetées, 2 034 €", or "" when no rejected row would have fed the figure."""
    r = rejected_row(data, code, perimetre, cle)
    if r is None:
        return ""
    money = r["montant_rejete"]
    text = f"provisoire : {_lignes(int(r['lignes_rejetees']))}" + (f", {euros(money)}" if pd.notna(money) else "")
    if code == ALERTES_TFPB and perimetre == "territoire" and cle is None and (caused := alertes_dues(data)):
        text += f" ; {nombre(caused)} alerte{'s' if caused > 1 else ''} due{'s' if caused > 1 else ''} à des lignes " \
                "rejetées"
    return text


def alertes_dues(data: BilanData) -> int:
    """How many landlord-QPV coverage alerts the counterparts of rejected rows would lift."""
    t = data.table("tfpb")
    if t.empty:
        return 0
    alerts = t[t["alerte_couverture"].fillna(False).astype(bool)]
    return sum(1 for r in alerts.itertuples() if cause_alerte_tfpb(
        data, r.bailleur, r.code_qpv, r.montant_abattement, r.montant_valorise).startswith("alerte due"))


def cause_alerte_tfpb(data: BilanData, bailleur: str, code_qpv: str, abattement: float, valorise: float) -> str:
    """For a coverage alert of one landlord in one QPV: "alerte due à …" when the counterparts of its rejected
    rows would lift the coverage to the threshold; "alerte peut-être due à …" when their amount cannot be read."""
    r = rejected_row(data, "tfpb.valorise", code_qpv, bailleur)
    if r is None:
        return ""
    n, money = int(r["lignes_rejetees"]), r["montant_rejete"]
    gap = data.seuils["couverture_tfpb"] / 100 * abattement - (0 if pd.isna(valorise) else valorise)
    if pd.notna(money) and money >= gap:
        return (f"alerte due à {'une ligne rejetée' if n == 1 else _lignes(n)} ({euros(money)} de contreparties "
                f"non retenues)")
    if pd.isna(money):
        return f"alerte peut-être due à {'une ligne rejetée' if n == 1 else _lignes(n)} (montant illisible)"
    return note(data, "tfpb.valorise", code_qpv, bailleur)


def provisoires(data: BilanData, figures: list[tuple[str, str]]) -> list[dict]:
    return [{"chiffre": label, "note": text} for label, code in figures if (text := note(data, code))]


def invert(labels: dict[str, str]) -> dict[str, str]:
    return {v: k for k, v in labels.items()}


def tfpb_row(row: dict, data: BilanData, code_qpv: str) -> None:
    t = data.table("tfpb")
    match = t[(t["bailleur"] == row["bailleur"]) & (t["code_qpv"] == code_qpv)] if len(t) else t
    if match.empty:
        return
    m = match.iloc[0]
    row["provisoire"] = (cause_alerte_tfpb(data, m["bailleur"], code_qpv, m["montant_abattement"],
                                           m["montant_valorise"])
                         if row.get("alerte") else note(data, "tfpb.valorise", code_qpv, row["bailleur"]))
