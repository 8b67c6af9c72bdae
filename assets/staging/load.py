"""Staging one family for one year: every territory's active files → clean rows, quarantine, per-file quality,
written to DuckDB in one transaction. Each file is read once: its read (rows as text under the contract's columns,
pseudonymised) is cached by content hash and by what reading depends on (the family's code version, the limits,
the pseudonymisation key), so a re-run reads no file again and an edited contract reads them again. The rows of
every file and territory are then validated together, each rule once (`validate_lot`)."""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from assets.sources import active_deposits
from core.common import write_atomic
from core.config.catalogue import Catalogue
from core.config.referentiel import Referentiel
from core.familles.contract import AVERTISSEMENT, FILE_COLUMN, HASH_COLUMN, SQL_TYPES, TERRITORY_COLUMN, TableContract
from core.familles.family import Context, Family, Lot, MappedFile, read_mapped, validate_lot, with_provenance
from core.familles.reading import LINE_COLUMN, SHEET_COLUMN, FichierIllisible
from core.portee import NATIONALE, Portee
from core.reprise import digest_of
from core.warehouse import insert_frame, transaction

PROVENANCE_SQL = "fichier VARCHAR, fichier_sha256 VARCHAR, feuille VARCHAR, ligne INTEGER, run_id VARCHAR"

DDL = """
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS quarantine;
CREATE TABLE IF NOT EXISTS quarantine.lignes (
    famille VARCHAR, table_contrat VARCHAR, territoire VARCHAR, annee_boite INTEGER, fichier VARCHAR,
    fichier_sha256 VARCHAR, feuille VARCHAR, ligne INTEGER, regles VARCHAR, donnees JSON, run_id VARCHAR);
CREATE TABLE IF NOT EXISTS quarantine.erreurs (
    famille VARCHAR, territoire VARCHAR, annee_boite INTEGER, fichier VARCHAR, feuille VARCHAR, ligne INTEGER,
    colonne VARCHAR, valeur VARCHAR, regle VARCHAR, gravite VARCHAR, message VARCHAR, run_id VARCHAR);
CREATE TABLE IF NOT EXISTS staging.qualite_fichiers (
    famille VARCHAR, territoire VARCHAR, annee_boite INTEGER, fichier VARCHAR, version INTEGER, sha256 VARCHAR,
    statut VARCHAR, lignes_lues INTEGER, lignes_retenues INTEGER, lignes_quarantaine INTEGER,
    avertissements INTEGER, colonnes_inconnues VARCHAR, colonnes_supprimees VARCHAR, encodage VARCHAR,
    separateur VARCHAR, message VARCHAR, lu_depuis VARCHAR, run_id VARCHAR);
"""


def _sql_columns(contract: TableContract) -> dict[str, str]:
    return {**{c.name: SQL_TYPES[c.kind] for c in contract.columns},
            **{c.key_column: "VARCHAR" for c in contract.columns if c.key_column}}


def table_ddl(contract: TableContract) -> str:
    cols = ", ".join(f"{name} {kind}" for name, kind in _sql_columns(contract).items())
    return (f"CREATE TABLE IF NOT EXISTS staging.{contract.name} "
            f"(territoire VARCHAR, annee_boite INTEGER, {cols}, {PROVENANCE_SQL})")


def ensure_tables(con: duckdb.DuckDBPyConnection, family: Family) -> None:
    con.execute(DDL)
    for contract in family.tables:
        con.execute(table_ddl(contract))
        # a warehouse written before a contract gained a column: the column is added, empty for past years
        for name, kind in _sql_columns(contract).items():
            con.execute(f"ALTER TABLE staging.{contract.name} ADD COLUMN IF NOT EXISTS {name} {kind}")


@dataclass
class FileOutcome:
    territoire: str
    nom_fichier: str
    version: int
    sha256: str
    parsed: MappedFile | None = None
    refused: str | None = None
    from_cache: bool = False


