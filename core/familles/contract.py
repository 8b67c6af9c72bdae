"""Input contracts as data (config/contrats/, loaded by `ProjectConfig.contrats`), and the machinery shared by
every family: typing text cells, the pandera boundary model built from the contract, and row errors in one long
shape.

A row error is (ligne, feuille, colonne, valeur, regle, message, gravite). `regle` is a stable code declared in
the contract YAML with its description, what the partner should do and its severity (tests and the partners'
feedback use it); `message` is French for the data steward.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa

from core.common import normalise_header
from core.config.contrats import MotifsSelon, RegleQpv, TableContrat
from core.config.vocabulaire import Vocabulaire
from core.familles.reading import LINE_COLUMN, SHEET_COLUMN, FichierIllisible, RawTable

Kind = Literal["texte", "entier", "nombre", "date", "booleen", "choix"]

FILE_COLUMN, HASH_COLUMN, ORDER_COLUMN, TERRITORY_COLUMN = "_fichier", "_sha256", "_ordre", "_territoire"
ERROR_COLUMNS = ["territoire", "fichier", "ligne", "feuille", "colonne", "valeur", "regle", "message", "gravite"]
ERREUR, AVERTISSEMENT = "erreur", "avertissement"

@dataclass(frozen=True)
class Col:
    name: str
    kind: Kind = "texte"
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    minimum_strict: bool = False
    maximum: float | None = None
    aliases: tuple[str, ...] = ()
    case: Literal["majuscules", "minuscules"] | None = None
    inbox_year: bool = False              # must equal the inbox year (rule annee_boite)
    qpv: RegleQpv | None = None           # a QPV code of the territory (rule qpv_inconnu)
    objectif: Literal["objectif", "objectif_ou_axe"] | None = None   # rule objectif_inconnu
    transversaux: bool = False            # codes of the referential's transversal axes (rule transversal_inconnu)
    patterns: MotifsSelon | None = None   # the form depends on another column's value
    key_column: str | None = None         # also stored normalised under this name


@dataclass(frozen=True)
class TableContract:
    """One table of a family (tfpb has two: patrimoine and actions), as its contract YAML says."""

    name: str                      # staging table name
    columns: tuple[Col, ...]
    key: tuple[str, ...]
    sheet: str | None = None       # sheet of a multi-sheet XLSX
    later_replaces: bool = False   # contract: "a later file's row replaces an earlier one"
    drop_unknown_columns: bool = False

    @property
    def column_names(self) -> list[str]:
        """The columns a file gives."""
        return [c.name for c in self.columns]

    @property
    def stored_names(self) -> list[str]:
        """The columns of the staging table: the file's, and the normalised keys derived from them."""
        return [*self.column_names, *(c.key_column for c in self.columns if c.key_column)]

    def typed_column(self, name: str) -> str:
        """The column a person typed for `name`: itself, or the column a normalised key is derived from."""
        return next((c.name for c in self.columns if c.key_column == name), name)

    def col(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)

    @classmethod
    def from_contrat(cls, table: TableContrat, vocabulaire: Vocabulaire) -> TableContract:
        def choices(c) -> tuple[str, ...]:
            return tuple(c.valeurs if c.valeurs is not None else vocabulaire.codes(c.domaine)) \
                if c.type == "choix" else ()

        return cls(
            name=table.table, sheet=table.feuille, key=tuple(table.cle), later_replaces=table.derniere_remplace,
            drop_unknown_columns=table.supprimer_colonnes_inconnues,
            columns=tuple(Col(name=c.nom, kind=c.type, required=c.obligatoire, choices=choices(c),
                              minimum=c.minimum, minimum_strict=c.minimum_strict, maximum=c.maximum,
                              aliases=tuple(c.alias), case=c.casse, inbox_year=c.annee_boite, qpv=c.qpv,
                              objectif=c.objectif,
                              transversaux=c.transversaux, patterns=c.motifs_selon, key_column=c.cle_normalisee)
                          for c in table.colonnes))


