"""Rejected rows beside the figures they would have changed. `data.rejets` (publication.mesures_rejets, keyed like the
measures) says, per measure, perimeter and key, how many quarantined rows would have fed it and, for money, how
much; this module writes "provisoire : 2 lignes rejetées, 2 034 €" beside those figures, says when an alert is
caused by rejected rows, and lists the commitments that are missing only because their row was rejected. The
sections stay as they are: `annoter` adds these notes to what they return."""

from __future__ import annotations

import pandas as pd

from reports.data import BilanData
from reports.format import euros, nombre
from reports.plafonds import plafonner, plafonner_texte

ALERTES_TFPB = "tfpb.alertes_couverture"


def _row(data: BilanData, code: str, perimetre: str = "territoire", cle: str | None = None) -> pd.Series | None:
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
    r = _row(data, code, perimetre, cle)
    if r is None:
        return ""
    money = r["montant_rejete"]
    text = f"provisoire : {_lignes(int(r['lignes_rejetees']))}" + (f", {euros(money)}" if pd.notna(money) else "")
    if code == ALERTES_TFPB and perimetre == "territoire" and cle is None and (caused := _alertes_dues(data)):
        text += f" ; {nombre(caused)} alerte{'s' if caused > 1 else ''} due{'s' if caused > 1 else ''} à des lignes " \
                "rejetées"
    return text


def _alertes_dues(data: BilanData) -> int:
    """How many landlord-QPV coverage alerts the counterparts of rejected rows would lift."""
    t = data.tfpb
    if t.empty:
        return 0
    alerts = t[t["alerte_couverture"].fillna(False).astype(bool)]
    return sum(1 for r in alerts.itertuples() if cause_alerte_tfpb(
        data, r.bailleur, r.code_qpv, r.montant_abattement, r.montant_valorise).startswith("alerte due"))


def cause_alerte_tfpb(data: BilanData, bailleur: str, code_qpv: str, abattement: float, valorise: float) -> str:
    """For a coverage alert of one landlord in one QPV: "alerte due à …" when the counterparts of its rejected
    rows would lift the coverage to the threshold; "alerte peut-être due à …" when their amount cannot be read."""
    r = _row(data, "tfpb.valorise", code_qpv, bailleur)
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


def _provisoires(data: BilanData, figures: list[tuple[str, str]]) -> list[dict]:
    return [{"chiffre": label, "note": text} for label, code in figures if (text := note(data, code))]


def _invert(labels: dict[str, str]) -> dict[str, str]:
    return {v: k for k, v in labels.items()}


def annoter(context: dict, data: BilanData) -> dict:
    """Adds the rejected-row notes to the sections of a bilan's context (in place) and returns it."""
    if data.rejets.empty:
        return context
    for c in context["synthese"]["chiffres"]:
        c["provisoire"] = note(data, c["mesure"])
    _referentiel(context["referentiel"], data)
    _programmation(context["programmation"], data)
    _engagements(context["engagements"], data)
    _tfpb(context["tfpb"], data)
    for page in context["qpv_pages"]:
        page["provisoire"] = note(data, "prog.montant_accorde", page["code"])
        for t in page.get("tfpb", []):
            _tfpb_row(t, data, page["code"])
    return context


def _referentiel(section: dict, data: BilanData) -> None:
    if data.referentiel.empty:
        return
    where = {r.code_indicateur: (r.mesure, r.perimetre, None if pd.isna(r.cle) else r.cle)
             for r in data.referentiel.itertuples()}
    for group in section.get("groupes", []):
        for q in group["questions"]:
            for i in q["indicateurs"]:
                if i["code"] in where:
                    i["provisoire"] = note(data, *where[i["code"]])


