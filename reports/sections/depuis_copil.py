"""What changed since the last COPIL: this year's figures against what that COPIL was shown (last year's bilan as
published by its day, publication.bilans_montres) — indicators whose status changed, figures that moved beyond
their threshold, commitments new or ended, partners who fell silent or came back — and last year's figures revised
since (late or corrected files), with both values. Left out when no bilan was published before that COPIL."""

from __future__ import annotations

import pandas as pd

from core.config.bilan import Section
from reports.data import BilanData
from reports.format import valeur


def _moved(before: float, now: float, unite: str | None, seuil: float | None, notable: float) -> bool:
    """Beyond the indicator's significance threshold; a figure in euros or a count also by `notable` percent."""
    delta = abs(now - before)
    if delta <= max(seuil or 0.0, 1e-9):
        return False
    if unite in ("pourcentage", "points"):
        return True
    return before == 0 or 100 * delta / abs(before) >= notable


def _indicators(data: BilanData, shown: pd.DataFrame) -> tuple[list[dict], list[str]]:
    labels = data.vocabulaire.libelles("statuts_indicateur")
    now = data.referentiel.drop_duplicates("code_indicateur").set_index("code_indicateur") if len(
        data.referentiel) else pd.DataFrame()
    status, moved = [], []
    for r in shown.itertuples():
        if r.code not in now.index:
            continue
        n = now.loc[r.code]
        if n["statut"] != r.statut:
            status.append({"libelle": n["libelle"], "avant": labels.get(r.statut, r.statut),
                           "apres": labels.get(n["statut"], n["statut"])})
        if pd.notna(r.valeur) and pd.notna(n["valeur"]) and _moved(
                float(r.valeur), float(n["valeur"]), r.unite, None if pd.isna(r.seuil) else float(r.seuil),
                data.seuils.get("evolution_notable", 5)):
            moved.append(f"{n['libelle']} : {valeur(r.valeur, r.unite)} → {valeur(n['valeur'], r.unite)}")
    return status, moved


def _revised(data: BilanData, shown: pd.DataFrame) -> list[str]:
    """Last year's figures as the COPIL saw them against last year's figures as published now."""
    now = data.referentiel_avant
    if now.empty:
        return []
    current = now.drop_duplicates("code_indicateur").set_index("code_indicateur")
    out = []
    for r in shown.itertuples():
        if r.code not in current.index:
            continue
        v = current.loc[r.code, "valeur"]
        if (pd.isna(v)) != (pd.isna(r.valeur)) or (pd.notna(v) and abs(float(v) - float(r.valeur)) > 1e-6 * max(
                1.0, abs(float(r.valeur)))):
            out.append(f"{current.loc[r.code, 'libelle']} {data.annee - 1} : {valeur(r.valeur, r.unite)} montré au "
                       f"COPIL, {valeur(v, r.unite)} aujourd'hui (révisé)")
    return out


def _commitments(data: BilanData, shown: pd.DataFrame) -> dict[str, list[str]]:
    e = data.table("engagements")
    mine = e[e["perimetre"] == "territoire"] if len(e) else e
    now = {} if mine.empty else {f"{r.partenaire} — {r.indicateur}": pd.notna(r.valeur_realisee)
                                  for r in mine.itertuples()}
    then = {r.code: r.statut != "non renseigné" for r in shown.itertuples()}

    def silent(given: dict[str, bool]) -> set[str]:
        partners: dict[str, list[bool]] = {}
        for key, ok in given.items():
            partners.setdefault(key.split(" — ", 1)[0], []).append(ok)
        return {p for p, oks in partners.items() if not any(oks)}

    known = {k.split(" — ", 1)[0] for k in then} & {k.split(" — ", 1)[0] for k in now}
    return {"nouveaux": sorted(set(now) - set(then)), "termines": sorted(set(then) - set(now)),
            "silencieux": sorted((silent(now) - silent(then)) & known),
            "revenus": sorted((silent(then) - silent(now)) & known)}


def build(data: BilanData, section: Section, geography) -> dict:
    shown = data.montre_au_copil
    if data.copil_precedent is None or shown.empty:
        return {"hors_bilan": True}
    status, moved = _indicators(data, shown[shown["nature"] == "indicateur"])
    commitments = _commitments(data, shown[shown["nature"] == "engagement"])
    copil = data.copil_precedent.strftime("%d/%m/%Y")
    return {"copil": copil, "montre_le": data.montre_le, "annee_avant": data.annee - 1, "statuts": status,
            "chiffres": moved, "revises": _revised(data, shown[shown["nature"] == "indicateur"]), **commitments,
            "titre_valeurs": {"copil": copil}}