SQL_TYPES = {"texte": "VARCHAR", "choix": "VARCHAR", "entier": "BIGINT", "nombre": "DOUBLE",
             "date": "DATE", "booleen": "BOOLEAN"}
PANDAS_TYPES = {"texte": "string", "choix": "string", "entier": "Int64", "nombre": "float64",
                "date": "datetime64[ns]", "booleen": "boolean"}


# --- errors ---------------------------------------------------------------------------------------


def empty_errors() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string" if c != "ligne" else "Int64") for c in ERROR_COLUMNS})


_ERROR_TYPES = {c: ("Int64" if c == "ligne" else "string") for c in ERROR_COLUMNS}


def flag(frame: pd.DataFrame, mask: pd.Series, column: str, rule: str, message: pd.Series | str,
         value: pd.Series | None = None) -> pd.DataFrame:
    """Errors for the rows of `frame` where `mask` is true (vectorised: no loop over rows). The severity is the
    rule's, from the contract (`Family.with_severity`)."""
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return empty_errors()
    rows = frame.loc[mask]
    values = (value if value is not None else rows.get(column, pd.Series(pd.NA, index=rows.index)))
    values = values.loc[rows.index] if isinstance(values, pd.Series) else values
    msg = message.loc[rows.index] if isinstance(message, pd.Series) else message
    files = rows[FILE_COLUMN] if FILE_COLUMN in rows else pd.Series(pd.NA, index=rows.index)
    territories = rows[TERRITORY_COLUMN] if TERRITORY_COLUMN in rows else pd.Series(pd.NA, index=rows.index)
    return pd.DataFrame({
        "territoire": territories.astype("string"),
        "fichier": files.astype("string"),
        "ligne": rows[LINE_COLUMN].astype("Int64"),
        "feuille": rows[SHEET_COLUMN].astype("string"),
        "colonne": column,
        "valeur": pd.Series(values, index=rows.index).astype("string"),
        "regle": rule,
        "message": msg,
        "gravite": ERREUR,
    }).reset_index(drop=True)


def concat_errors(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if p is not None and not p.empty]
    if not parts:
        return empty_errors()
    out = pd.concat(parts, ignore_index=True)
    for c in ERROR_COLUMNS:
        if c not in out:
            out[c] = pd.NA
    return out[ERROR_COLUMNS].astype(_ERROR_TYPES)


def quote(values: pd.Series) -> pd.Series:
    return "« " + values.astype("string").fillna("") + " »"


# --- typing text cells ----------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f]")


