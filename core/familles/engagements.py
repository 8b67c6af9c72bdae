"""engagements — partners' commitments and what they achieved (contracts/engagements.md).

Its columns and declarative rules are in config/contrats/engagements.yaml; here, the rule that needs code."""

from __future__ import annotations

import pandas as pd

from core.familles.contract import TableContract, flag
from core.familles.family import Lot


def row_rules(table: TableContract, frame: pd.DataFrame, raw: pd.DataFrame, lot: Lot) -> list[pd.DataFrame]:
    percent = frame["unite"] == "pourcentage"
    return [flag(frame, percent & (frame[c] > 100), c, "valeur_maximale",
                 "« " + raw[c].astype("string") + " » : un pourcentage ne peut dépasser 100", value=raw[c])
            for c in ("valeur_cible", "valeur_realisee")]
