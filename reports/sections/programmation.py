"""The year's programming: granted money by financeur, objective and quartier, BOP 147 leverage, the CPO share,
financeur × axe, asked / granted / paid, the year's CPO, and the participation declared by the porteurs' action
reports of the year before."""

from __future__ import annotations

import pandas as pd

from core.config.bilan import Section
from reports import charts
from reports.data import BilanData
from reports.format import NBSP, euros, nombre, pct, ratio
from reports.plafonds import plafonner
from reports.rejets import invert, note, provisoires
from reports.sections.commun import evolution
from reports.sections.commun import missing as missing_notice

NON_RENSEIGNE = "non renseigné"


def build(data: BilanData, section: Section, geography) -> dict:
    missing = missing_notice(data, section.famille)
    if missing:
        return {"absent": missing}
    financeurs, natures = data.vocabulaire.libelles("financeurs"), data.vocabulaire.libelles("natures_credit")
    by_funder = pd.DataFrame([
        {"financeur": f, "financeur_libelle": financeurs.get(f, f), "nature": natures[n], "montant_accorde": montant,
         "part": data.m(f"prog.part_{n}", cle=f)}
        for n in natures for f, montant in data.keyed(f"prog.montant_{n}").items() if montant > 0],
        columns=["financeur", "financeur_libelle", "nature", "montant_accorde", "part"])
    funders = [{"financeur": r.financeur_libelle, "nature": r.nature, "montant": euros(r.montant_accorde),
                "part": pct(r.part)}
               for r in by_funder.sort_values("montant_accorde", ascending=False).itertuples()]
    by_objective = pd.DataFrame([
        {"code_objectif": o["code"], "intitule": o["intitule"],
         "dossiers": data.m("prog.dossiers_accordes", cle=o["code"]),
         "montant": data.m("prog.montant_accorde", cle=o["code"])}
        for axe in data.axes for o in axe["objectifs"] if data.m("prog.montant_accorde", cle=o["code"]) is not None],
        columns=["code_objectif", "intitule", "dossiers", "montant"])
    objectives = [{"code": r.code_objectif, "intitule": r.intitule, "dossiers": nombre(r.dossiers),
                   "montant": euros(r.montant)} for r in by_objective.itertuples()]
    qpvs = [{"code": q.code_qpv, "nom": q.nom_qpv, "population": nombre(data.m("prog.population", q.code_qpv)),
             "montant": euros(data.m("prog.montant_accorde", q.code_qpv)),
             "par_habitant": euros(data.m("prog.montant_par_habitant", q.code_qpv), 2)}
            for q in data.qpv.itertuples() if data.m("prog.montant_accorde", q.code_qpv) is not None]
    key = {
        "bop147": euros(data.m("prog.montant_bop147")), "levier": ratio(data.m("prog.effet_levier_bop147")),
        "droit_commun": euros(data.m("prog.montant_droit_commun")),
        "part_droit_commun": pct(data.m("prog.part_droit_commun")),
        "cpo_dossiers": pct(data.m("prog.part_cpo_dossiers")), "cpo_montant": pct(data.m("prog.part_cpo_montant")),
        "cpo_bop147": pct(data.m("prog.part_cpo_montant_bop147")),
        "dossiers": nombre(data.m("prog.dossiers_accordes")), "total": euros(data.m("prog.montant_accorde")),
        "cpo_vise": pct(data.seuils["part_cpo_visee"], 0),
    }
    chart_funders = charts.bar(
        by_funder, "montant_accorde", "financeur_libelle", f"Qui finance la programmation {data.annee} ?",
        f"programmation {data.annee}, crédits accordés par financeur",
        "Montant accordé (€)", color="nature", color_title="Crédits")
    chart_objectives = charts.bar(by_objective, "montant", "intitule",
                                  f"Crédits accordés par objectif général en {data.annee}",
                                  f"programmation {data.annee}, crédits accordés par objectif général",
                                  "Montant accordé (€)", sort=None)
    total, population = data.m("bilans.beneficiaires"), data.m("prog.population")
    beneficiaries = {
        "absent": missing_notice(data, "bilans_actions"),
        "annee": data.annee - 1, "total": nombre(total),
        # participations, not people: set beside the population they would seem to be a share of
        "population": nombre(population),
        "equivalent": pct(100 * total / population, 0) if total is not None and population else None,
        "femmes": pct(data.m("bilans.part_femmes")), "qpv": pct(data.m("bilans.part_residents_qpv")),
        "jeunes": pct(data.m("bilans.part_moins_26_ans")), "rapports": nombre(data.m("bilans.rapports_recus")),
        "taux_rapports": pct(data.m("bilans.taux_rapports")),
    }
    out = {"absent": None, "financeurs": funders, "objectifs": objectives, "qpv": qpvs, "cles": key,
           "graphique_financeurs": chart_funders, "graphique_objectifs": chart_objectives,
           "beneficiaires": beneficiaries, "financeurs_axes": financeurs_axes(data),
           "demande_accorde_verse": demande_accorde_verse(data), "conventions": conventions(data)}
    _provisoires(out, data)
    return out




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
    p = data.table("programmation")
    if not granted or p.empty:
        return {"lignes": [], "plafond": None}
    kept = plafonner(sorted(granted, key=lambda ref: (-granted[ref], ref)), data.rendu.lignes_par_tableau)
    titles = {o["code"]: o["intitule"] for a in data.axes for o in a["objectifs"]}
    rows = p[p["reference_cpo"].isin(kept.elements)].sort_values(["reference_cpo", "numero_dossier"])
    out = []
    for ref, c in rows.groupby("reference_cpo", sort=False):
        first = c.iloc[0]
        debut, fin = first.get("cpo_annee_debut"), first.get("cpo_annee_fin")
        # a CPO's objective, said once: the first of its dossiers' objectives in the referential's order, as its
        # cohorts carry it (assets/marts/cohortes.sql); the others it also funds are counted
        objectifs = sorted(set(c["code_objectif"].dropna()))
        principal = objectifs[0] if objectifs else None
        others = len(objectifs) - 1
        out.append({"reference": ref, "operateur": ", ".join(sorted(set(c["porteur"].dropna()))),
                    "objectif": (titles.get(principal, principal) if principal else NON_RENSEIGNE)
                    + (f" (et {others} autre{'s' if others > 1 else ''} objectif{'s' if others > 1 else ''})"
                       if others > 0 else ""),
                    "periode": f"{int(debut)}-{int(fin)}" if pd.notna(debut) and pd.notna(fin) else NON_RENSEIGNE,
                    "montant": euros(granted[ref]), "valeur": granted[ref]})
    return {"lignes": sorted(out, key=lambda r: (-r["valeur"], r["reference"])),
            "plafond": kept.resume("CPO", "aux crédits les plus élevés")}



