"""indicateurs — socio-demographic indicators per geographic level and millésime (contracts/indicateurs.md).

Its columns, declarative rules and the form of a code per level are in config/contrats/indicateurs.yaml; here,
the rules that need code."""

from __future__ import annotations

import pandas as pd

from assets.staging.contract import TableContract, flag
from assets.staging.family import Context, normalise_qpv, qpv_message


def row_rules(table: TableContract, frame: pd.DataFrame, raw: pd.DataFrame, ctx: Context) -> list[pd.DataFrame]:
    forms = table.col("code_geo").patterns
    if forms is None:
        raise ValueError("contrats/indicateurs.yaml : la colonne code_geo a besoin de `motifs_selon`")
    niveau = frame[forms.colonne]
    code = frame["code_geo"]
    qpv = niveau.isin(forms.qpv_si)
    mapped, unknown_qpv = normalise_qpv(code.where(qpv), ctx)
    frame["code_geo"] = code.where(~qpv, mapped)
    pattern_ok = pd.Series(True, index=frame.index)
    for level, pattern in forms.motifs.items():
        at = niveau == level
        pattern_ok[at] = code[at].str.match(pattern).fillna(False)
    errors = [
        flag(frame, ~frame["code_indicateur"].isin(set(ctx.catalogue.codes)) & frame["code_indicateur"].notna(),
             "code_indicateur", "indicateur_inconnu",
             "« " + raw["code_indicateur"].astype("string") + " » n'est pas dans le catalogue "
             + ctx.catalogue.code, value=raw["code_indicateur"]),
        flag(frame, qpv & unknown_qpv, "code_geo", "qpv_inconnu",
             qpv_message(raw["code_geo"][qpv & unknown_qpv.fillna(False)], ctx) if (qpv & unknown_qpv).any() else "",
             value=raw["code_geo"]),
        flag(frame, ~pattern_ok & code.notna(), "code_geo", "code_geo_invalide",
             "« " + raw["code_geo"].astype("string") + " » n'est pas un code de niveau « "
             + niveau.astype("string") + " »", value=raw["code_geo"]),
        flag(frame, frame["millesime"] > ctx.annee, "millesime", "valeur_maximale",
             "millésime " + frame["millesime"].astype("string") + f" postérieur à l'année de la boîte ({ctx.annee})"),
    ]
    percent = frame["unite"] == "pourcentage"
    value = frame["valeur"]
    errors.append(flag(frame, percent & ((value < 0) | (value > 100)), "valeur", "valeur_maximale",
                       "« " + raw["valeur"].astype("string") + " » : un pourcentage est compris entre 0 et 100",
                       value=raw["valeur"]))
    ratio = 100 * frame["numerateur"] / frame["denominateur"].where(frame["denominateur"] != 0)
    mismatch = percent & value.notna() & ratio.notna() & ((value - ratio).abs() > ctx.tolerance_ratio + 1e-9)
    errors.append(flag(frame, mismatch, "valeur", "ratio_incoherent",
                       "valeur " + raw["valeur"].astype("string") + " ≠ 100 × " + raw["numerateur"].astype("string")
                       + " / " + raw["denominateur"].astype("string") + " = " + ratio.round(1).astype("string")
                       + f" (tolérance {ctx.tolerance_ratio:g} point)", value=raw["valeur"]))
    errors.append(flag(frame, frame["secret"].fillna(False) & value.notna(), "valeur", "secret_avec_valeur",
                       "valeur « " + raw["valeur"].astype("string") + " » donnée alors que « secret » est vrai",
                       value=raw["valeur"]))
    return errors
