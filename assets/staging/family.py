"""What every family shares: the validation context, the per-file pass (read → type → pandera → declared rules
→ the family's row rules) and the set pass over all files of a territory and year (keys, cross-file and
cross-family rules), ending in clean rows and quarantined rows. A family is its contract YAML; its Python module,
when it has one, only adds the rules a column attribute cannot say.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from assets.staging.contract import (
    ERREUR,
    FILE_COLUMN,
    HASH_COLUMN,
    ORDER_COLUMN,
    TableContract,
    boundary_errors,
    concat_errors,
    empty_errors,
    flag,
    map_columns,
    type_columns,
)
from assets.staging.reading import LINE_COLUMN, SHEET_COLUMN, FichierIllisible, read_file
from pipelines.common import nearest, normalise_header
from pipelines.config import Catalogue, Limites, Referentiel, Regle, Territoire

PROVENANCE = [FILE_COLUMN, HASH_COLUMN, ORDER_COLUMN, SHEET_COLUMN, LINE_COLUMN]


@dataclass
class Context:
    """What a family's rules may look at besides the file itself."""

    territoire: Territoire
    annee: int
    referentiel: Referentiel
    catalogue: Catalogue
    tolerance_ratio: float = 0.1
    pseudonymise: Callable[[pd.Series], pd.Series] | None = None
    programmation: pd.DataFrame | None = None  # clean programmation rows already loaded, every year
    limites: Limites | None = None  # what a file may weigh before it is parsed (settings.yaml); None: defaults

    def fingerprint(self, family: Family) -> str:
        """Cache key of the per-file pass: the family's code version (contract YAML and the code its rules run)
        and every setting its rules read."""
        parts = {
            "famille": family.name, "version": family.version, "annee": self.annee,
            "territoire": self.territoire.model_dump(mode="json", include={"code", "qpv", "siren_epci", "departement",
                                                                             "communes"}),
            "objectifs": self.referentiel.codes_objectifs, "axes": self.referentiel.codes_axes,
            "catalogue": [i.model_dump() for i in self.catalogue.indicateurs],
            "tolerance": self.tolerance_ratio,
            "limites": self.limites.model_dump() if self.limites else None,
            "pseudonymise": self.pseudonymise(pd.Series(["empreinte"])).iloc[0] if self.pseudonymise else None,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class ParsedTable:
    typed: pd.DataFrame   # typed contract columns + provenance
    raw: pd.DataFrame     # the same rows as text (what the steward typed), same index
    errors: pd.DataFrame


@dataclass
class ParsedFile:
    name: str
    tables: dict[str, ParsedTable]
    unknown_columns: list[str] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    separator: str | None = None

    @property
    def rows_read(self) -> int:
        return sum(len(t.typed) for t in self.tables.values())


RowRules = Callable[[TableContract, pd.DataFrame, pd.DataFrame, Context], list[pd.DataFrame]]
SetRules = Callable[[dict[str, pd.DataFrame], Context], list[pd.DataFrame]]
Prepare = Callable[[TableContract, pd.DataFrame, Context], pd.DataFrame]


@dataclass(frozen=True)
class Family:
    name: str
    tables: tuple[TableContract, ...]
    version: str                        # code version: contract YAML, shared rules and the code its rules run
    rules: Mapping[str, Regle]          # every rule code it may emit (shared and its own), from the YAML
    description: str = ""
    depends_on: tuple[str, ...] = ()    # families whose clean rows its rules read
    row_rules: RowRules | None = None
    set_rules: SetRules | None = None
    prepare: Prepare | None = None

    def describe(self, rule: str) -> str:
        return self.rules[rule].description if rule in self.rules else rule

    def que_faire(self, rule: str) -> str:
        return self.rules[rule].que_faire if rule in self.rules else ""

    def with_severity(self, errors: pd.DataFrame) -> pd.DataFrame:
        """Each error gets its rule's severity, said once in the contract."""
        unknown = sorted(set(errors["regle"].dropna()) - set(self.rules))
        if unknown:
            raise RuntimeError(f"{self.name} : règle(s) {', '.join(unknown)} absente(s) du contrat YAML")
        errors["gravite"] = errors["regle"].map({k: r.gravite for k, r in self.rules.items()}).astype("string")
        return errors

    def tables_for(self, file_name: str) -> tuple[list[TableContract], list[str] | None]:
        """The contract tables a file holds, and the XLSX sheets to read (None: first sheet)."""
        if len(self.tables) == 1:
            return list(self.tables), None
        lower = file_name.lower()
        for t in self.tables:
            if lower.startswith(f"{self.name}_{t.sheet}"):
                return [t], None
        if lower.endswith(".xlsx"):
            return list(self.tables), [t.sheet for t in self.tables if t.sheet]
        names = " ou ".join(f"« {self.name}_{t.sheet}… »" for t in self.tables)
        raise FichierIllisible(f"{file_name} : un fichier {self.name} en CSV doit s'appeler {names}")

    def table(self, name: str) -> TableContract:
        return next(t for t in self.tables if t.name == name)


def parse_file(family: Family, path: Path, ctx: Context, data: bytes | None = None,
               display_name: str | None = None) -> ParsedFile:
    """Read one file and apply every rule that needs only this file. Raises FichierIllisible."""
    name = display_name or path.name
    contracts, sheets = family.tables_for(name)
    raw_file = read_file(path, sheets=sheets, data=data, limites=ctx.limites, name=name)
    parsed = ParsedFile(name=name, tables={}, encoding=raw_file.encoding, separator=raw_file.separator)
    for contract, raw_table in zip(contracts, raw_file.tables):
        mapped = map_columns(raw_table, contract, name)
        parsed.unknown_columns += mapped.unknown_columns
        parsed.dropped_columns += mapped.dropped_columns
        raw = mapped.raw
        if family.prepare:
            raw = family.prepare(contract, raw, ctx)
        typed, type_errors = type_columns(raw, contract)
        errors = concat_errors([
            type_errors,
            boundary_errors(typed, contract, type_errors),
            *declared_rules(contract, typed, raw, ctx),
            *(family.row_rules(contract, typed, raw, ctx) if family.row_rules else []),
        ])
        errors = family.with_severity(errors)
        errors["fichier"] = name
        parsed.tables[contract.name] = ParsedTable(typed=typed, raw=raw, errors=errors)
    return parsed


# --- the set pass ---------------------------------------------------------------------------------


def key_errors(frame: pd.DataFrame, errors: pd.DataFrame, contract: TableContract) -> pd.DataFrame:
    """Duplicate keys among rows still clean. Within a file the first row wins; across files, for families
    whose contract says so, the later file's row replaces the earlier one."""
    if not contract.key or frame.empty:
        return empty_errors()
    bad = _rows_with_errors(frame, errors)
    candidates = frame.loc[~bad].sort_values([ORDER_COLUMN, SHEET_COLUMN, LINE_COLUMN], na_position="first")
    key = list(contract.key)
    column = contract.typed_column(key[0])                         # what the person typed, not a derived key
    named = ", ".join(contract.typed_column(k) for k in key)
    parts = []
    in_file = candidates.duplicated(subset=[FILE_COLUMN, *key], keep="first")
    first_line = candidates.groupby([FILE_COLUMN, *key], dropna=False)[LINE_COLUMN].transform("first")
    parts.append(flag(candidates, in_file, column, "cle_dupliquee",
                      "même clé (" + named + ") que la ligne " + first_line.astype("string")
                      + " du même fichier"))
    if contract.later_replaces:
        survivors = candidates.loc[~in_file]
        replaced = survivors.duplicated(subset=key, keep="last")
        last_file = survivors.groupby(key, dropna=False)[FILE_COLUMN].transform("last")
        last_line = survivors.groupby(key, dropna=False)[LINE_COLUMN].transform("last")
        parts.append(flag(survivors, replaced, column, "ligne_remplacee",
                          "remplacée par la ligne " + last_line.astype("string") + " du fichier plus récent "
                          + last_file.astype("string")))
    else:
        survivors = candidates.loc[~in_file]
        across = survivors.duplicated(subset=key, keep="first")
        first_file = survivors.groupby(key, dropna=False)[FILE_COLUMN].transform("first")
        first_line = survivors.groupby(key, dropna=False)[LINE_COLUMN].transform("first")
        parts.append(flag(survivors, across, column, "cle_dupliquee",
                          "même clé (" + named + ") que la ligne " + first_line.astype("string")
                          + " du fichier " + first_file.astype("string")))
    return concat_errors(parts)


def _row_ids(frame: pd.DataFrame) -> pd.Series:
    return (frame[FILE_COLUMN].astype("string") + "|" + frame[SHEET_COLUMN].astype("string").fillna("")
            + "|" + frame[LINE_COLUMN].astype("string"))


def _error_ids(errors: pd.DataFrame) -> pd.Series:
    blocking = errors[errors["gravite"] == ERREUR]
    return (blocking["fichier"].astype("string") + "|" + blocking["feuille"].astype("string").fillna("")
            + "|" + blocking["ligne"].astype("string"))


def _rows_with_errors(frame: pd.DataFrame, errors: pd.DataFrame) -> pd.Series:
    return _row_ids(frame).isin(set(_error_ids(errors)))


@dataclass
class SetResult:
    clean: dict[str, pd.DataFrame]
    quarantine: dict[str, pd.DataFrame]  # rows as text (raw) + provenance + `regles`
    errors: pd.DataFrame                 # every problem, blocking or warning


def validate_set(family: Family, files: list[ParsedFile], ctx: Context) -> SetResult:
    """All files of one family, territory and year, in their order (later files last)."""
    typed: dict[str, pd.DataFrame] = {}
    raw: dict[str, pd.DataFrame] = {}
    errors = [empty_errors()]
    for t in family.tables:
        parts = [f.tables[t.name] for f in files if t.name in f.tables]
        typed[t.name] = (pd.concat([p.typed for p in parts], ignore_index=True) if parts
                         else pd.DataFrame(columns=[*PROVENANCE, *t.stored_names]))
        raw[t.name] = (pd.concat([p.raw for p in parts], ignore_index=True) if parts
                       else pd.DataFrame(columns=[*PROVENANCE, *t.column_names]))
        errors += [p.errors for p in parts]
    all_errors = concat_errors(errors)
    if family.set_rules:
        all_errors = family.with_severity(concat_errors([all_errors, *family.set_rules(typed, ctx)]))
    for t in family.tables:
        all_errors = family.with_severity(concat_errors([all_errors, key_errors(typed[t.name], all_errors, t)]))

    clean, quarantine = {}, {}
    for t in family.tables:
        frame = typed[t.name]
        bad = _rows_with_errors(frame, all_errors) if len(frame) else pd.Series(False, index=frame.index)
        clean[t.name] = frame.loc[~bad].reset_index(drop=True)
        q = raw[t.name].loc[bad].copy()
        ids = _row_ids(q)
        blocking = all_errors[all_errors["gravite"] == ERREUR].assign(_id=_error_ids(all_errors))
        rules = blocking.groupby("_id")["regle"].agg(lambda r: ", ".join(sorted(set(r))))
        q["regles"] = ids.map(rules).astype("string")
        quarantine[t.name] = q.reset_index(drop=True)
    return SetResult(clean=clean, quarantine=quarantine, errors=all_errors)


def attach_provenance(parsed: ParsedFile, sha256: str, order: int) -> ParsedFile:
    for table in parsed.tables.values():
        for frame in (table.typed, table.raw):
            frame[FILE_COLUMN] = parsed.name
            frame[HASH_COLUMN] = sha256
            frame[ORDER_COLUMN] = order
    return parsed


# --- rules a column attribute declares (config/contrats/<famille>.yaml) -------------------------------


def inbox_year_rule(frame: pd.DataFrame, ctx: Context, column: str = "annee") -> pd.DataFrame:
    wrong = frame[column].notna() & (frame[column] != ctx.annee)
    return flag(frame, wrong, column, "annee_boite",
                "l'année " + frame[column].astype("string") + f" ne correspond pas à la boîte de dépôt {ctx.annee}")


def normalise_qpv(codes: pd.Series, ctx: Context) -> tuple[pd.Series, pd.Series]:
    """2024 codes pass, 2015 codes the territory maps are translated; returns (code, is_unknown)."""
    upper = codes.astype("string").str.strip().str.upper().str.replace(" ", "", regex=True)
    mapped = upper.map(lambda c: ctx.territoire.codes_2015.get(c, c) if isinstance(c, str) else c).astype("string")
    unknown = mapped.notna() & ~mapped.isin(ctx.territoire.codes_qpv)
    return mapped, unknown


def qpv_message(values: pd.Series, ctx: Context) -> pd.Series:
    candidates = ctx.territoire.codes_qpv + list(ctx.territoire.codes_2015)

    def one(v):
        if not isinstance(v, str):
            return "code QPV manquant"
        guess = nearest(v.upper(), candidates)
        guess = ctx.territoire.codes_2015.get(guess, guess) if guess else None
        hint = f" — vouliez-vous dire {guess} ?" if guess else ""
        return f"« {v} » n'est pas un QPV du territoire {ctx.territoire.code}{hint}"

    return values.map(one).astype("string")


def qpv_rule(frame: pd.DataFrame, raw: pd.DataFrame, ctx: Context, column: str) -> tuple[pd.Series, pd.DataFrame]:
    code, unknown = normalise_qpv(frame[column], ctx)
    msg = qpv_message(raw.loc[unknown.fillna(False), column], ctx) if unknown.any() else ""
    return code, flag(frame, unknown, column, "qpv_inconnu", msg, value=raw[column])


def _is(values: pd.Series, word: str | None) -> pd.Series:
    """Cells that spell `word` (case, accents, spaces and punctuation aside)."""
    if word is None:
        return pd.Series(False, index=values.index)
    return values.map(lambda v: isinstance(v, str) and normalise_header(v) == normalise_header(word)).astype(bool)


def qpv_list_rule(frame: pd.DataFrame, raw: pd.DataFrame, ctx: Context, column: str,
                  every: str | None) -> pd.DataFrame:
    """`QN05934M;QN05938M` or the word for every QPV; each code checked; stored canonical and sorted."""
    text = frame[column].str.upper().str.strip()
    is_all = _is(text, every)
    codes = text.where(~is_all).str.split(r"[;,]").explode().str.strip()
    codes = codes[codes.notna() & (codes != "")]
    mapped, unknown = normalise_qpv(codes, ctx)
    first_bad = raw[column].where(pd.Series(False, index=frame.index))
    bad_codes = codes[unknown.fillna(False)]
    bad_rows = bad_codes.groupby(level=0).first()
    first_bad.loc[bad_rows.index] = bad_rows
    canonical = mapped.groupby(level=0).agg(lambda c: ";".join(sorted(set(c))))
    frame[column] = canonical.reindex(frame.index).astype("string").where(~is_all, every)
    has_bad = frame.index.isin(bad_rows.index)
    msg = qpv_message(first_bad[has_bad], ctx) if has_bad.any() else ""
    return flag(frame, pd.Series(has_bad, index=frame.index), column, "qpv_inconnu", msg, value=raw[column])


def normalise_objectif(codes: pd.Series) -> pd.Series:
    """`O.G.1.1`, `og 1.1`, `OG1.1` → `OG.1.1`; an axis code (`3`, `Axe 3`) → `3`."""
    s = codes.astype("string").str.upper().str.replace(r"[\s_]", "", regex=True)
    og = s.str.extract(r"^O\.?G\.?(\d)[.\-]?(\d)\.?$")
    axe = s.str.extract(r"^(?:AXE)?(\d)$")[0]
    out = ("OG." + og[0] + "." + og[1]).astype("string")
    return out.fillna(axe).fillna(s).astype("string")


def objectif_rule(frame: pd.DataFrame, raw: pd.DataFrame, ctx: Context, column: str,
                  allow_axes: bool) -> pd.DataFrame:
    code = normalise_objectif(frame[column])
    allowed = set(ctx.referentiel.codes_objectifs) | (set(ctx.referentiel.codes_axes) if allow_axes else set())
    frame[column] = code
    unknown = code.notna() & ~code.isin(allowed)
    what = "d'objectif (OG.1.1) ou d'axe (1)" if allow_axes else "d'objectif (OG.1.1)"
    return flag(frame, unknown, column, "objectif_inconnu",
                "« " + raw[column].astype("string") + f" » n'est pas un code {what} du référentiel "
                + ctx.referentiel.code, value=raw[column])


def declared_rules(contract: TableContract, frame: pd.DataFrame, raw: pd.DataFrame,
                   ctx: Context) -> list[pd.DataFrame]:
    """The rules the contract's column attributes declare; codes are normalised in place first, so that the
    family's own rules and the keys see them in their canonical form."""
    errors = []
    for col in contract.columns:
        if col.case == "majuscules":
            frame[col.name] = frame[col.name].str.upper()
        elif col.case == "minuscules":
            frame[col.name] = frame[col.name].str.lower()
    for col in contract.columns:
        if col.inbox_year:
            errors.append(inbox_year_rule(frame, ctx, col.name))
        if col.objectif:
            errors.append(objectif_rule(frame, raw, ctx, col.name, allow_axes=col.objectif == "objectif_ou_axe"))
        if col.qpv and col.qpv.liste:
            errors.append(qpv_list_rule(frame, raw, ctx, col.name, col.qpv.tous))
        elif col.qpv:
            outside = _is(frame[col.name], col.qpv.hors)
            code, qpv_errors = qpv_rule(frame.assign(**{col.name: frame[col.name].where(~outside)}), raw, ctx,
                                        col.name)
            frame[col.name] = code.where(~outside, col.qpv.hors)
            errors.append(qpv_errors)
    return errors