@dataclass
class StagingSummary:
    famille: str
    annee: int
    quality: pd.DataFrame
    tables: dict[str, int] = field(default_factory=dict)

    @property
    def rows_read(self) -> int:
        return int(self.quality["lignes_lues"].sum())

    @property
    def rows_kept(self) -> int:
        return int(self.quality["lignes_retenues"].sum())

    @property
    def rows_quarantined(self) -> int:
        return int(self.quality["lignes_quarantaine"].sum())


def _cache_path(cache_dir: Path, fingerprint: str, sha256: str, name: str) -> Path:
    return cache_dir / fingerprint / f"{sha256}-{hashlib.sha256(name.encode()).hexdigest()[:8]}.pkl"


def read_deposit(family: Family, deposit: dict, ctx: Context, cache_dir: Path | None,
                 fingerprint: str | None = None) -> FileOutcome:
    """One deposited file read (or its read from the cache). `fingerprint`: `ctx.fingerprint(family)`, computed
    once by a caller that reads many files."""
    outcome = FileOutcome(deposit["territoire"], deposit["nom_fichier"], deposit["version"], deposit["sha256"])
    if deposit.get("refus"):  # refused on its size or structure when it arrived: never archived, nothing to read
        outcome.refused = deposit["refus"]
        return outcome
    cache = _cache_path(cache_dir, fingerprint or ctx.fingerprint(family), deposit["sha256"],
                        deposit["nom_fichier"]) if cache_dir else None
    if cache is not None and cache.exists():
        outcome.parsed, outcome.refused = pickle.loads(cache.read_bytes())
        outcome.from_cache = True
        return outcome
    try:
        outcome.parsed = read_mapped(family, Path(deposit["chemin_archive"]), ctx,
                                     display_name=deposit["nom_fichier"])
    except FichierIllisible as exc:
        outcome.refused = str(exc)
    if cache is not None:
        write_atomic(cache, pickle.dumps((outcome.parsed, outcome.refused)), mode=0o600)
    return outcome


PROGRAMMATION_COLUMNS = "numero_dossier, annee, reference_cpo"
SNAPSHOT_PROGRAMMATION = "programmation.parquet"


def _empty_programmation() -> pd.DataFrame:
    return pd.DataFrame({"numero_dossier": pd.Series(dtype="string"), "annee": pd.Series(dtype="Int64"),
                         "reference_cpo": pd.Series(dtype="string")})


def _has_programmation(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'staging' "
                            "AND table_name = 'programmation'").fetchall()[0][0])


def known_programmation(con: duckdb.DuckDBPyConnection, territoire: str) -> pd.DataFrame:
    if not _has_programmation(con):
        return _empty_programmation()
    return con.execute(f"SELECT DISTINCT {PROGRAMMATION_COLUMNS} FROM staging.programmation "
                       "WHERE territoire = ? ORDER BY ALL", [territoire]).df()


def write_programmation_snapshot(con: duckdb.DuckDBPyConnection, folder: Path) -> Path:
    """What `bilan verifier` needs from the warehouse (the programming already known), as a Parquet file it reads
    while a run holds the warehouse: DuckDB admits no reader beside a writer in another process. Replaced whole
    (written beside, then renamed), so a reader sees the previous snapshot or the new one."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / SNAPSHOT_PROGRAMMATION
    partial = folder / f".{SNAPSHOT_PROGRAMMATION}.partiel"
    query = (f"SELECT DISTINCT territoire, {PROGRAMMATION_COLUMNS} FROM staging.programmation ORDER BY ALL"
             if _has_programmation(con) else
             "SELECT NULL::VARCHAR AS territoire, NULL::VARCHAR AS numero_dossier, NULL::INTEGER AS annee, "
             "NULL::VARCHAR AS reference_cpo WHERE false")
    quoted = str(partial).replace("'", "''")
    con.execute(f"COPY ({query}) TO '{quoted}' (FORMAT parquet)")
    partial.replace(target)
    return target


def programmation_from_snapshot(folder: Path, territoire: str) -> pd.DataFrame | None:
    """The programming known at the end of the last run, None when no run has left a snapshot."""
    path = folder / SNAPSHOT_PROGRAMMATION
    if not path.is_file():
        return None
    with duckdb.connect() as con:
        return con.execute(f"SELECT {PROGRAMMATION_COLUMNS} FROM read_parquet(?) WHERE territoire = ?",
                           [str(path), territoire]).df()


@dataclass
class StagingInputs:
    """What staging reads from the warehouse before parsing: the active deposits, the programming rules refer to."""

    deposits: list[dict]
    programmation: dict[str, pd.DataFrame]


@dataclass
class PreparedFamily:
    """One family's year parsed and validated, ready to be written in one transaction."""

    family: Family
    annee: int
    run_id: str
    clean_parts: dict[str, list[pd.DataFrame]]
    quarantine_parts: list[pd.DataFrame]
    errors: pd.DataFrame
    summary: StagingSummary