def _programmation(section: dict, data: BilanData) -> None:
    if section.get("absent"):
        return
    section["provisoires"] = _provisoires(data, [
        ("crédits accordés", "prog.montant_accorde"), ("dossiers accordés", "prog.dossiers_accordes"),
        ("crédits BOP 147", "prog.montant_bop147"), ("droit commun", "prog.montant_droit_commun"),
        ("effet levier du BOP 147", "prog.effet_levier_bop147"), ("part des CPO", "prog.part_cpo_dossiers")])
    funders = _invert(data.vocabulaire.libelles("financeurs"))
    natures = _invert(data.vocabulaire.libelles("natures_credit"))
    for f in section["financeurs"]:
        f["provisoire"] = note(data, f"prog.montant_{natures.get(f['nature'], f['nature'])}",
                               cle=funders.get(f["financeur"], f["financeur"]))
    for o in section["objectifs"]:
        o["provisoire"] = note(data, "prog.montant_accorde", cle=o["code"])
    for q in section["qpv"]:
        q["provisoire"] = note(data, "prog.montant_accorde", q["code"])
    b = section["beneficiaires"]
    if not b.get("absent"):
        b["provisoires"] = _provisoires(data, [("participations", "bilans.beneficiaires"),
                                               ("bilans reçus", "bilans.rapports_recus")])


def _engagements(section: dict, data: BilanData) -> None:
    if section.get("absent"):
        return
    for e in section["lignes"]:
        e["provisoire"] = note(data, "engagement.realise", cle=f"{e['partenaire']} — {e['indicateur']}")
    for d in section["droit_commun"]:
        d["provisoire"] = note(data, "engagements.montant_droit_commun", cle=d["partenaire"])
    section["provisoires"] = _provisoires(data, [
        ("engagements suivis", "engagements.nombre"), ("droit commun mobilisé", "engagements.montant_droit_commun"),
        ("réalisation moyenne", "engagements.taux_realisation_moyen")])
    # a commitment whose only row was rejected is in no table: it is named here, with what it carried. Those the
    # table leaves out past its cap are in the annex, not missing.
    e = data.engagements[data.engagements["perimetre"] == "territoire"] if len(data.engagements) else None
    published = set() if e is None else set(e["partenaire"] + " — " + e["indicateur"])
    frame, cap = data.rejets, data.rendu.elements_par_liste
    gone = plafonner(frame[(frame["code_mesure"] == "engagement.realise") & (frame["perimetre"] == "territoire")
                           & frame["cle"].notna() & ~frame["cle"].isin(published)].sort_values("cle"), cap,
                     # the commitments that lost the most rows first
                     lambda f: f.sort_values("lignes_rejetees", ascending=False, kind="stable"))
    section["absents_rejetes"] = [
        {"engagement": r.cle, "lignes": plafonner_texte(r.lignes, cap, ", "),
         "note": note(data, "engagement.realise", cle=r.cle)
         + (f" ; droit commun : {money}" if (money := _money(data, r.cle)) else "")}
        for r in gone.elements.itertuples()]
    section["absents_autres"] = gone.ligne


def _money(data: BilanData, cle: str) -> str:
    partner = cle.split(" — ", 1)[0]
    r = _row(data, "engagements.montant_droit_commun", "territoire", partner)
    return euros(r["montant_rejete"]) if r is not None and pd.notna(r["montant_rejete"]) else ""


def _tfpb_row(row: dict, data: BilanData, code_qpv: str) -> None:
    t = data.tfpb
    match = t[(t["bailleur"] == row["bailleur"]) & (t["code_qpv"] == code_qpv)] if len(t) else t
    if match.empty:
        return
    m = match.iloc[0]
    row["provisoire"] = (cause_alerte_tfpb(data, m["bailleur"], code_qpv, m["montant_abattement"],
                                           m["montant_valorise"])
                         if row.get("alerte") else note(data, "tfpb.valorise", code_qpv, row["bailleur"]))


def _tfpb(section: dict, data: BilanData) -> None:
    if section.get("absent"):
        return
    codes = dict(zip(data.qpv["nom_qpv"], data.qpv["code_qpv"])) if len(data.qpv) else {}
    for row in section["lignes"]:
        _tfpb_row(row, data, codes.get(row["qpv"], row["qpv"]))
    caused = _alertes_dues(data)
    section["alertes_rejets"] = (f"dont {nombre(caused)} due{'s' if caused > 1 else ''} à des lignes rejetées"
                                 if caused else "")
    section["provisoires"] = _provisoires(data, [
        ("abattement", "tfpb.abattement"), ("contreparties valorisées", "tfpb.valorise"),
        ("couverture", "tfpb.taux_couverture"), ("logements", "tfpb.logements"),
        ("alertes de couverture", ALERTES_TFPB)])
