"""tfpb — social landlords' TFPB abatement (patrimoine) and counterpart actions (contracts/tfpb.md).

Its two tables and declarative rules are in config/contrats/tfpb.yaml; here, the rule across them."""

from __future__ import annotations

import pandas as pd

from assets.staging.contract import flag
from assets.staging.family import Context
from pipelines.common import normalise_header

def set_rules(tables: dict[str, pd.DataFrame], ctx: Context) -> list[pd.DataFrame]:
    """An action counts against an abatement only where the landlord declared dwellings."""
    actions, patrimoine = tables["tfpb_actions"], tables["tfpb_patrimoine"]
    if actions.empty:
        return []
    landlord = lambda s: s.astype("string").map(normalise_header, na_action="ignore")  # noqa: E731
    declared = pd.MultiIndex.from_arrays([landlord(patrimoine["bailleur"]), patrimoine["code_qpv"].astype("string")])
    wanted = pd.MultiIndex.from_arrays([landlord(actions["bailleur"]), actions["code_qpv"].astype("string")])
    missing = pd.Series(~wanted.isin(declared), index=actions.index) & actions["code_qpv"].notna()
    return [flag(actions, missing, "code_qpv", "patrimoine_absent",
                 "le bailleur « " + actions["bailleur"].astype("string") + " » n'a pas de ligne patrimoine pour "
                 + actions["code_qpv"].astype("string") + f" en {ctx.annee}")]