def staging_inputs(con: duckdb.DuckDBPyConnection, family: Family, annee: int,
                   territoires: list[str]) -> StagingInputs:
    programmation = ({t: known_programmation(con, t) for t in territoires}
                     if "programmation" in family.depends_on else {})
    return StagingInputs(active_deposits(con, family.name, annee), programmation)


def inputs_fingerprint(family: Family, annee: int, contexts: dict[str, Context], inputs: StagingInputs) -> str:
    """What a family's year is staged from: its active files (content hashes, in deposit order), the programming
    its rules read, each territory's configuration, referential and catalogue, and what a file's read depends on
    (`Context.fingerprint`: the family's code version, the limits, the pseudonymisation key)."""
    first = next(iter(contexts.values()))
    digest = digest_of(
        family.name, annee, first.fingerprint(family), first.tolerance_ratio,
        [[d["territoire"], d["nom_fichier"], d["version"], d["sha256"]] for d in inputs.deposits
         if d["territoire"] in contexts])
    referentiels: dict[str, Referentiel] = {}
    catalogues: dict[str, Catalogue] = {}
    for code, ctx in sorted(contexts.items()):
        digest.update(ctx.territoire.model_dump_json().encode())
        referentiels.setdefault(ctx.referentiel.code, ctx.referentiel)
        catalogues.setdefault(ctx.catalogue.code, ctx.catalogue)
        known = inputs.programmation.get(code)
        if known is not None:
            digest.update(f"{code}|{len(known)}|{int(pd.util.hash_pandas_object(known, index=False).sum())}".encode())
    for model in [*(referentiels[c] for c in sorted(referentiels)), *(catalogues[c] for c in sorted(catalogues))]:
        digest.update(model.model_dump_json().encode())
    return digest.hexdigest()


def outputs(family: Family, annee: int, portee: Portee = NATIONALE) -> dict[str, str]:
    """The family's rows of the year (the scope's) in every table staging writes: what a reuse must still find."""
    year = f"annee_boite = {int(annee)} AND {portee.predicate()}"
    mine = f"famille = '{family.name}' AND {year}"
    return {**{f"staging.{t.name}": f"SELECT count(*) FROM staging.{t.name} WHERE {year}"
               for t in family.tables},
            **{f"{table}": f"SELECT count(*) FROM {table} WHERE {mine}"
               for table in ("quarantine.lignes", "quarantine.erreurs", "staging.qualite_fichiers")}}


