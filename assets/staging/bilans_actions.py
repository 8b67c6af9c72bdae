"""bilans_actions — porteurs' reports on their actions (contracts/bilans_actions.md)."""

from __future__ import annotations

import pandas as pd

from assets.staging.contract import Col, TableContract, flag
from assets.staging.family import Context, Family
from assets.staging.programmation import DOSSIER_ALIASES

BILANS_ACTIONS = TableContract(
    name="bilans_actions",
    columns=(
        Col("numero_dossier", required=True, aliases=DOSSIER_ALIASES),
        Col("annee_action", "entier", required=True),
        Col("realisation", "choix", required=True, choices=("realisee", "partielle", "non_realisee")),
        Col("beneficiaires_total", "entier", required=True, minimum=0, aliases=("nombre_beneficiaires",)),
        Col("beneficiaires_femmes", "entier", minimum=0, aliases=("dont_femmes", "femmes")),
        Col("beneficiaires_hommes", "entier", minimum=0, aliases=("dont_hommes", "hommes")),
        Col("beneficiaires_residents_qpv", "entier", minimum=0, aliases=("dont_residents_qpv", "residents_qpv")),
        Col("beneficiaires_moins_26_ans", "entier", minimum=0, aliases=("dont_moins_de_26_ans", "moins_26_ans")),
        Col("depenses_realisees", "nombre", minimum=0),
        Col("commentaire", aliases=("commentaires",)),
    ),
    key=("numero_dossier", "annee_action"),
    later_replaces=True,
)


def row_rules(table: str, frame: pd.DataFrame, raw: pd.DataFrame, ctx: Context) -> list[pd.DataFrame]:
    frame["numero_dossier"] = frame["numero_dossier"].str.upper()
    total = frame["beneficiaires_total"]
    errors = [flag(frame, frame["annee_action"] > ctx.annee, "annee_action", "annee_action",
                   "l'action de " + frame["annee_action"].astype("string")
                   + f" ne peut avoir de bilan dans la boîte {ctx.annee}")]
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


def set_rules(tables: dict[str, pd.DataFrame], ctx: Context) -> list[pd.DataFrame]:
    frame = tables["bilans_actions"]
    if ctx.programmation is None or frame.empty:
        return []
    known = ctx.programmation[["numero_dossier", "annee"]].drop_duplicates()
    keys = pd.MultiIndex.from_frame(frame[["numero_dossier", "annee_action"]].astype({"annee_action": "Int64"}))
    found = keys.isin(pd.MultiIndex.from_frame(known.astype({"annee": "Int64"})))
    unknown = pd.Series(~found, index=frame.index) & frame["numero_dossier"].notna() & frame["annee_action"].notna()
    return [flag(frame, unknown, "numero_dossier", "dossier_inconnu",
                 "dossier « " + frame["numero_dossier"].astype("string") + " » absent de la programmation "
                 + frame["annee_action"].astype("string") + " retenue (absent du fichier, ou ses lignes sont en quarantaine)")]


FAMILY = Family(name="bilans_actions", tables=(BILANS_ACTIONS,), version="1", row_rules=row_rules,
                set_rules=set_rules)
