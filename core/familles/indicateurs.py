"""indicateurs — socio-demographic indicators per geographic level and millésime (contracts/indicateurs.md).

Its columns, declarative rules and the form of a code per level are in config/contrats/indicateurs.yaml; here,
the rules that need code."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from core.common import nearest
from core.config.territoire import Territoire
from core.familles.contract import TERRITORY_COLUMN, TableContract, flag
from core.familles.family import Lot, key_set, keys, normalise_qpv, qpv_message

# what each kind of the territory's own code is called in a message, and the codes it may take
_OWN = {
    "siren_epci": ("le SIREN de l'EPCI", lambda t: [t.siren_epci]),
    "departement": ("le département", lambda t: [t.departement]),
    "communes": ("une commune", lambda t: [c.code_insee for c in t.communes]),
    "quartiers_complementaires": ("un quartier de la géographie complémentaire",
                                  lambda t: t.codes_complementaires),
}


def own_codes(territoire: Territoire, kind: str) -> list[str]:
    return _OWN[kind][1](territoire)


def outside_message(code: str, kind: str, territoire: Territoire) -> str:
    """« 200041234 » n'est pas le SIREN de l'EPCI du territoire ccco (attendu : 245901152)."""
    what, _ = _OWN[kind]
    valid = own_codes(territoire, kind)
    expected = (valid[0] if len(valid) == 1 else "aucun n'est déclaré" if not valid
                else f"l'une de ses {len(valid)} communes" if kind == "communes" else f"l'un de ses {len(valid)} codes")
    guess = nearest(code, valid) if len(valid) > 1 else None
    hint = f" ; la plus proche : {guess}" if guess else ""
    return (f"« {code} » n'est pas {what} du territoire {territoire.code} (attendu : {expected}{hint}) : "
            "la ligne d'un autre territoire n'est pas prise pour celle du contrat")


def territory_rule(frame: pd.DataFrame, raw: pd.DataFrame, niveau: pd.Series, code: pd.Series,
                   checked: pd.Series, territoire_si: Mapping[str, str], lot: Lot) -> pd.DataFrame:
    """Rows at a level where the code is the territory's own (contract: `territoire_si`) whose code is not."""
    kind = niveau.map(territoire_si).astype("string")
    territoires = frame[TERRITORY_COLUMN]
    outside = pd.Series(False, index=frame.index)
    for k in set(territoire_si.values()):
        at = checked & (kind == k)
        own = key_set((t, c) for t, ctx in lot.contexts.items() for c in own_codes(ctx.territoire, k))
        outside |= at & ~keys(territoires, code).isin(own)
    if not outside.any():
        return flag(frame, outside, "code_geo", "hors_territoire", "")
    triples = list(zip(territoires[outside], code[outside], kind[outside]))
    messages = {p: outside_message(p[1], p[2], lot.territory(p[0])) for p in set(triples)}
    message = pd.Series([messages[p] for p in triples], index=code[outside].index, dtype="string")
    return flag(frame, outside, "code_geo", "hors_territoire", message, value=raw["code_geo"])


def row_rules(table: TableContract, frame: pd.DataFrame, raw: pd.DataFrame, lot: Lot) -> list[pd.DataFrame]:
    forms = table.col("code_geo").patterns
    if forms is None:
        raise ValueError("contrats/indicateurs.yaml : la colonne code_geo a besoin de `motifs_selon`")
    niveau = frame[forms.colonne]
    code = frame["code_geo"]
    qpv = niveau.isin(forms.qpv_si)
    mapped, unknown_qpv = normalise_qpv(code.where(qpv), frame[TERRITORY_COLUMN], lot)
    frame["code_geo"] = code.where(~qpv, mapped)
    pattern_ok = pd.Series(True, index=frame.index)
    for level, pattern in forms.motifs.items():
        at = niveau == level
        pattern_ok[at] = code[at].str.match(pattern).fillna(False)
    errors = [
        flag(frame, ~keys(frame[TERRITORY_COLUMN], frame["code_indicateur"]).isin(lot.indicateurs)
             & frame["code_indicateur"].notna(), "code_indicateur", "indicateur_inconnu",
             "« " + raw["code_indicateur"].astype("string") + " » n'est pas dans le catalogue "
             + lot.per_territory(frame[TERRITORY_COLUMN], lambda c: c.catalogue.code), value=raw["code_indicateur"]),
        flag(frame, qpv & unknown_qpv, "code_geo", "qpv_inconnu",
             qpv_message(raw["code_geo"][qpv & unknown_qpv.fillna(False)], frame[TERRITORY_COLUMN], lot)
             if (qpv & unknown_qpv).any() else "", value=raw["code_geo"]),
        flag(frame, ~pattern_ok & code.notna(), "code_geo", "code_geo_invalide",
             "« " + raw["code_geo"].astype("string") + " » n'est pas un code de niveau « "
             + niveau.astype("string") + " »", value=raw["code_geo"]),
        territory_rule(frame, raw, niveau, code, pattern_ok & code.notna(), forms.territoire_si, lot),
        flag(frame, frame["millesime"] > lot.annee, "millesime", "valeur_maximale",
             "millésime " + frame["millesime"].astype("string") + f" postérieur à l'année de la boîte ({lot.annee})"),
    ]
    percent = frame["unite"] == "pourcentage"
    value = frame["valeur"]
    errors.append(flag(frame, percent & ((value < 0) | (value > 100)), "valeur", "valeur_maximale",
                       "« " + raw["valeur"].astype("string") + " » : un pourcentage est compris entre 0 et 100",
                       value=raw["valeur"]))
    ratio = 100 * frame["numerateur"] / frame["denominateur"].where(frame["denominateur"] != 0)
    mismatch = percent & value.notna() & ratio.notna() & ((value - ratio).abs() > lot.tolerance_ratio + 1e-9)
    errors.append(flag(frame, mismatch, "valeur", "ratio_incoherent",
                       "valeur " + raw["valeur"].astype("string") + " ≠ 100 × " + raw["numerateur"].astype("string")
                       + " / " + raw["denominateur"].astype("string") + " = " + ratio.round(1).astype("string")
                       + f" (tolérance {lot.tolerance_ratio:g} point)", value=raw["valeur"]))
    errors.append(flag(frame, frame["secret"].fillna(False) & value.notna(), "valeur", "secret_avec_valeur",
                       "valeur « " + raw["valeur"].astype("string") + " » donnée alors que « secret » est vrai",
                       value=raw["valeur"]))
    return errors
