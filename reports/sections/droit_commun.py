"""The partners' commitments of the year (droit commun): each commitment's target, achievement and rate, the
chart of the least achieved, the droit commun money by partner, and the commitments missing because their row
was rejected."""

from __future__ import annotations

import pandas as pd

from core.config.bilan import Section
from reports import charts
from reports.data import BilanData
from reports.format import euros, nombre, pct, valeur
from reports.plafonds import plafonner
from reports.rejets import note, provisoires, rejected_row
from reports.sections.commun import manquants, moins_realises
from reports.sections.commun import missing as missing_notice


def build(data: BilanData, section: Section, geography) -> dict:
    missing = missing_notice(data, section.famille)
    if missing:
        return {"absent": missing, "manquants": manquants(data, section.famille)}
    engagements = data.table("engagements")
    e = engagements[engagements["perimetre"] == "territoire"]
    alert = data.seuils["alerte_realisation_engagement"]
    shown = plafonner(e, data.rendu.lignes_par_tableau, moins_realises)
    rows = [{"partenaire": r.partenaire, "engagement": r.engagement, "indicateur": r.indicateur, "cle": r.cle,
             "cible": valeur(r.valeur_cible, r.unite), "realise": _realise(r), "taux": pct(r.taux_realisation, 0),
             "alerte": bool(pd.notna(r.taux_realisation) and r.taux_realisation < alert),
             "partiel": _partiel(r)}
            for r in shown.elements.itertuples()]
    dc = plafonner(sorted(data.keyed("engagements.montant_droit_commun").items()), data.rendu.lignes_par_tableau,
                   lambda kv: -kv[1])
    rates = plafonner(e[e["taux_realisation"].notna()], data.rendu.elements_par_graphique, moins_realises)
    bars = rates.elements.assign(libelle=lambda f: f["partenaire"] + " — " + f["indicateur"].str.slice(0, 48))
    title = ("Taux de réalisation des engagements" if not rates.autres else
             f"Taux de réalisation des {nombre(len(bars))} engagements les moins réalisés, sur "
             f"{nombre(len(bars) + rates.autres)}")
    chart = charts.bar(bars, "taux_realisation", "libelle", f"{title} (cible = 100 %)",
                       f"engagements des partenaires {data.annee}", "Réalisé / cible (%)",
                       fmt=",.0f", rule=100) if len(bars) else None
    out = {"absent": None, "lignes": rows, "graphique": chart, "graphique_autres": rates.ligne,
       "lignes_plafond": shown.resume("engagements", "au taux de réalisation le plus bas (puis ceux sans taux), "
                                      "listés par partenaire"),
       "droit_commun": [{"partenaire": partenaire, "montant": euros(montant)} for partenaire, montant
                        in dc.elements],
       "droit_commun_plafond": dc.resume("partenaires", "au droit commun mobilisé le plus élevé, par ordre "
                                         "alphabétique"),
       "seuil_alerte": pct(alert, 0),
       "total_droit_commun": euros(data.m("engagements.montant_droit_commun")),
       "non_renseignes": nombre(data.m("engagements.non_renseignes")),
       "nombre": nombre(data.m("engagements.nombre")),
       "par_qpv": _qpv_only(engagements, e),
       "manquants": manquants(data, section.famille)}
    _provisoires(out, data)
    return out


def _realise(r) -> str:
    return "non renseigné" if r.non_renseigne and pd.isna(r.valeur_realisee) else valeur(r.valeur_realisee, r.unite)


def _partiel(r) -> dict | None:
    """« partiel : 7 QPV sur 8 ; taux sur leur cible (569) »: a territory value summed over the QPV that reported,
    when some did not — its rate is on those QPV's target, not the whole one the table shows, and says so."""
    if r.agregat != "somme" or not r.partiel:
        return None
    target = (r.valeur_realisee * 100 / r.taux_realisation
              if pd.notna(r.taux_realisation) and r.taux_realisation and pd.notna(r.valeur_realisee) else None)
    return {"renseignes": nombre(r.qpv_renseignes), "engages": nombre(r.qpv_engages),
            "cible_renseignes": None if target is None else valeur(target, r.unite)}


def _qpv_only(engagements: pd.DataFrame, territory: pd.DataFrame) -> list[dict]:
    """Commitments given QPV by QPV only (a rate is never summed across QPV): no territory value, so a line that
    sends the reader to the quartiers' pages rather than a commitment missing from the table."""
    if engagements.empty:
        return []
    known = set(zip(territory["partenaire"], territory["indicateur"]))
    per_qpv = engagements[engagements["perimetre"] != "territoire"]
    out = []
    for (partenaire, indicateur), rows in per_qpv.groupby(["partenaire", "indicateur"], sort=True):
        if (partenaire, indicateur) in known:
            continue
        first = rows.iloc[0]
        given = int(rows["valeur_realisee"].notna().sum())
        out.append({"partenaire": partenaire, "engagement": first["engagement"], "indicateur": indicateur,
                    "qpv": nombre(len(rows)), "renseignes": nombre(given)})
    return out




def _provisoires(section: dict, data: BilanData) -> None:
    """The commitments fed by rejected rows get their note; those whose only row was rejected are named."""
    for e in section["lignes"]:
        e["provisoire"] = note(data, "engagement.realise", cle=f"{e['partenaire']} — {e['indicateur']}")
    for d in section["droit_commun"]:
        d["provisoire"] = note(data, "engagements.montant_droit_commun", cle=d["partenaire"])
    section["provisoires"] = provisoires(data, [
        ("engagements suivis", "engagements.nombre"), ("droit commun mobilisé", "engagements.montant_droit_commun"),
        ("réalisation moyenne", "engagements.taux_realisation_moyen")])
    # a commitment whose only row was rejected is in no table: it is named here, with what it carried. Those the
    # table leaves out past its cap are in the annex, not missing.
    if data.rejets.empty:
        section["absents_rejetes"], section["absents_autres"] = [], ""
        return
    engagements = data.table("engagements")
    e = engagements[engagements["perimetre"] == "territoire"] if len(engagements) else None
    published = set() if e is None else set(e["partenaire"] + " — " + e["indicateur"])
    frame, cap = data.rejets, data.rendu.elements_par_liste
    gone = plafonner(frame[(frame["code_mesure"] == "engagement.realise") & (frame["perimetre"] == "territoire")
                           & frame["cle"].notna() & ~frame["cle"].isin(published)].sort_values("cle"), cap,
                     # the commitments that lost the most rows first
                     lambda f: f.sort_values("lignes_rejetees", ascending=False, kind="stable"))
    section["absents_rejetes"] = [
        # the files and lines go to the partner's correction list (feedback workbook, annex), not to the body
        {"engagement": r.cle,
         "note": note(data, "engagement.realise", cle=r.cle)
         + (f" ; droit commun : {money}" if (money := _money(data, r.cle)) else "")}
        for r in gone.elements.itertuples()]
    section["absents_autres"] = gone.ligne


def _money(data: BilanData, cle: str) -> str:
    partner = cle.split(" — ", 1)[0]
    r = rejected_row(data, "engagements.montant_droit_commun", "territoire", partner)
    return euros(r["montant_rejete"]) if r is not None and pd.notna(r["montant_rejete"]) else ""
