"""Orientations proposed to the COPIL for the next call for projects, by rules on the published figures, each with
its figure, its pilot (the referential's `orientations.pilote`) and a proposed deadline (the next COPIL). Proposals,
never decisions: the COPIL adopts them or not, and the steward records what it decided (config/decisions/).

Rules, in this order:
1. needs against means: the quartier ranked first on a needs indicator of the referential whose credits per
   inhabitant fell since last year or are under the contract's;
2. lagging indicators (`en retard`): one proposal that names them; their gaps and what their objectives were
   granted are the synthesis's « Points de vigilance », never said twice;
3. the CPO share, observed and projected, against the national aim;
4. the landlords whose counterparts do not cover their TFPB abatement."""

from __future__ import annotations

import pandas as pd

from core.config.bilan import Section
from reports.data import BilanData
from reports.format import euros, liste, pct, valeur
from reports.plafonds import plafonner


def _rank(frame: pd.DataFrame, sens: str) -> pd.DataFrame:
    shown = frame[frame["valeur"].notna() & ~frame["secret"].fillna(False).astype(bool)]
    return shown.sort_values(["valeur", "perimetre"], ascending=[sens == "baisse", True], kind="stable")


def _needs(data: BilanData) -> list[dict]:
    if data.orientations is None:
        return []
    ind = data.table("indicateurs")
    if ind.empty:
        return []
    names = {q.code: q.nom for q in data.territoire.qpv}
    average = data.m("prog.montant_par_habitant")
    first: dict[str, list[str]] = {}
    for besoin in data.orientations.besoins:
        rows = _rank(ind[(ind["code_indicateur"] == besoin.indicateur) & (ind["perimetre"] != "territoire")],
                     besoin.sens)
        if len(rows) < 2:
            continue
        top = rows.iloc[0]
        label = str(top["libelle_indicateur"] or besoin.indicateur)
        first.setdefault(top["perimetre"], []).append(
            f"« {label} » ({valeur(top['valeur'], top['unite'])}, {top['millesime']})")
    out = []
    for qpv, what in first.items():
        now = data.m("prog.montant_par_habitant", qpv)
        before = data.m("prog.montant_par_habitant", qpv, before=True)
        fell = now is not None and before is not None and now < before
        under = now is not None and average is not None and now < average
        if not (fell or under):
            continue
        means = f"{euros(now, 2)} accordés par habitant en {data.annee}"
        if before is not None:
            means += f" ({euros(before, 2)} en {data.annee - 1})"
        if average is not None:
            means += f", pour {euros(average, 2)} dans l'ensemble des quartiers"
        out.append({"regle": "besoins", "texte": f"Renforcer les crédits vers {names.get(qpv, qpv)}",
                    "chiffre": f"Premier des {len(data.territoire.qpv)} quartiers pour {liste(what)} ; {means}."})
    return out


def _lagging(data: BilanData) -> list[dict]:
    ref = data.referentiel
    if ref.empty:
        return []
    lagging = ref[ref["statut"] == "en retard"]
    if lagging.empty:
        return []
    names = [f"« {r.libelle} »" for r in lagging.itertuples()]
    what = "l'indicateur en retard" if len(names) == 1 else f"les {len(names)} indicateurs en retard"
    return [{"regle": "retard", "texte": f"Cibler l'appel à projets sur {what}",
             "chiffre": f"{liste(names)} ; leur écart à la cible et les crédits accordés à leurs objectifs en "
                        f"{data.annee} sont dans les points de vigilance de la synthèse."}]


def _cpo(data: BilanData) -> list[dict]:
    aim = data.seuils["part_cpo_visee"]
    now = data.m("prog.part_cpo_dossiers")
    if now is None or now >= aim:
        return []
    ref = data.referentiel
    row = ref[ref["mesure"] == "prog.part_cpo_dossiers"] if len(ref) else ref
    projected = ""
    if len(row) and pd.notna(row.iloc[0]["projection_cible"]):
        r = row.iloc[0]
        projected = f", {pct(r['projection_cible'])} projetés en {int(r['annee_cible'])} au rythme observé"
    return [{"regle": "cpo", "texte": "Proposer une convention pluriannuelle aux porteurs d'actions reconduites",
             "chiffre": f"{pct(now)} des dossiers en CPO en {data.annee}{projected}, pour {pct(aim, 0)} visés par "
                        "la circulaire."}]


def _landlords(data: BilanData) -> list[dict]:
    t = data.table("tfpb")
    if t.empty:
        return []
    names = {q.code: q.nom for q in data.territoire.qpv}
    short = t[t["alerte_couverture"].fillna(False).astype(bool)].sort_values(["bailleur", "code_qpv"])
    out = []
    for bailleur, rows in short.groupby("bailleur", sort=True):
        gap = float((rows["montant_abattement"] * data.seuils["couverture_tfpb"] / 100
                     - rows["montant_valorise"].fillna(0)).clip(lower=0).sum())
        where = liste([f"{pct(r.taux_couverture, 0)} à {names.get(r.code_qpv, r.code_qpv)}"
                       for r in rows.itertuples()])
        out.append({"regle": "tfpb", "texte": f"Demander à {bailleur} un programme d'actions complémentaire",
                    "chiffre": f"Couverture de l'abattement : {where} ; {euros(gap)} de contreparties à valoriser "
                               "pour le couvrir."})
    return out


def build(data: BilanData, section: Section, geography) -> dict:
    pilote = data.orientations.pilote if data.orientations else data.territoire.nom_court
    next_copil = next((c.date for c in sorted(data.territoire.copil, key=lambda c: c.date)
                       if c.annee_bilan == data.annee + 1), None)
    deadline = (f"COPIL du {next_copil:%d/%m/%Y}" if next_copil else f"bilan {data.annee + 1}")
    proposals = [*_needs(data), *_lagging(data), *_cpo(data), *_landlords(data)]
    shown = plafonner(proposals, data.rendu.elements_par_liste)
    items = [{**p, "numero": i, "pilote": pilote, "echeance": deadline}
             for i, p in enumerate(shown.elements, start=1)]
    return {"propositions": items, "autres": shown.ligne}
