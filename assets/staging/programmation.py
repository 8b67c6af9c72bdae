"""programmation — the year's funded actions, one row per dossier and financeur (contracts/programmation.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.staging.contract import AVERTISSEMENT, Col, TableContract, flag
from assets.staging.family import Context, Family, inbox_year_rule, normalise_qpv, qpv_message
from assets.staging.engagements import objectif_rule

DOSSIER_ALIASES = ("n_dossier", "no_dossier", "numero_de_dossier", "dossier", "n_du_dossier")
FINANCEURS = ("etat_bop147", "etat_autre", "epci", "commune", "region", "departement", "caf", "ars", "bailleur",
              "autre")
DESCRIPTIVE = ("porteur", "intitule_action", "code_objectif", "qpv_cibles", "mode_financement", "reference_cpo",
               "cout_total_action")

PROGRAMMATION = TableContract(
    name="programmation",
    columns=(
        Col("numero_dossier", required=True, aliases=DOSSIER_ALIASES),
        Col("annee", "entier", required=True, aliases=("annee_programmation", "exercice")),
        Col("porteur", required=True, aliases=("structure", "raison_sociale")),
        Col("siret"),
        Col("intitule_action", required=True, aliases=("intitule", "libelle_action", "libelle_de_l_action",
                                                       "intitule_de_l_action")),
        Col("code_objectif", required=True, aliases=("objectif",)),
        Col("qpv_cibles", required=True, aliases=("qpv", "qpv_cible", "quartiers_cibles")),
        Col("mode_financement", "choix", required=True, choices=("AAP", "CPO", "fil_de_l_eau"),
            aliases=("mode_de_financement",)),
        Col("reference_cpo"),
        Col("cpo_annee_debut", "entier"),
        Col("cpo_annee_fin", "entier"),
        Col("financeur", "choix", required=True, choices=FINANCEURS),
        Col("nature_credit", "choix", required=True, choices=("specifique", "droit_commun")),
        Col("montant_demande", "nombre", required=True, minimum=0),
        Col("montant_accorde", "nombre", minimum=0),
        Col("statut", "choix", required=True, choices=("accorde", "refuse", "en_instruction", "abandonne")),
        Col("cout_total_action", "nombre", required=True, minimum=0, minimum_strict=True,
            aliases=("cout_total", "cout_total_de_l_action")),
    ),
    key=("numero_dossier", "financeur"),
)


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


def qpv_cibles_rule(frame: pd.DataFrame, raw: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """`QN05934M;QN05938M` or `TOUS`; each code checked; stored canonical and sorted."""
    text = frame["qpv_cibles"].str.upper().str.strip()
    is_all = text == "TOUS"
    codes = text.where(~is_all).str.split(r"[;,]").explode().str.strip()
    codes = codes[codes.notna() & (codes != "")]
    mapped, unknown = normalise_qpv(codes, ctx)
    first_bad = raw["qpv_cibles"].where(pd.Series(False, index=frame.index))
    bad_codes = codes[unknown.fillna(False)]
    bad_rows = bad_codes.groupby(level=0).first()
    first_bad.loc[bad_rows.index] = bad_rows
    canonical = mapped.groupby(level=0).agg(lambda c: ";".join(sorted(set(c))))
    frame["qpv_cibles"] = text.where(is_all, canonical.reindex(frame.index)).astype("string")
    has_bad = frame.index.isin(bad_rows.index)
    msg = qpv_message(first_bad[has_bad], ctx) if has_bad.any() else ""
    return flag(frame, pd.Series(has_bad, index=frame.index), "qpv_cibles", "qpv_inconnu", msg,
                value=raw["qpv_cibles"])


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


def row_rules(table: str, frame: pd.DataFrame, raw: pd.DataFrame, ctx: Context) -> list[pd.DataFrame]:
    frame["numero_dossier"] = frame["numero_dossier"].str.upper()
    frame["reference_cpo"] = frame["reference_cpo"].str.upper()
    granted = frame["montant_accorde"]
    return [
        inbox_year_rule(frame, ctx),
        siret_rule(frame, raw),
        objectif_rule(frame, raw, ctx, allow_axes=False),
        qpv_cibles_rule(frame, raw, ctx),
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
             value=raw["montant_accorde"], gravite=AVERTISSEMENT),
    ]


def set_rules(tables: dict[str, pd.DataFrame], ctx: Context) -> list[pd.DataFrame]:
    """Dossier-level rules: one action described one way, and a total cost that covers what was granted."""
    frame = tables["programmation"]
    if frame.empty:
        return []
    dossier = frame["numero_dossier"]
    errors = []
    for column in DESCRIPTIVE:
        variants = frame[column].astype("string").fillna("\0").groupby(dossier).transform("nunique")
        errors.append(flag(frame, variants > 1, column, "dossier_incoherent",
                           "le dossier « " + dossier.astype("string")
                           + f" » a plusieurs valeurs de « {column} » : tout le dossier est mis en quarantaine"))
    granted = frame["montant_accorde"].groupby(dossier).transform("sum")
    too_low = (frame["cout_total_action"] < granted - 0.005)
    errors.append(flag(frame, too_low, "cout_total_action", "cout_total",
                       "coût total (" + frame["cout_total_action"].astype("string")
                       + " €) inférieur au total accordé du dossier (" + granted.round(2).astype("string") + " €)"))
    return errors


FAMILY = Family(name="programmation", tables=(PROGRAMMATION,), version="1", row_rules=row_rules,
                set_rules=set_rules)
