"""The landlords' TFPB abatement: dwellings, abatement and counterparts by landlord and quartier, coverage and
its alerts, counterparts by axis of the national framework and per landlord."""

from __future__ import annotations

import pandas as pd

from core.config.bilan import Section
from reports import charts
from reports.data import BilanData
from reports.format import accorde, compte, euros, nombre, pct
from reports.plafonds import plafonner
from reports.rejets import ALERTES_TFPB, alertes_dues, provisoires, tfpb_row
from reports.sections.commun import manquants, moins_couverts
from reports.sections.commun import missing as missing_notice


def build(data: BilanData, section: Section, geography) -> dict:
    missing = missing_notice(data, section.famille)
    if missing:
        return {"absent": missing}
    t = data.table("tfpb").merge(data.qpv[["code_qpv", "nom_qpv"]], on="code_qpv", how="left")
    shown = plafonner(t, data.rendu.lignes_par_tableau, moins_couverts)
    rows = [{"bailleur": r.bailleur, "qpv": r.nom_qpv, "logements": nombre(r.nb_logements),
             "abattement": euros(r.montant_abattement), "valorise": euros(r.montant_valorise),
             "couverture": pct(r.taux_couverture, 0), "alerte": bool(r.alerte_couverture)}
            for r in shown.elements.itertuples()]
    labels, per_axis = data.vocabulaire.libelles("axes_tfpb"), data.keyed("tfpb.valorise_axe")
    axes = pd.DataFrame([{"axe": a, "libelle": labels[a], "montant_valorise": per_axis[a]} for a in labels
                         if a in per_axis], columns=["axe", "libelle", "montant_valorise"])
    expected = data.seuils["couverture_tfpb"]
    pairs = plafonner(t, data.rendu.elements_par_graphique, moins_couverts)
    bars = pairs.elements.assign(libelle=lambda f: f["bailleur"] + " — " + f["nom_qpv"].fillna(f["code_qpv"]))
    title = ("Couverture de l'abattement par bailleur et QPV" if not pairs.autres else
             f"Couverture de l'abattement : les {nombre(len(bars))} couples bailleur-QPV les moins couverts, sur "
             f"{nombre(len(bars) + pairs.autres)}")
    chart_coverage = charts.bar(bars, "taux_couverture", "libelle", title,
                                f"déclarations TFPB {data.annee} (trait : {pct(expected, 0)})",
                                "Valorisé / abattement (%)", fmt=",.0f", rule=expected)
    chart_axes = charts.bar(axes, "montant_valorise", "libelle", "Contreparties valorisées par axe du cadre national",
                            f"déclarations TFPB {data.annee}", "Montant valorisé (€)")
    out = {"absent": None, "lignes": rows, "graphique_couverture": chart_coverage, "graphique_axes": chart_axes,
       "lignes_plafond": shown.resume("couples bailleur-quartier", "à la couverture la plus basse, listés par "
                                      "bailleur"),
       "graphique_autres": pairs.ligne,
       "abattement": euros(data.m("tfpb.abattement")), "valorise": euros(data.m("tfpb.valorise")),
       "couverture": pct(data.m("tfpb.taux_couverture")), "logements": nombre(data.m("tfpb.logements")),
       "alertes": nombre(data.m("tfpb.alertes_couverture")), "seuil_couverture": pct(expected, 0),
       "alertes_phrase": (compte(data.m("tfpb.alertes_couverture") or 0, "couple bailleur-quartier",
                                 "couples bailleur-quartier").capitalize() + f" sous {pct(expected, 0)}"),
       "manquants": manquants(data, section.famille)}
    out["bailleurs_axes"] = bailleurs_axes(data)
    _provisoires(out, data)
    return out




def bailleurs_axes(data: BilanData) -> dict:
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


def _provisoires(section: dict, data: BilanData) -> None:
    """The TFPB figures fed by rejected rows get their note; an alert they cause says so."""
    codes = dict(zip(data.qpv["nom_qpv"], data.qpv["code_qpv"])) if len(data.qpv) else {}
    for row in section["lignes"]:
        tfpb_row(row, data, codes.get(row["qpv"], row["qpv"]))
    caused = alertes_dues(data)
    # « dont » takes up the pairs just counted (« 3 couples bailleur-quartier sous 100 % »): masculine
    section["alertes_rejets"] = (f"dont {nombre(caused)} {accorde(caused, 'dû', 'dus')} à des lignes rejetées"
                                 if caused else "")
    section["provisoires"] = provisoires(data, [
        ("abattement", "tfpb.abattement"), ("contreparties valorisées", "tfpb.valorise"),
        ("couverture", "tfpb.taux_couverture"), ("logements", "tfpb.logements"),
        ("alertes de couverture", ALERTES_TFPB)])