def parse_number(text: pd.Series) -> pd.Series:
    """French or English numbers: `1 234,5 €`, `37,5 %`, `1234.5`; NaN where it is not a number."""
    s = text.astype("string").str.replace(_SPACES, "", regex=True)
    s = s.str.replace(r"(€|%|EUR|euros?)$", "", regex=True, case=False)
    has_comma, has_point = s.str.contains(",", regex=False), s.str.contains(".", regex=False)
    comma_is_decimal = has_comma & (~has_point | (s.str.rfind(",") > s.str.rfind(".")))
    s = s.where(~comma_is_decimal, s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    s = s.where(comma_is_decimal, s.str.replace(",", "", regex=False))
    return pd.to_numeric(s, errors="coerce").astype("float64")


def parse_date(text: pd.Series) -> pd.Series:
    s = text.astype("string").str.strip()
    iso = s.str.match(r"^\d{4}-\d{2}-\d{2}")
    fr = s.str.match(r"^\d{1,2}/\d{1,2}/\d{4}$")
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if iso.any():
        out[iso] = pd.to_datetime(s[iso].str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    if fr.any():
        out[fr] = pd.to_datetime(s[fr], format="%d/%m/%Y", errors="coerce")
    return out


_TRUE = {"oui", "o", "vrai", "true", "1", "x", "yes", "y"}
_FALSE = {"non", "n", "faux", "false", "0", "no"}


def map_distinct(values: pd.Series, function) -> pd.Series:
    """`function` of each distinct text value, spread back over the rows (NA stays NA): a column of a staging pass
    holds a few distinct values over many rows."""
    text = values.astype("string")
    distinct = text.dropna().unique()
    return text.map(dict(zip(distinct, (function(v) for v in distinct)))).astype("string")


def parse_bool(text: pd.Series) -> pd.Series:
    s = text.astype("string").str.strip().str.lower()
    return s.map({**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}).astype("boolean")


def canonical_choice(text: pd.Series, choices: tuple[str, ...]) -> pd.Series:
    """`Accordé` → `accorde`, `cpo` → `CPO`: match after normalisation, keep the contract's spelling."""
    lookup = {normalise_header(c): c for c in choices}
    return map_distinct(text, lambda v: lookup.get(normalise_header(v), pd.NA))


def type_columns(raw: pd.DataFrame, table: TableContract) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Text → typed columns; cells that do not parse become NA and a type error."""
    typed = raw[[LINE_COLUMN, SHEET_COLUMN]].copy()
    errors = []
    for col in table.columns:
        text = raw[col.name]
        present = text.notna()
        if col.kind == "texte":
            typed[col.name] = text.astype("string")
            continue
        if col.kind == "choix":
            value = canonical_choice(text, col.choices)
            typed[col.name] = value
            bad = present & value.isna()
            errors.append(flag(raw, bad, col.name, "valeur_autorisee",
                               quote(text) + " n'est pas une valeur autorisée (" + ", ".join(col.choices) + ")"))
            continue
        if col.kind in ("nombre", "entier"):
            value = parse_number(text)
            bad = present & value.isna()
            errors.append(flag(raw, bad, col.name, "type_nombre", quote(text) + " n'est pas un nombre"))
            if col.kind == "entier":
                not_int = value.notna() & (value != np.floor(value))
                errors.append(flag(raw, not_int, col.name, "type_entier",
                                   quote(text) + " n'est pas un nombre entier"))
                value = value.where(~not_int).round().astype("Int64")
            typed[col.name] = value
        elif col.kind == "date":
            value = parse_date(text)
            typed[col.name] = value
            errors.append(flag(raw, present & value.isna(), col.name, "type_date",
                               quote(text) + " n'est pas une date (AAAA-MM-JJ ou JJ/MM/AAAA)"))
        elif col.kind == "booleen":
            value = parse_bool(text)
            typed[col.name] = value
            errors.append(flag(raw, present & value.isna(), col.name, "type_booleen",
                               quote(text) + " n'est pas oui/non (vrai/faux)"))
    for col in table.columns:
        if col.key_column:
            typed[col.key_column] = map_distinct(typed[col.name], normalise_header)
    return typed, concat_errors(errors)


# --- the pandera boundary model -------------------------------------------------------------------


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:g}".replace(".", ",")


def pandera_schema(table: TableContract) -> pa.DataFrameSchema:
    """The contract's per-cell rules (required, bounds) as a pandera schema over typed columns."""
    columns = {}
    for col in table.columns:
        checks = []
        if col.minimum is not None:
            checks.append(pa.Check.gt(col.minimum, error="valeur_minimale") if col.minimum_strict
                          else pa.Check.ge(col.minimum, error="valeur_minimale"))
        if col.maximum is not None:
            checks.append(pa.Check.le(col.maximum, error="valeur_maximale"))
        columns[col.name] = pa.Column(PANDAS_TYPES[col.kind], checks=checks, nullable=not col.required,
                                      required=True, coerce=False)
    columns[LINE_COLUMN] = pa.Column("Int64", coerce=True)
    return pa.DataFrameSchema(columns, strict=False, name=table.name)


def boundary_errors(typed: pd.DataFrame, table: TableContract, type_errors: pd.DataFrame) -> pd.DataFrame:
    schema = pandera_schema(table)
    try:
        with warnings.catch_warnings():
            # pandera gathers the failure cases with a pd.concat whose all-NA parts (a missing required cell has no
            # failure value) pandas deprecates; its result does not change here, and the steward must not see it
            warnings.filterwarnings("ignore", message="The behavior of DataFrame concatenation with empty or all-NA",
                                    category=FutureWarning)
            schema.validate(typed, lazy=True)
        return empty_errors()
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    cases = cases[cases["index"].notna() & cases["column"].isin(table.column_names)]
    if cases.empty:
        return empty_errors()
    idx = cases["index"].astype(int).to_numpy()
    rule = cases["check"].map(lambda c: "valeur_obligatoire" if c == "not_nullable" else c).to_numpy()
    rows = typed.loc[idx]
    unknown = np.full(len(rows), pd.NA, dtype=object)
    out = pd.DataFrame({
        "territoire": rows[TERRITORY_COLUMN].to_numpy() if TERRITORY_COLUMN in rows else unknown,
        "fichier": rows[FILE_COLUMN].to_numpy() if FILE_COLUMN in rows else unknown,
        "ligne": rows[LINE_COLUMN].to_numpy(),
        "feuille": rows[SHEET_COLUMN].to_numpy(),
        "colonne": cases["column"].to_numpy(),
        "valeur": cases["failure_case"].astype("string").to_numpy(),
        "regle": rule,
        "gravite": ERREUR,
    })
    bounds = {c.name: c for c in table.columns}

    def message(r) -> str:
        col = bounds[r.colonne]
        if r.regle == "valeur_obligatoire":
            return "valeur obligatoire manquante"
        if r.regle == "valeur_minimale":
            sign = "strictement supérieure à" if col.minimum_strict else "supérieure ou égale à"
            return f"« {r.valeur} » : la valeur doit être {sign} {_fmt(col.minimum)}"
        return f"« {r.valeur} » : la valeur doit être inférieure ou égale à {_fmt(col.maximum)}"

    out["message"] = [message(r) for r in out.itertuples()]  # one per failing cell, not per row
    # a cell that did not parse is already reported as a type error: do not report it missing too
    cell = ["territoire", "fichier", "feuille", "ligne", "colonne"]
    typed_bad = pd.MultiIndex.from_frame(concat_errors([type_errors])[cell].astype("string").fillna(""))
    keep = ~pd.MultiIndex.from_frame(concat_errors([out])[cell].astype("string").fillna("")).isin(typed_bad)
    return concat_errors([out.loc[keep]])


# --- column mapping -------------------------------------------------------------------------------


@dataclass
class MappedTable:
    raw: pd.DataFrame               # text, canonical columns of the contract only (+ line, sheet)
    unknown_columns: list[str] = field(default_factory=list)   # as written in the file
    dropped_columns: list[str] = field(default_factory=list)


def map_columns(table_raw: RawTable, table: TableContract, file_name: str) -> MappedTable:
    frame = table_raw.frame
    rename = {}
    for col in table.columns:
        if col.name not in frame.columns:
            alias = next((a for a in col.aliases if a in frame.columns), None)
            if alias:
                rename[alias] = col.name
    frame = frame.rename(columns=rename)
    missing = [c.name for c in table.columns if c.required and c.name not in frame.columns]
    if missing:
        where = f" (feuille « {table_raw.sheet} »)" if table_raw.sheet else ""
        raise FichierIllisible(
            f"{file_name}{where} : colonne(s) obligatoire(s) absente(s) : {', '.join(missing)}"
        )
    known = set(table.column_names) | {LINE_COLUMN, SHEET_COLUMN}
    extra = [c for c in frame.columns if c not in known]
    written = {v: k for k, v in rename.items()}
    extra_written = [table_raw.original_headers.get(written.get(c, c), c) for c in extra]
    for col in table.columns:
        if col.name not in frame.columns:
            frame[col.name] = pd.Series(pd.NA, index=frame.index, dtype="string")
    raw = frame[[LINE_COLUMN, SHEET_COLUMN, *table.column_names]].copy()
    if table.drop_unknown_columns:
        return MappedTable(raw=raw, dropped_columns=extra_written)
    return MappedTable(raw=raw, unknown_columns=extra_written)

