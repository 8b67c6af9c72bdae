"""cohortes — CPO beneficiaries followed over time (contracts/cohortes.md).

Its columns and declarative rules are in config/contrats/cohortes.yaml. Personal data: columns outside the
contract are dropped by the reader before anything else sees them, and the porteur's identifier is replaced by a
keyed hash in `prepare`, before typing, validation, quarantine or logs.
"""

from __future__ import annotations

import pandas as pd

from core.familles.contract import TERRITORY_COLUMN, TableContract, flag
from core.familles.family import Lot, keys


def prepare(table: TableContract, raw: pd.DataFrame, lot: Lot) -> pd.DataFrame:
    if lot.pseudonymise is None:
        raise RuntimeError("cohortes : lecture impossible sans clé de pseudonymisation")
    raw = raw.copy()
    raw["identifiant_beneficiaire"] = lot.pseudonymise(raw["identifiant_beneficiaire"])
    return raw


def row_rules(table: TableContract, frame: pd.DataFrame, raw: pd.DataFrame, lot: Lot) -> list[pd.DataFrame]:
    entry, seen = frame["date_entree"], frame["date_observation"]
    year_end = pd.Timestamp(year=lot.annee, month=12, day=31)
    age = entry.dt.year - frame["annee_naissance"]
    return [
        flag(frame, seen < entry, "date_observation", "date_observation",
             "observation du " + seen.dt.strftime("%d/%m/%Y") + " antérieure à l'entrée du "
             + entry.dt.strftime("%d/%m/%Y"), value=raw["date_observation"]),
        flag(frame, seen > year_end, "date_observation", "date_observation",
             "observation du " + seen.dt.strftime("%d/%m/%Y") + f" postérieure à la fin de l'année {lot.annee}",
             value=raw["date_observation"]),
        flag(frame, (age < 14) | (age > 80), "annee_naissance", "age_entree",
             "âge à l'entrée de " + age.astype("string") + " ans (attendu entre 14 et 80)"),
    ]


def set_rules(tables: dict[str, pd.DataFrame], lot: Lot) -> list[pd.DataFrame]:
    frame = tables["cohortes"]
    if lot.programmation is None or frame.empty:
        return []
    programmation = lot.programmation.dropna(subset=["reference_cpo"])
    known = set(keys(programmation[TERRITORY_COLUMN], programmation["reference_cpo"]))
    unknown = frame["reference_cpo"].notna() & ~keys(frame[TERRITORY_COLUMN], frame["reference_cpo"]).isin(known)
    return [flag(frame, unknown, "reference_cpo", "cpo_inconnue",
                 "CPO « " + frame["reference_cpo"].astype("string") + " » absente de la programmation chargée")]