def prepare_family(family: Family, annee: int, contexts: dict[str, Context], inputs: StagingInputs, run_id: str,
                   cache_dir: Path | None, log=print, detail=None) -> PreparedFamily:
    """Read every active file, then validate all their rows together: no warehouse connection is held meanwhile
    (reading is the long part; the warehouse stays free for other readers). `log` gets refusals, `detail` (by
    default `log`) one line per file read."""
    detail = detail or log
    for territoire, ctx in contexts.items():
        if territoire in inputs.programmation:
            ctx.programmation = inputs.programmation[territoire]
    lot = Lot(contexts)
    fingerprint = next(iter(contexts.values())).fingerprint(family)
    outcomes = [read_deposit(family, d, contexts[d["territoire"]], cache_dir, fingerprint)
                for d in inputs.deposits if d["territoire"] in contexts]
    order: dict[str, int] = {}
    files = []
    for o in outcomes:
        how = "déjà lu (cache)" if o.from_cache else "lu"
        state = f"REFUSÉ — {o.refused}" if o.refused else f"{o.parsed.rows_read if o.parsed else 0} lignes, {how}"
        (log if o.refused else detail)(f"  {family.name} · {o.territoire}/{annee} · {o.nom_fichier} (v{o.version}) : "
                                       f"{state}")
        if o.parsed:
            # a later file of a territory comes after its earlier ones (contract: a later row may replace one)
            files.append(with_provenance(o.parsed, o.territoire, o.sha256, order.setdefault(o.territoire, 0)))
            order[o.territoire] += 1
    result = validate_lot(family, files, lot)
    clean_parts = {t.name: [result.clean[t.name].assign(territoire=result.clean[t.name][TERRITORY_COLUMN])]
                   for t in family.tables}
    quarantine_parts = [_quarantine_rows(result.quarantine[t.name], family, t, annee, run_id)
                        for t in family.tables if len(result.quarantine[t.name])]
    quality = pd.DataFrame(_quality(outcomes, result, family, annee, run_id), columns=QUALITY_COLUMNS)
    return PreparedFamily(family, annee, run_id, clean_parts, quarantine_parts, result.errors,
                          StagingSummary(family.name, annee, quality))


def write_family(con: duckdb.DuckDBPyConnection, prepared: PreparedFamily,
                 portee: Portee = NATIONALE) -> StagingSummary:
    """The family's year written, replacing the rows of the scope's territories (the only ones it read)."""
    p = prepared
    ensure_tables(con, p.family)
    _write(con, p.family, p.annee, p.clean_parts, p.quarantine_parts, p.errors, p.summary.quality, p.run_id,
           p.summary, portee)
    return p.summary


def stage_family(con: duckdb.DuckDBPyConnection, family: Family, annee: int, contexts: dict[str, Context],
                 run_id: str, cache_dir: Path | None, log=print) -> StagingSummary:
    """The three steps on one connection (tests, tools); the asset opens the warehouse only to read, then to write."""
    inputs = staging_inputs(con, family, annee, list(contexts))
    return write_family(con, prepare_family(family, annee, contexts, inputs, run_id, cache_dir, log))


QUALITY_COLUMNS = ["famille", "territoire", "annee_boite", "fichier", "version", "sha256", "statut", "lignes_lues",
                   "lignes_retenues", "lignes_quarantaine", "avertissements", "colonnes_inconnues",
                   "colonnes_supprimees", "encodage", "separateur", "message", "lu_depuis", "run_id"]


def _counts(frames, territoire_column: str, file_column: str) -> dict[tuple[str, str], int]:
    frames = [f for f in frames if len(f)]
    if not frames:
        return {}
    both = pd.concat([f[[territoire_column, file_column]].astype("string") for f in frames], ignore_index=True)
    return {k: int(v) for k, v in both.value_counts(subset=[territoire_column, file_column]).items()}


