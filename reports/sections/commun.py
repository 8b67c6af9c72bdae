"""What several sections share: the notice of a missing family, the files not received, the names of objectives
and CPO operators, the comparison levels, the orders of the capped tables and the wording of changes and gaps."""

from __future__ import annotations

import pandas as pd

from core.config.territoire import Territoire
from reports.data import BilanData
from reports.format import NBSP, points, signe

SECRET = "secret statistique"  # what a withheld figure shows (a count under the threshold shows « < 5 »)


def missing(data: BilanData, family: str | None) -> str | None:
    """The notice a section shows instead of itself when the family it is made of sent no file this year."""
    if family is None or data.families_present.get(family):
        return None
    return (f"Aucun fichier « {data.vocabulaire.libelles('familles')[family]} » n'a été reçu pour {data.annee} : "
            "cette partie ne peut pas être établie. Voir la partie Qualité des données.")


def manquants(data: BilanData, famille: str | None = None) -> list[str]:
    """Expected files not received, named in words: « Engagements des partenaires — ARS Hauts-de-France »."""
    labels = data.vocabulaire.libelles("familles")
    pairs = [m.split(" — ", 1) for m in data.fichiers_manquants]
    return [f"{labels.get(f, f)[:1].upper()}{labels.get(f, f)[1:]} — {who}" for f, who in pairs
            if famille is None or f == famille]


def objectif_titles(data: BilanData) -> dict[str, str]:
    titles = {o["code"]: o["intitule"] for a in data.axes for o in a["objectifs"]}
    titles.update({a["code"]: f"priorité {a['code']}" for a in data.axes})
    return titles


def operateurs(data: BilanData) -> dict[str, str]:
    """Each CPO's operator (the porteur of its dossiers in the programmation), to name a CPO by who runs it."""
    p = data.table("programmation")
    if p.empty or "reference_cpo" not in p.columns:
        return {}
    rows = p[p["reference_cpo"].notna()].drop_duplicates("reference_cpo")
    return dict(zip(rows["reference_cpo"], rows["porteur"]))


def comparison_labels(t: Territoire) -> tuple[str, str]:
    """How the territory names its comparison levels: the department's QP and the EPCI."""
    dep = next((n.libelle for n in t.niveaux_comparaison if n.niveau_geo == "qpv_departement"), "QP du département")
    epci = next((n.libelle for n in t.niveaux_comparaison if n.niveau_geo == "epci"), "EPCI")
    return dep, epci


def moins_realises(frame: pd.DataFrame) -> pd.DataFrame:
    """Commitments furthest from their target first, those without a rate after them."""
    return frame.sort_values("taux_realisation", na_position="last", kind="stable")


def moins_couverts(frame: pd.DataFrame) -> pd.DataFrame:
    """Landlord-QPV pairs whose counterparts cover the least of their abatement first."""
    return frame.sort_values("taux_couverture", na_position="last", kind="stable")


def gap(v, unite):
    if pd.isna(v):
        return "—"
    return points(v) if unite == "pourcentage" else signe(v, 1)


def change(r) -> str:
    """An indicator's change since its previous millésime (a row of publication.indicateurs), in its unit."""
    if pd.isna(r.evolution):
        return ""
    # a change is signed whatever its unit: points, percent or the indicator's own
    text = (points(r.evolution) if r.unite_evolution == "points"
            else (f"{signe(r.evolution, 1)}{NBSP}%" if r.unite_evolution == "%" else signe(r.evolution, 1)))
    return text + ("" if pd.isna(r.millesime_precedent) else f" depuis {int(r.millesime_precedent)}")


def evolution(now: float | None, before: float | None) -> str:
    """The change from last year, in percent; "—" when either year is missing or last year was nothing."""
    if now is None or before is None or before == 0:
        return "—"
    return f"{signe(100 * (now - before) / before)}{NBSP}%"
