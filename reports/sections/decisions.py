"""What came of the last COPIL's decisions (config/decisions/<territoire>/<annee - 1>.yaml): each decision, its
pilot and deadline, its state as the steward records it, and the movement of the figures it is linked to — the
referential's indicators (value, previous value, status), the credits of its objectives and quartiers, what its
partners committed or its landlords valued. Left out of the bilan when no decision was recorded."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from core.config.bilan import Section
from reports.data import BilanData
from reports.format import euros, nombre, pct, valeur
from reports.sections.commun import objectif_titles


def _indicator(data: BilanData, code: str, statuts: dict[str, str]) -> str | None:
    ref = data.referentiel
    rows = ref[ref["code_indicateur"] == code] if len(ref) else ref
    if rows.empty:
        return None
    r = rows.iloc[0]
    now = "—" if pd.isna(r["valeur"]) else valeur(r["valeur"], r["unite"])
    before = ("" if pd.isna(r["valeur_precedente"]) or pd.isna(r["annee_donnees_precedente"]) else
              f" ({valeur(r['valeur_precedente'], r['unite'])} en {int(r['annee_donnees_precedente'])})")
    return f"{r['libelle']} : {now}{before} — {statuts.get(r['statut'], r['statut'])}"


def _credits(data: BilanData, label: str, perimetre: str = "territoire", cle: str | None = None) -> str:
    now = data.m("prog.montant_accorde", perimetre, cle)
    before = data.m("prog.montant_accorde", perimetre, cle, before=True)
    return (f"{label} : {euros(now or 0)} accordés en {data.annee}"
            + ("" if before is None else f" ({euros(before)} en {data.annee - 1})"))


def _partner(data: BilanData, nom: str) -> str | None:
    if nom in data.territoire.bailleurs:
        valued = data.keyed("tfpb.valorise").get(nom)
        before = data.m("tfpb.valorise", cle=nom, before=True)
        if valued is None:
            return f"{nom} : aucune déclaration TFPB en {data.annee}"
        return (f"{nom} : {euros(valued)} de contreparties TFPB valorisées en {data.annee}"
                + ("" if before is None else f" ({euros(before)} en {data.annee - 1})"))
    e = data.table("engagements")
    mine = e[(e["partenaire"] == nom) & (e["perimetre"] == "territoire")] if len(e) else e
    if mine.empty:
        return f"{nom} : aucun engagement transmis pour {data.annee}"
    given = mine[mine["taux_realisation"].notna()]
    missing = len(mine) - len(given)
    text = f"{nom} : {nombre(len(mine))} engagement{'s' if len(mine) > 1 else ''}"
    if len(given):
        text += f", réalisation moyenne {pct(given['taux_realisation'].clip(upper=100).mean(), 0)}"
    if missing:
        text += f", {nombre(missing)} sans valeur réalisée"
    return text


def build(data: BilanData, section: Section, geography) -> dict:
    d = data.decisions
    if d is None:
        return {"hors_bilan": True}
    etats = data.vocabulaire.libelles("etats_decision")
    closed = {t.code for t in data.vocabulaire.termes("etats_decision") if t.positive}
    statuts = data.vocabulaire.libelles("statuts_indicateur")
    # a deadline is judged at this bilan's COPIL (else at the end of its year), not at the day it is printed
    as_of = next((c.date for c in data.territoire.copil if c.annee_bilan == data.annee), dt.date(data.annee, 12, 31))
    titles = objectif_titles(data)
    names = {q.code: q.nom for q in data.territoire.qpv}
    items = []
    for dec in d.decisions:
        figures = [f for f in (
            *(_indicator(data, code, statuts) for code in dec.indicateurs),
            *(_credits(data, f"Objectif « {titles.get(o, o)} »", cle=o) for o in dec.objectifs),
            *(_credits(data, names.get(q, q), q) for q in dec.qpv),
            *(_partner(data, p) for p in dec.partenaires)) if f]
        items.append({"code": dec.code, "texte": dec.texte, "pilote": dec.pilote,
                      "echeance": dec.echeance.strftime("%d/%m/%Y"), "etat": etats.get(dec.etat, dec.etat),
                      "etat_code": dec.etat, "suivi": dec.suivi, "chiffres": figures,
                      "depassee": dec.echeance < as_of and dec.etat not in closed})
    counts = pd.Series([dec.etat for dec in d.decisions]).value_counts()
    resume = [f"{nombre(int(counts[t.code]))} {t.libelle}" for t in data.vocabulaire.termes("etats_decision")
              if t.code in counts]
    return {"copil": d.copil.strftime("%d/%m/%Y"), "decisions": items, "resume": resume,
            "echeances_depassees": sum(1 for i in items if i["depassee"]),
            "titre_valeurs": {"copil": d.copil.strftime("%d/%m/%Y")}}
