"""cohortes — CPO beneficiaries followed over time (contracts/cohortes.md).

Personal data: columns outside the contract are dropped by the reader before anything else sees them, and the
porteur's identifier is replaced by a keyed hash in `prepare`, before typing, validation, quarantine or logs.
"""

from __future__ import annotations

import pandas as pd

from assets.staging.contract import Col, TableContract, flag
from assets.staging.family import Context, Family, qpv_rule

JALONS = ("entree", "6_mois", "12_mois", "24_mois", "sortie")
SITUATIONS = ("emploi_durable", "emploi_transition", "formation_qualifiante", "recherche_emploi", "inactif",
              "perdu_de_vue")

COHORTES = TableContract(
    name="cohortes",
    columns=(
        Col("reference_cpo", required=True, aliases=("cpo",)),
        Col("identifiant_beneficiaire", required=True, aliases=("identifiant", "id_beneficiaire")),
        Col("date_entree", "date", required=True),
        Col("jalon", "choix", required=True, choices=JALONS),
        Col("date_observation", "date", required=True),
        Col("situation", "choix", required=True, choices=SITUATIONS),
        Col("sexe", "choix", choices=("F", "M", "NR")),
        Col("annee_naissance", "entier"),
        Col("code_qpv", aliases=("qpv", "qpv_residence")),
    ),
    key=("reference_cpo", "identifiant_beneficiaire", "jalon"),
    later_replaces=True,
    drop_unknown_columns=True,
)


def prepare(table: str, raw: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    if ctx.pseudonymise is None:
        raise RuntimeError("cohortes : lecture impossible sans clé de pseudonymisation")
    raw = raw.copy()
    raw["identifiant_beneficiaire"] = ctx.pseudonymise(raw["identifiant_beneficiaire"])
    return raw


def row_rules(table: str, frame: pd.DataFrame, raw: pd.DataFrame, ctx: Context) -> list[pd.DataFrame]:
    frame["reference_cpo"] = frame["reference_cpo"].str.upper()
    hors = frame["code_qpv"].str.upper().str.replace(" ", "_", regex=False) == "HORS_QPV"
    checked = frame.assign(code_qpv=frame["code_qpv"].where(~hors.fillna(False)))
    code, qpv_errors = qpv_rule(checked, raw, ctx, "code_qpv")
    frame["code_qpv"] = code.where(~hors.fillna(False), "HORS_QPV")
    entry, seen = frame["date_entree"], frame["date_observation"]
    year_end = pd.Timestamp(year=ctx.annee, month=12, day=31)
    age = entry.dt.year - frame["annee_naissance"]
    return [
        qpv_errors,
        flag(frame, seen < entry, "date_observation", "date_observation",
             "observation du " + seen.dt.strftime("%d/%m/%Y") + " antérieure à l'entrée du "
             + entry.dt.strftime("%d/%m/%Y"), value=raw["date_observation"]),
        flag(frame, seen > year_end, "date_observation", "date_observation",
             "observation du " + seen.dt.strftime("%d/%m/%Y") + f" postérieure à la fin de l'année {ctx.annee}",
             value=raw["date_observation"]),
        flag(frame, (age < 14) | (age > 80), "annee_naissance", "age_entree",
             "âge à l'entrée de " + age.astype("string") + " ans (attendu entre 14 et 80)"),
    ]


def set_rules(tables: dict[str, pd.DataFrame], ctx: Context) -> list[pd.DataFrame]:
    frame = tables["cohortes"]
    if ctx.programmation is None or frame.empty:
        return []
    known = set(ctx.programmation["reference_cpo"].dropna())
    unknown = frame["reference_cpo"].notna() & ~frame["reference_cpo"].isin(known)
    return [flag(frame, unknown, "reference_cpo", "cpo_inconnue",
                 "CPO « " + frame["reference_cpo"].astype("string") + " » absente de la programmation chargée")]


FAMILY = Family(name="cohortes", tables=(COHORTES,), version="1", row_rules=row_rules, set_rules=set_rules,
                prepare=prepare)
