"""bilans_actions — porteurs' reports on their actions (contracts/bilans_actions.md).

Its columns and declarative rules are in config/contrats/bilans_actions.yaml; here, the rules that need code."""

from __future__ import annotations

import pandas as pd

from core.familles.contract import TERRITORY_COLUMN, TableContract, flag
from core.familles.family import Lot


def row_rules(table: TableContract, frame: pd.DataFrame, raw: pd.DataFrame, lot: Lot) -> list[pd.DataFrame]:
    total = frame["beneficiaires_total"]
    errors = [flag(frame, frame["annee_action"] > lot.annee, "annee_action", "annee_action",
                   "l'action de " + frame["annee_action"].astype("string")
                   + f" ne peut avoir de bilan dans la boîte {lot.annee}")]
    for column, label in (("beneficiaires_femmes", "femmes"), ("beneficiaires_residents_qpv", "résidents des QPV"),
                          ("beneficiaires_moins_26_ans", "moins de 26 ans")):
        errors.append(flag(frame, frame[column] > total, column, "beneficiaires_incoherents",
                           f"{label} (" + frame[column].astype("string") + ") plus nombreux que le total ("
                           + total.astype("string") + ")"))
    both = frame["beneficiaires_femmes"].fillna(0) + frame["beneficiaires_hommes"].fillna(0)
    errors.append(flag(frame, (both > total) & (frame["beneficiaires_femmes"] <= total), "beneficiaires_hommes",
                       "beneficiaires_incoherents",
                       "femmes + hommes (" + both.astype("string") + ") dépasse le total ("
                       + total.astype("string") + ")"))
    return errors


def set_rules(tables: dict[str, pd.DataFrame], lot: Lot) -> list[pd.DataFrame]:
    frame = tables["bilans_actions"]
    if lot.programmation is None or frame.empty:
        return []
    known = lot.programmation[[TERRITORY_COLUMN, "numero_dossier", "annee"]].drop_duplicates()
    wanted = pd.MultiIndex.from_frame(frame[[TERRITORY_COLUMN, "numero_dossier", "annee_action"]]
                                      .astype({"annee_action": "Int64"}))
    found = wanted.isin(pd.MultiIndex.from_frame(known.astype({"annee": "Int64"})))
    unknown = pd.Series(~found, index=frame.index) & frame["numero_dossier"].notna() & frame["annee_action"].notna()
    return [flag(frame, unknown, "numero_dossier", "dossier_inconnu",
                 "dossier « " + frame["numero_dossier"].astype("string") + " » absent de la programmation "
                 + frame["annee_action"].astype("string")
                 + " retenue (absent du fichier, ou ses lignes sont en quarantaine)")]
