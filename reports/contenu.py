"""The content a COPIL expects (issue 12, item 5), from the published tables only: each function formats what
BilanData read from `publication.*`; figures come from published measures."""

from __future__ import annotations

import pandas as pd

from reports.data import BilanData
from reports.format import NBSP, euros, nombre, signe
from reports.plafonds import plafonner

NON_RENSEIGNE = "non renseigné"


def arrete_au(sources: pd.DataFrame, annee: int) -> str | None:
    """The date the bilan's data stop at: the day the last file of the year's box was deposited (as the inbox
    recorded it: the file's modification time), not the day a run first saw it nor the day the bilan was produced,
    so any run on the same files shows the same date."""
    if sources.empty:
        return None
    recus = sources.loc[sources["annee"] == annee, "depose_le"].dropna()
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


def _ratio(part: float | None, whole: float | None) -> str:
    return "—" if part is None or not whole else f"{nombre(100 * part / whole, 0)}{NBSP}%"


def demande_accorde_verse(data: BilanData) -> dict:
    """What was asked (every dossier received), granted and paid (where the file says it), in all and by financeur:
    measures prog.montant_demande, prog.montant_financeur / prog.montant_accorde and prog.montant_verse."""
    asked, granted, paid, known = (data.keyed(c) for c in ("prog.montant_demande", "prog.montant_financeur",
                                                           "prog.montant_verse", "prog.accorde_verse_connu"))
    if data.m("prog.montant_demande") is None:
        return {"lignes": []}
    libelles = data.vocabulaire.libelles("financeurs")
    lignes = [{"code": code, "financeur": libelles.get(code, code), "demande": euros(asked.get(code)),
               "accorde": euros(granted.get(code)), "taux_accord": _ratio(granted.get(code), asked.get(code)),
               "verse": euros(paid.get(code)) if code in paid else NON_RENSEIGNE,
               # on the granted money whose payment is known: an unknown payment is not a payment of 0
               "taux_versement": _ratio(paid.get(code), known.get(code)), "a_verse": code in paid,
               "connu": _ratio(known.get(code), granted.get(code))}
              for code in data.vocabulaire.codes("financeurs") if code in asked or code in granted]
    total = {"demande": euros(data.m("prog.montant_demande")), "accorde": euros(data.m("prog.montant_accorde")),
             "taux_accord": _ratio(data.m("prog.montant_accorde"), data.m("prog.montant_demande")),
             "verse": euros(data.m("prog.montant_verse")) if data.m("prog.montant_verse") is not None
             else NON_RENSEIGNE,
             "taux_versement": _ratio(data.m("prog.montant_verse"), data.m("prog.accorde_verse_connu")),
             "a_verse": data.m("prog.montant_verse") is not None,
             "connu": _ratio(data.m("prog.accorde_verse_connu"), data.m("prog.montant_accorde"))}
    return {"lignes": lignes, "total": total, "sans_versement": [lg["financeur"] for lg in lignes
                                                                 if not lg["a_verse"] and lg["accorde"]]}


def conventions(data: BilanData) -> dict:
    """The CPO of the year's programming: reference, operator, objective, period and what they were granted this
    year (measure prog.montant_cpo), largest first; past the cap, the largest ones."""
    granted = data.keyed("prog.montant_cpo")
    p = data.programmation
    if not granted or p.empty:
        return {"lignes": [], "plafond": None}
    kept = plafonner(sorted(granted, key=lambda ref: (-granted[ref], ref)), data.rendu.lignes_par_tableau)
    titles = {o["code"]: o["intitule"] for a in data.axes for o in a["objectifs"]}
    rows = p[p["reference_cpo"].isin(kept.elements)].sort_values(["reference_cpo", "numero_dossier"])
    out = []
    for ref, c in rows.groupby("reference_cpo", sort=False):
        first = c.iloc[0]
        debut, fin = first.get("cpo_annee_debut"), first.get("cpo_annee_fin")
        out.append({"reference": ref, "operateur": ", ".join(sorted(set(c["porteur"].dropna()))),
                    "objectif": titles.get(first["code_objectif"], first["code_objectif"]),
                    "periode": f"{int(debut)}-{int(fin)}" if pd.notna(debut) and pd.notna(fin) else NON_RENSEIGNE,
                    "montant": euros(granted[ref]), "valeur": granted[ref]})
    return {"lignes": sorted(out, key=lambda r: (-r["valeur"], r["reference"])),
            "plafond": kept.resume("CPO", "aux crédits les plus élevés")}


def tfpb_bailleurs_axes(data: BilanData) -> dict:
    """Each landlord's counterparts by axis of the national framework, with its dwellings, its actions and what the
    abatement and the counterparts come to per dwelling (measures tfpb.valorise_bailleur_axe, tfpb.valorise,
    tfpb.logements, tfpb.actions, tfpb.*_par_logement, per landlord)."""
    cells = data.keyed("tfpb.valorise_bailleur_axe")
    if not cells:
        return {"lignes": []}
    labels = data.vocabulaire.libelles("axes_tfpb")
    axes = [a for a in data.vocabulaire.codes("axes_tfpb") if any(k.endswith(f" · {a}") for k in cells)]
    par_bailleur = {c: data.keyed(c) for c in ("tfpb.valorise", "tfpb.logements", "tfpb.actions",
                                             "tfpb.abattement_par_logement", "tfpb.valorise_par_logement")}
    # landlords are the columns: past the cap, those that valued the most, still in alphabetical order
    kept = plafonner(sorted({k.rsplit(" · ", 1)[0] for k in cells}), data.rendu.colonnes_par_tableau,
                     lambda b: -(par_bailleur["tfpb.valorise"].get(b) or 0))
    bailleurs = kept.elements
    lignes = [{"bailleur": b,
               "cellules": [{"cle": f"{b} · {a}", "montant": euros(cells.get(f"{b} · {a}"))} for a in axes],
               "valorise": euros(par_bailleur["tfpb.valorise"].get(b)),
               "logements": nombre(par_bailleur["tfpb.logements"].get(b)),
               "actions": nombre(par_bailleur["tfpb.actions"].get(b)),
               "abattement_logement": euros(par_bailleur["tfpb.abattement_par_logement"].get(b)),
               "valorise_logement": euros(par_bailleur["tfpb.valorise_par_logement"].get(b))} for b in bailleurs]
    per_axis = data.keyed("tfpb.valorise_axe")
    return {"lignes": lignes, "axes": [{"code": a, "libelle": labels.get(a, a), "montant": euros(per_axis.get(a))}
                                       for a in axes],
            "plafond": kept.resume("bailleurs", "aux contreparties valorisées les plus élevées, par ordre "
                                   "alphabétique"),
            "total": {"valorise": euros(data.m("tfpb.valorise")), "logements": nombre(data.m("tfpb.logements")),
                      "actions": nombre(data.m("tfpb.actions")),
                      "abattement_logement": euros(data.m("tfpb.abattement_par_logement")),
                      "valorise_logement": euros(data.m("tfpb.valorise_par_logement"))}}
