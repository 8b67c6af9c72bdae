"""tfpb — social landlords' TFPB abatement (patrimoine) and counterpart actions (contracts/tfpb.md).

Its two tables and declarative rules are in config/contrats/tfpb.yaml; here, the rule across them."""

from __future__ import annotations

import pandas as pd

from core.familles.contract import TERRITORY_COLUMN, flag
from core.familles.family import Lot


def set_rules(tables: dict[str, pd.DataFrame], lot: Lot) -> list[pd.DataFrame]:
    """An action counts against an abatement only where the landlord declared dwellings."""
    actions, patrimoine = tables["tfpb_actions"], tables["tfpb_patrimoine"]
    if actions.empty:
        return []
    declared = pd.MultiIndex.from_arrays([patrimoine[TERRITORY_COLUMN], patrimoine["cle_bailleur"],
                                          patrimoine["code_qpv"].astype("string")])
    wanted = pd.MultiIndex.from_arrays([actions[TERRITORY_COLUMN], actions["cle_bailleur"],
                                        actions["code_qpv"].astype("string")])
    missing = pd.Series(~wanted.isin(declared), index=actions.index) & actions["code_qpv"].notna()
    return [flag(actions, missing, "code_qpv", "patrimoine_absent",
                 "le bailleur « " + actions["bailleur"].astype("string") + " » n'a pas de ligne patrimoine pour "
                 + actions["code_qpv"].astype("string") + f" en {lot.annee}")]
