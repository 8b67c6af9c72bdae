"""What every family shares: the validation context, the read of one file (read → columns mapped → prepared; cached
by content), the validation of rows (type → pandera → declared rules → the family's row rules) and the set pass
(keys, cross-file and cross-family rules), ending in clean rows and quarantined rows. A family is its contract YAML;
its Python module, when it has one, only adds the rules a column attribute cannot say.

Rows are validated set-wise: the rows of every file of every territory of a staging pass go through each rule
together (a `Lot`), each row carrying its territory (`TERRITORY_COLUMN`), and the rules that depend on the territory
(its QPV, its objectives, its catalogue, its own codes, its programming) look them up by (territory, code). A pass
costs a few calls per rule whatever the number of files; a single file (`parse_file`, `bilan verifier`, tests) is a
lot of one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from core.common import nearest, normalise_header
from core.config.catalogue import Catalogue
from core.config.contrats import Regle
from core.config.referentiel import Referentiel
from core.config.settings import Limites
from core.config.territoire import Territoire
from core.familles.contract import (
    ERREUR,
    FILE_COLUMN,
    HASH_COLUMN,
    ORDER_COLUMN,
    TERRITORY_COLUMN,
    TableContract,
    boundary_errors,
    concat_errors,
    empty_errors,
    flag,
    map_columns,
    type_columns,
)
from core.familles.reading import LINE_COLUMN, SHEET_COLUMN, FichierIllisible, read_file

PROVENANCE = [TERRITORY_COLUMN, FILE_COLUMN, HASH_COLUMN, ORDER_COLUMN, SHEET_COLUMN, LINE_COLUMN]
SEP = "\x1f"  # between a territory and a code in a lookup key: a character no cell holds (the reader refuses it)


@dataclass
class Context:
    """What a family's rules may look at besides the file itself, for one territory."""

    territoire: Territoire
    annee: int
    referentiel: Referentiel
    catalogue: Catalogue
    tolerance_ratio: float = 0.1
    pseudonymise: Callable[[pd.Series], pd.Series] | None = None
    programmation: pd.DataFrame | None = None  # clean programmation rows already loaded, every year
    limites: Limites | None = None  # what a file may weigh before it is parsed (settings.yaml); None: defaults

    def fingerprint(self, family: Family) -> str:
        """Cache key of a file's read: the family's code version (its contract and the code that reads and
        prepares a file), the limits the reader applies and the pseudonymisation key (a cohort file is cached
        pseudonymised). The territory and the year are not in it: rows are validated again on every pass."""
        parts = {
            "famille": family.name, "version": family.version,
            "limites": self.limites.model_dump() if self.limites else None,
            "pseudonymise": self.pseudonymise(pd.Series(["empreinte"])).iloc[0] if self.pseudonymise else None,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def keys(territoires: pd.Series, codes: pd.Series) -> pd.Series:
    """(territory, code) as one lookup key per row."""
    return territoires.astype("string") + SEP + codes.astype("string")


def key_set(pairs: Iterable[tuple[str, str]]) -> set[str]:
    """The lookup keys of (territory, code) pairs, to test `keys(...)` against."""
    return {f"{t}{SEP}{c}" for t, c in pairs}


@dataclass
class Lot:
    """The territories of one staging pass: the year and settings they share, and each territory's lists as
    (territory, code) lookups for rules that run over the rows of every territory at once."""

    contexts: dict[str, Context]

    def __post_init__(self):
        if not self.contexts:
            raise ValueError("un lot de validation sans territoire")
        first = next(iter(self.contexts.values()))
        self.annee, self.tolerance_ratio = first.annee, first.tolerance_ratio
        self.pseudonymise, self.limites = first.pseudonymise, first.limites

    @classmethod
    def of(cls, ctx: Context | Lot) -> Lot:
        return ctx if isinstance(ctx, Lot) else cls({ctx.territoire.code: ctx})

    def territory(self, code: str) -> Territoire:
        return self.contexts[code].territoire

    @cached_property
    def programmation(self) -> pd.DataFrame | None:
        """Every territory's programming already loaded, with its territory; None when no rule may read it."""
        parts = [c.programmation.assign(**{TERRITORY_COLUMN: t}) for t, c in self.contexts.items()
                 if c.programmation is not None]
        return pd.concat(parts, ignore_index=True) if parts else None

    @cached_property
    def qpv(self) -> set[str]:
        return key_set((t, q) for t, c in self.contexts.items() for q in c.territoire.codes_qpv)

    @cached_property
    def quartiers_complementaires(self) -> set[str]:
        return key_set((t, q) for t, c in self.contexts.items() for q in c.territoire.codes_complementaires)

    @cached_property
    def qpv_2015(self) -> dict[str, str]:
        return {f"{t}{SEP}{old}": new for t, c in self.contexts.items() for old, new in c.territoire.codes_2015.items()}

    @cached_property
    def objectifs(self) -> set[str]:
        return key_set((t, o) for t, c in self.contexts.items() for o in c.referentiel.codes_objectifs)

    @cached_property
    def axes(self) -> set[str]:
        return key_set((t, a) for t, c in self.contexts.items() for a in c.referentiel.codes_axes)

    @cached_property
    def transversaux(self) -> set[str]:
        return key_set((t, a) for t, c in self.contexts.items() for a in c.referentiel.codes_transversaux)

    @cached_property
    def indicateurs(self) -> set[str]:
        return key_set((t, i) for t, c in self.contexts.items() for i in c.catalogue.codes)

    def per_territory(self, territoires: pd.Series, value: Callable[[Context], str]) -> pd.Series:
        """One value of each row's territory's context (its referential's code, its catalogue's code)."""
        return territoires.map({t: value(c) for t, c in self.contexts.items()}).astype("string")


@dataclass
class MappedFile:
    """One file as read: per contract table, its rows as text under the contract's column names (prepared: a
    cohort file's identifiers are already pseudonyms). This is what the read cache holds."""

    name: str
    tables: dict[str, pd.DataFrame]
    unknown_columns: list[str] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    separator: str | None = None

    @property
    def rows_read(self) -> int:
        return sum(len(t) for t in self.tables.values())


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


RowRules = Callable[[TableContract, pd.DataFrame, pd.DataFrame, "Lot"], list[pd.DataFrame]]
SetRules = Callable[[dict[str, pd.DataFrame], "Lot"], list[pd.DataFrame]]
Prepare = Callable[[TableContract, pd.DataFrame, "Lot"], pd.DataFrame]


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


def read_mapped(family: Family, path: Path, ctx: Context | Lot, data: bytes | None = None,
                display_name: str | None = None) -> MappedFile:
    """Read one file and map its columns to the contract; the family's `prepare` runs here, so that nothing
    downstream (cache, validation, quarantine) sees what it replaces. Raises FichierIllisible."""
    lot = Lot.of(ctx)
    name = display_name or path.name
    contracts, sheets = family.tables_for(name)
    raw_file = read_file(path, sheets=sheets, data=data, limites=lot.limites, name=name)
    mapped = MappedFile(name=name, tables={}, encoding=raw_file.encoding, separator=raw_file.separator)
    for contract, raw_table in zip(contracts, raw_file.tables):
        columns = map_columns(raw_table, contract, name)
        mapped.unknown_columns += columns.unknown_columns
        mapped.dropped_columns += columns.dropped_columns
        raw = columns.raw
        if family.prepare:
            raw = family.prepare(contract, raw, lot)
        mapped.tables[contract.name] = raw
    return mapped


def with_provenance(mapped: MappedFile, territoire: str, sha256: str, order: int) -> dict[str, pd.DataFrame]:
    """A read file's tables, each row saying its territory, file, content hash and order among the files."""
    return {name: frame.assign(**{TERRITORY_COLUMN: territoire, FILE_COLUMN: mapped.name, HASH_COLUMN: sha256,
                                  ORDER_COLUMN: order})
            for name, frame in mapped.tables.items()}


def validate_rows(family: Family, contract: TableContract, raw: pd.DataFrame, lot: Lot) -> ParsedTable:
    """Every rule that looks at one row at a time, over rows of any number of files and territories."""
    raw = raw.reset_index(drop=True)
    typed, type_errors = type_columns(raw, contract)
    for column in PROVENANCE:
        if column in raw and column not in typed:
            typed[column] = raw[column]
    errors = concat_errors([
        type_errors,
        boundary_errors(typed, contract, type_errors),
        *declared_rules(contract, typed, raw, lot),
        *(family.row_rules(contract, typed, raw, lot) if family.row_rules else []),
    ])
    return ParsedTable(typed=typed, raw=raw, errors=family.with_severity(errors))


def parse_file(family: Family, path: Path, ctx: Context, data: bytes | None = None,
               display_name: str | None = None) -> ParsedFile:
    """Read one file and apply every rule that needs only this file (a lot of one). Raises FichierIllisible."""
    mapped = read_mapped(family, path, ctx, data, display_name)
    tables = with_provenance(mapped, ctx.territoire.code, "", 0)
    return ParsedFile(name=mapped.name, encoding=mapped.encoding, separator=mapped.separator,
                      unknown_columns=mapped.unknown_columns, dropped_columns=mapped.dropped_columns,
                      tables={name: validate_rows(family, family.table(name), raw, Lot.of(ctx))
                              for name, raw in tables.items()})


# --- the set pass ---------------------------------------------------------------------------------


def key_errors(frame: pd.DataFrame, errors: pd.DataFrame, contract: TableContract) -> pd.DataFrame:
    """Duplicate keys among rows still clean, within a territory. Within a file the first row wins; across files,
    for families whose contract says so, the later file's row replaces the earlier one."""
    if not contract.key or frame.empty:
        return empty_errors()
    bad = _rows_with_errors(frame, errors)
    candidates = frame.loc[~bad].sort_values([TERRITORY_COLUMN, ORDER_COLUMN, SHEET_COLUMN, LINE_COLUMN],
                                             na_position="first")
    key = [TERRITORY_COLUMN, *contract.key]
    column = contract.typed_column(contract.key[0])                 # what the person typed, not a derived key
    named = ", ".join(contract.typed_column(k) for k in contract.key)
    parts = []
    in_file = candidates.duplicated(subset=[FILE_COLUMN, *key], keep="first")
    first_line = candidates.groupby([FILE_COLUMN, *key], dropna=False)[LINE_COLUMN].transform("first")
    parts.append(flag(candidates, in_file, column, "cle_dupliquee",
                      "même clé (" + named + ") que la ligne " + first_line.astype("string")
                      + " du même fichier"))
    survivors = candidates.loc[~in_file]
    if contract.later_replaces:
        replaced = survivors.duplicated(subset=key, keep="last")
        last_file = survivors.groupby(key, dropna=False)[FILE_COLUMN].transform("last")
        last_line = survivors.groupby(key, dropna=False)[LINE_COLUMN].transform("last")
        parts.append(flag(survivors, replaced, column, "ligne_remplacee",
                          "remplacée par la ligne " + last_line.astype("string") + " du fichier plus récent "
                          + last_file.astype("string")))
    else:
        across = survivors.duplicated(subset=key, keep="first")
        first_file = survivors.groupby(key, dropna=False)[FILE_COLUMN].transform("first")
        first_line = survivors.groupby(key, dropna=False)[LINE_COLUMN].transform("first")
        parts.append(flag(survivors, across, column, "cle_dupliquee",
                          "même clé (" + named + ") que la ligne " + first_line.astype("string")
                          + " du fichier " + first_file.astype("string")))
    return concat_errors(parts)


def _row_ids(frame: pd.DataFrame) -> pd.Series:
    return (frame[TERRITORY_COLUMN].astype("string") + "|" + frame[FILE_COLUMN].astype("string") + "|"
            + frame[SHEET_COLUMN].astype("string").fillna("") + "|" + frame[LINE_COLUMN].astype("string"))


def _error_ids(errors: pd.DataFrame) -> pd.Series:
    blocking = errors[errors["gravite"] == ERREUR]
    return (blocking["territoire"].astype("string") + "|" + blocking["fichier"].astype("string") + "|"
            + blocking["feuille"].astype("string").fillna("") + "|" + blocking["ligne"].astype("string"))


def _rows_with_errors(frame: pd.DataFrame, errors: pd.DataFrame) -> pd.Series:
    return _row_ids(frame).isin(set(_error_ids(errors)))


@dataclass
class SetResult:
    clean: dict[str, pd.DataFrame]
    quarantine: dict[str, pd.DataFrame]  # rows as text (raw) + provenance + `regles`
    errors: pd.DataFrame                 # every problem, blocking or warning


def validate_set(family: Family, files: list[ParsedFile], ctx: Context | Lot) -> SetResult:
    """All files of one family and year, in their order (later files last), already parsed one by one."""
    tables = {}
    for t in family.tables:
        parts = [f.tables[t.name] for f in files if t.name in f.tables]
        tables[t.name] = ParsedTable(
            typed=(pd.concat([p.typed for p in parts], ignore_index=True) if parts
                   else pd.DataFrame(columns=[*PROVENANCE, *t.stored_names])),
            raw=(pd.concat([p.raw for p in parts], ignore_index=True) if parts
                 else pd.DataFrame(columns=[*PROVENANCE, *t.column_names])),
            errors=concat_errors([p.errors for p in parts]))
    return set_pass(family, tables, Lot.of(ctx))


def validate_lot(family: Family, files: list[dict[str, pd.DataFrame]], lot: Lot) -> SetResult:
    """The rows of every file of a staging pass (`with_provenance`), validated together: each rule runs once over
    all of them, then the set pass."""
    tables = {}
    for t in family.tables:
        parts = [f[t.name] for f in files if t.name in f]
        raw = pd.concat(parts, ignore_index=True) if parts else \
            pd.DataFrame({c: pd.Series(dtype="string") for c in [*PROVENANCE, *t.column_names]})
        tables[t.name] = validate_rows(family, t, raw, lot)
    return set_pass(family, tables, lot)


def set_pass(family: Family, tables: dict[str, ParsedTable], lot: Lot) -> SetResult:
    typed = {name: t.typed for name, t in tables.items()}
    all_errors = concat_errors([t.errors for t in tables.values()])
    if family.set_rules:
        all_errors = family.with_severity(concat_errors([all_errors, *family.set_rules(typed, lot)]))
    for t in family.tables:
        all_errors = family.with_severity(concat_errors([all_errors, key_errors(typed[t.name], all_errors, t)]))

    clean, quarantine = {}, {}
    blocking = all_errors[all_errors["gravite"] == ERREUR].assign(_id=_error_ids(all_errors))
    rules = blocking.groupby("_id")["regle"].agg(lambda r: ", ".join(sorted(set(r))))
    for t in family.tables:
        frame = typed[t.name]
        bad = _rows_with_errors(frame, all_errors) if len(frame) else pd.Series(False, index=frame.index)
        clean[t.name] = frame.loc[~bad].reset_index(drop=True)
        q = tables[t.name].raw.loc[bad].copy()
        q["regles"] = _row_ids(q).map(rules).astype("string")
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


def inbox_year_rule(frame: pd.DataFrame, lot: Lot, column: str = "annee") -> pd.DataFrame:
    wrong = frame[column].notna() & (frame[column] != lot.annee)
    return flag(frame, wrong, column, "annee_boite",
                "l'année " + frame[column].astype("string") + f" ne correspond pas à la boîte de dépôt {lot.annee}")


def normalise_qpv(codes: pd.Series, territoires: pd.Series, lot: Lot,
                  complementaires: bool = False) -> tuple[pd.Series, pd.Series]:
    """2024 codes pass, 2015 codes the row's territory maps are translated; returns (code, is_unknown). With
    `complementaires`, the territory's complementary quartiers are known codes too."""
    upper = codes.astype("string").str.strip().str.upper().str.replace(" ", "", regex=True)
    territoires = territoires.reindex(codes.index) if not territoires.index.equals(codes.index) else territoires
    mapped = keys(territoires, upper).map(lot.qpv_2015).astype("string").fillna(upper)
    known = lot.qpv | lot.quartiers_complementaires if complementaires else lot.qpv
    unknown = mapped.notna() & ~keys(territoires, mapped).isin(known)
    return mapped, unknown


def qpv_message(values: pd.Series, territoires: pd.Series, lot: Lot, complementaires: bool = False) -> pd.Series:
    """One message per distinct wrong code of a territory (the rows in error only)."""
    territoires = territoires.reindex(values.index)

    def one(t: str, v) -> str:
        if not isinstance(v, str):
            return "code QPV manquant"
        territoire = lot.territory(t)
        local = territoire.codes_complementaires if complementaires else []
        candidates = territoire.codes_qpv + list(territoire.codes_2015) + local
        guess = nearest(v.upper(), candidates)
        guess = territoire.codes_2015.get(guess, guess) if guess else None
        hint = f" — vouliez-vous dire {guess} ?" if guess else ""
        what = "un QPV ni un quartier de la géographie complémentaire" if local else "un QPV"
        return f"« {v} » n'est pas {what} du territoire {territoire.code}{hint}"

    pairs = list(zip(territoires, values))
    messages = {p: one(*p) for p in set(pairs)}
    return pd.Series([messages[p] for p in pairs], index=values.index, dtype="string")


def qpv_rule(frame: pd.DataFrame, raw: pd.DataFrame, lot: Lot, column: str) -> tuple[pd.Series, pd.DataFrame]:
    code, unknown = normalise_qpv(frame[column], frame[TERRITORY_COLUMN], lot)
    bad = unknown.fillna(False)
    msg = qpv_message(raw.loc[bad, column], frame[TERRITORY_COLUMN], lot) if bad.any() else ""
    return code, flag(frame, unknown, column, "qpv_inconnu", msg, value=raw[column])


def _is(values: pd.Series, word: str | None) -> pd.Series:
    """Cells that spell `word` (case, accents, spaces and punctuation aside)."""
    if word is None:
        return pd.Series(False, index=values.index)
    return values.map(lambda v: isinstance(v, str) and normalise_header(v) == normalise_header(word)).astype(bool)


def qpv_list_rule(frame: pd.DataFrame, raw: pd.DataFrame, lot: Lot, column: str,
                  every: str | None, complementaires: bool = False) -> pd.DataFrame:
    """`QN05934M;QN05938M` or the word for every QPV; each code checked; stored canonical and sorted. With
    `complementaires`, a code of the territory's complementary geography is accepted too."""
    text = frame[column].str.upper().str.strip()
    is_all = _is(text, every)
    codes = text.where(~is_all).str.split(r"[;,]").explode().str.strip()
    codes = codes[codes.notna() & (codes != "")]
    mapped, unknown = normalise_qpv(codes, frame[TERRITORY_COLUMN], lot, complementaires)
    first_bad = raw[column].where(pd.Series(False, index=frame.index))
    bad_codes = codes[unknown.fillna(False)]
    bad_rows = bad_codes.groupby(level=0).first()
    first_bad.loc[bad_rows.index] = bad_rows
    canonical = mapped.groupby(level=0).agg(lambda c: ";".join(sorted(set(c))))
    frame[column] = canonical.reindex(frame.index).astype("string").where(~is_all, every)
    has_bad = frame.index.isin(bad_rows.index)
    msg = qpv_message(first_bad[has_bad], frame[TERRITORY_COLUMN], lot, complementaires) if has_bad.any() else ""
    return flag(frame, pd.Series(has_bad, index=frame.index), column, "qpv_inconnu", msg, value=raw[column])


def normalise_objectif(codes: pd.Series) -> pd.Series:
    """`O.G.1.1`, `og 1.1`, `OG1.1` → `OG.1.1`; an axis code (`3`, `Axe 3`) → `3`."""
    s = codes.astype("string").str.upper().str.replace(r"[\s_]", "", regex=True)
    og = s.str.extract(r"^O\.?G\.?(\d)[.\-]?(\d)\.?$")
    axe = s.str.extract(r"^(?:AXE)?(\d)$")[0]
    out = ("OG." + og[0] + "." + og[1]).astype("string")
    return out.fillna(axe).fillna(s).astype("string")


def objectif_rule(frame: pd.DataFrame, raw: pd.DataFrame, lot: Lot, column: str,
                  allow_axes: bool) -> pd.DataFrame:
    code = normalise_objectif(frame[column])
    frame[column] = code
    key = keys(frame[TERRITORY_COLUMN], code)
    known = key.isin(lot.objectifs) | (key.isin(lot.axes) if allow_axes else False)
    unknown = code.notna() & ~known
    what = "d'objectif (OG.1.1) ou d'axe (1)" if allow_axes else "d'objectif (OG.1.1)"
    return flag(frame, unknown, column, "objectif_inconnu",
                "« " + raw[column].astype("string") + f" » n'est pas un code {what} du référentiel "
                + lot.per_territory(frame[TERRITORY_COLUMN], lambda c: c.referentiel.code), value=raw[column])


def transversal_rule(frame: pd.DataFrame, raw: pd.DataFrame, lot: Lot, column: str) -> pd.DataFrame:
    """`T1;T3` (or `t1, T3`): each code a transversal axis of the row's referential; stored canonical and sorted."""
    codes = frame[column].str.upper().str.split(r"[;,]").explode().str.strip()
    codes = codes[codes.notna() & (codes != "")]
    unknown = ~keys(frame[TERRITORY_COLUMN].reindex(codes.index), codes).isin(lot.transversaux)
    canonical = codes.groupby(level=0).agg(lambda c: ";".join(sorted(set(c))))
    frame[column] = canonical.reindex(frame.index).astype("string")
    bad = pd.Series(frame.index.isin(codes[unknown].index), index=frame.index)
    declared = lot.per_territory(frame[TERRITORY_COLUMN],
                                 lambda c: ", ".join(c.referentiel.codes_transversaux) or "aucun")
    return flag(frame, bad, column, "transversal_inconnu",
                "« " + raw[column].astype("string") + " » : axe(s) transversal(aux) inconnu(s) du référentiel "
                "(déclarés : " + declared + ")", value=raw[column])


def declared_rules(contract: TableContract, frame: pd.DataFrame, raw: pd.DataFrame,
                   lot: Lot) -> list[pd.DataFrame]:
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
            errors.append(inbox_year_rule(frame, lot, col.name))
        if col.transversaux:
            errors.append(transversal_rule(frame, raw, lot, col.name))
        if col.objectif:
            errors.append(objectif_rule(frame, raw, lot, col.name, allow_axes=col.objectif == "objectif_ou_axe"))
        if col.qpv and col.qpv.liste:
            errors.append(qpv_list_rule(frame, raw, lot, col.name, col.qpv.tous, col.qpv.complementaires))
        elif col.qpv:
            outside = _is(frame[col.name], col.qpv.hors)
            code, qpv_errors = qpv_rule(frame.assign(**{col.name: frame[col.name].where(~outside)}), raw, lot,
                                        col.name)
            frame[col.name] = code.where(~outside, col.qpv.hors)
            errors.append(qpv_errors)
    return errors
