"""tfpb — social landlords' TFPB abatement (patrimoine) and counterpart actions (contracts/tfpb.md)."""

from __future__ import annotations

import pandas as pd

from assets.staging.contract import Col, TableContract, flag
from assets.staging.family import Context, Family, inbox_year_rule, qpv_rule
from pipelines.common import normalise_header

AXES_TFPB = ("personnel_proximite", "formation_personnel", "sur_entretien", "dechets_encombrants", "tranquillite",
             "concertation", "lien_social", "petits_travaux")

PATRIMOINE = TableContract(
    name="tfpb_patrimoine",
    sheet="patrimoine",
    columns=(
        Col("bailleur", required=True),
        Col("code_qpv", required=True, aliases=("qpv",)),
        Col("annee", "entier", required=True),
        Col("nb_logements", "entier", required=True, minimum=0, minimum_strict=True,
            aliases=("nombre_de_logements", "logements")),
        Col("montant_abattement", "nombre", required=True, minimum=0, aliases=("abattement",)),
    ),
    key=("bailleur", "code_qpv", "annee"),
)

ACTIONS = TableContract(
    name="tfpb_actions",
    sheet="actions",
    columns=(
        Col("bailleur", required=True),
        Col("code_qpv", required=True, aliases=("qpv",)),
        Col("annee", "entier", required=True),
        Col("axe", "choix", required=True, choices=AXES_TFPB),
        Col("intitule_action", required=True, aliases=("action", "libelle_action")),
        Col("montant_valorise", "nombre", required=True, minimum=0),
        Col("cofinancement", "nombre", minimum=0),
    ),
    key=(),  # the contract gives no key: a landlord may run two actions of the same name
)


def row_rules(table: str, frame: pd.DataFrame, raw: pd.DataFrame, ctx: Context) -> list[pd.DataFrame]:
    frame["code_qpv"], qpv_errors = qpv_rule(frame, raw, ctx, "code_qpv")
    return [inbox_year_rule(frame, ctx), qpv_errors]


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


FAMILY = Family(name="tfpb", tables=(PATRIMOINE, ACTIONS), version="1", row_rules=row_rules, set_rules=set_rules)
