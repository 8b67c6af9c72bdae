"""programmation — the year's funded actions, one row per dossier and financeur (contracts/programmation.md).

Its columns and declarative rules are in config/contrats/programmation.yaml; here, the rules that need code."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.familles.contract import TERRITORY_COLUMN, TableContract, flag
from core.familles.family import Lot

# the fields that describe the action: the same on every row of a dossier (contracts/programmation.md)
DESCRIPTIVE = ("porteur", "intitule_action", "code_objectif", "qpv_cibles", "mode_financement", "reference_cpo",
               "cout_total_action")


def luhn_valid(digits: pd.Series) -> pd.Series:
    """Luhn checksum over 14-digit strings, vectorised over the digit positions."""
    matrix = np.array([[int(ch) for ch in s] for s in digits], dtype=int).reshape(-1, 14)
    doubled = matrix.copy()
    doubled[:, -2::-2] *= 2          # every second digit from the right
    doubled[doubled > 9] -= 9
    return pd.Series(doubled.sum(axis=1) % 10 == 0, index=digits.index)


def siret_rule(frame: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    siret = frame["siret"].str.replace(r"[\s\u00a0.]", "", regex=True)
    frame["siret"] = siret
    present = siret.notna()
    shape_ok = siret.str.fullmatch(r"\d{14}").fillna(False)
    valid = pd.Series(False, index=frame.index)
    if shape_ok.any():
        valid[shape_ok] = luhn_valid(siret[shape_ok]) | siret[shape_ok].str.startswith("356000000")
    return flag(frame, present & ~valid, "siret", "siret_invalide",
                "« " + raw["siret"].astype("string") + " » n'est pas un SIRET valide (14 chiffres, clé de Luhn)",
                value=raw["siret"])


def cpo_rules(frame: pd.DataFrame) -> list[pd.DataFrame]:
    cpo = frame["mode_financement"] == "CPO"
    incomplete = cpo & (frame["reference_cpo"].isna() | frame["cpo_annee_debut"].isna()
                        | frame["cpo_annee_fin"].isna())
    missing_col = np.select(
        [frame["reference_cpo"].isna(), frame["cpo_annee_debut"].isna()], ["reference_cpo", "cpo_annee_debut"],
        "cpo_annee_fin")
    errors = [flag(frame, incomplete & (pd.Series(missing_col, index=frame.index) == c), c, "cpo_incomplet",
                   f"financement CPO sans « {c} »") for c in ("reference_cpo", "cpo_annee_debut", "cpo_annee_fin")]
    start, end, year = frame["cpo_annee_debut"], frame["cpo_annee_fin"], frame["annee"]
    length = end - start + 1
    bad = cpo & ~incomplete & ((start > year) | (year > end) | (length < 2) | (length > 4))
    errors.append(flag(frame, bad, "cpo_annee_fin", "cpo_periode",
                       "CPO " + start.astype("string") + "-" + end.astype("string") + " : il faut début ≤ "
                       + year.astype("string") + " ≤ fin et une durée de 2 à 4 ans"))
    return errors


def row_rules(table: TableContract, frame: pd.DataFrame, raw: pd.DataFrame, lot: Lot) -> list[pd.DataFrame]:
    granted = frame["montant_accorde"]
    return [
        siret_rule(frame, raw),
        *cpo_rules(frame),
        flag(frame, (frame["financeur"] == "etat_bop147") & (frame["nature_credit"] == "droit_commun"),
             "nature_credit", "bop147_specifique", "les crédits etat_bop147 sont toujours « specifique »"),
        flag(frame, frame["statut"].isin(["refuse", "abandonne"]) & (granted > 0), "montant_accorde",
             "statut_montant", "dossier « " + frame["statut"].astype("string")
             + " » avec un montant accordé de " + raw["montant_accorde"].astype("string"),
             value=raw["montant_accorde"]),
        flag(frame, granted > frame["montant_demande"], "montant_accorde", "montant_superieur_demande",
             "montant accordé (" + raw["montant_accorde"].astype("string") + ") supérieur au montant demandé ("
             + raw["montant_demande"].astype("string") + ") : conservé, à vérifier",
             value=raw["montant_accorde"]),
        flag(frame, frame["montant_verse"] > granted, "montant_verse", "versement_superieur_accorde",
             "montant versé (" + raw["montant_verse"].astype("string") + ") supérieur au montant accordé ("
             + raw["montant_accorde"].astype("string") + ")", value=raw["montant_verse"]),
    ]


def set_rules(tables: dict[str, pd.DataFrame], lot: Lot) -> list[pd.DataFrame]:
    """Dossier-level rules: one action described one way, and a total cost that covers what was granted."""
    frame = tables["programmation"]
    if frame.empty:
        return []
    dossier = frame["numero_dossier"]
    in_dossier = [frame[TERRITORY_COLUMN], dossier]   # a dossier number is a territory's own
    errors = []
    for column in DESCRIPTIVE:
        variants = frame[column].astype("string").fillna("\0").groupby(in_dossier).transform("nunique")
        errors.append(flag(frame, variants > 1, column, "dossier_incoherent",
                           "le dossier « " + dossier.astype("string")
                           + f" » a plusieurs valeurs de « {column} » : tout le dossier est mis en quarantaine"))
    granted = frame["montant_accorde"].groupby(in_dossier).transform("sum")
    too_low = (frame["cout_total_action"] < granted - 0.005)
    errors.append(flag(frame, too_low, "cout_total_action", "cout_total",
                       "coût total (" + frame["cout_total_action"].astype("string")
                       + " €) inférieur au total accordé du dossier (" + granted.round(2).astype("string") + " €)"))
    return errors