def _quality(outcomes: list[FileOutcome], result, family: Family, annee: int, run_id: str) -> list[list]:
    kept = _counts(result.clean.values(), TERRITORY_COLUMN, FILE_COLUMN)
    quarantined = _counts(result.quarantine.values(), TERRITORY_COLUMN, FILE_COLUMN)
    warnings = _counts([result.errors.loc[result.errors["gravite"] == AVERTISSEMENT]], "territoire", "fichier")
    rows = []
    for o in outcomes:
        p, at = o.parsed, (o.territoire, o.nom_fichier)
        rows.append([
            family.name, o.territoire, annee, o.nom_fichier, o.version, o.sha256,
            "refuse" if o.refused else "accepte",
            p.rows_read if p else 0, kept.get(at, 0), quarantined.get(at, 0), warnings.get(at, 0),
            ", ".join(p.unknown_columns) if p else None, ", ".join(p.dropped_columns) if p else None,
            p.encoding if p else None, p.separator if p else None, o.refused,
            "cache" if o.from_cache else "fichier", run_id,
        ])
    return rows


def _quarantine_rows(q: pd.DataFrame, family: Family, contract: TableContract, annee: int,
                     run_id: str) -> pd.DataFrame:
    payload = q[contract.column_names].astype("string").to_json(orient="records", force_ascii=False, lines=True)
    return pd.DataFrame({
        "famille": family.name, "table_contrat": contract.name, "territoire": q[TERRITORY_COLUMN].to_numpy(),
        "annee_boite": annee,
        "fichier": q[FILE_COLUMN].to_numpy(), "fichier_sha256": q[HASH_COLUMN].to_numpy(),
        "feuille": q[SHEET_COLUMN].to_numpy(), "ligne": q[LINE_COLUMN].astype(int).to_numpy(),
        "regles": q["regles"].to_numpy(), "donnees": payload.splitlines(), "run_id": run_id,
    })


def _clean_frame(parts: list[pd.DataFrame], contract: TableContract, annee: int, run_id: str) -> pd.DataFrame:
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if frame.empty:
        return pd.DataFrame(columns=["territoire", "annee_boite", *contract.stored_names, "fichier",
                                     "fichier_sha256", "feuille", "ligne", "run_id"])
    out = frame[["territoire", *contract.stored_names]].copy()
    out.insert(1, "annee_boite", annee)
    out["fichier"] = frame[FILE_COLUMN].astype("string")
    out["fichier_sha256"] = frame[HASH_COLUMN].astype("string")
    out["feuille"] = frame[SHEET_COLUMN].astype("string")
    out["ligne"] = frame[LINE_COLUMN].astype(int)
    out["run_id"] = run_id
    return out


def _write(con, family: Family, annee: int, clean_parts, quarantine_parts, errors: pd.DataFrame,
           quality: pd.DataFrame, run_id: str, summary: StagingSummary, portee: Portee = NATIONALE) -> None:
    """Replace this family's year (the scope's territories) in one transaction: readers see the old tables or the
    new, never a mix."""
    scope = portee.predicate()
    with transaction(con):
        for contract in family.tables:
            frame = _clean_frame(clean_parts[contract.name], contract, annee, run_id)
            con.execute(f"DELETE FROM staging.{contract.name} WHERE annee_boite = ? AND {scope}", [annee])
            insert_frame(con, f"staging.{contract.name}", frame)
            summary.tables[f"staging.{contract.name}"] = len(frame)
        con.execute(f"DELETE FROM quarantine.lignes WHERE famille = ? AND annee_boite = ? AND {scope}",
                    [family.name, annee])
        if quarantine_parts:
            insert_frame(con, "quarantine.lignes", pd.concat(quarantine_parts, ignore_index=True))
        con.execute(f"DELETE FROM quarantine.erreurs WHERE famille = ? AND annee_boite = ? AND {scope}",
                    [family.name, annee])
        if len(errors):
            columns = ["famille", "territoire", "annee_boite", "fichier", "feuille", "ligne", "colonne", "valeur",
                       "regle", "gravite", "message", "run_id"]
            insert_frame(con, "quarantine.erreurs",
                         errors.assign(famille=family.name, annee_boite=annee, run_id=run_id)[columns])
        con.execute(f"DELETE FROM staging.qualite_fichiers WHERE famille = ? AND annee_boite = ? AND {scope}",
                    [family.name, annee])
        insert_frame(con, "staging.qualite_fichiers", quality)