def _provisoires(section: dict, data: BilanData) -> None:
    """The programming's figures fed by rejected rows get their note."""
    section["provisoires"] = provisoires(data, [
        ("crédits accordés", "prog.montant_accorde"), ("dossiers accordés", "prog.dossiers_accordes"),
        ("crédits BOP 147", "prog.montant_bop147"), ("droit commun", "prog.montant_droit_commun"),
        ("effet levier du BOP 147", "prog.effet_levier_bop147"), ("part des CPO", "prog.part_cpo_dossiers")])
    funders = invert(data.vocabulaire.libelles("financeurs"))
    natures = invert(data.vocabulaire.libelles("natures_credit"))
    for f in section["financeurs"]:
        f["provisoire"] = note(data, f"prog.montant_{natures.get(f['nature'], f['nature'])}",
                               cle=funders.get(f["financeur"], f["financeur"]))
    for o in section["objectifs"]:
        o["provisoire"] = note(data, "prog.montant_accorde", cle=o["code"])
    for q in section["qpv"]:
        q["provisoire"] = note(data, "prog.montant_accorde", q["code"])
    b = section["beneficiaires"]
    if not b.get("absent"):
        b["provisoires"] = provisoires(data, [("participations", "bilans.beneficiaires"),
                                               ("bilans reçus", "bilans.rapports_recus")])
