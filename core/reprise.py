"""A step computes again only when what it computes from changed.

A rerun of a year that changed nothing used to redo every step: read every file again (from the read cache),
validate every row, audit the secrecy of every cell, write every workbook. Each step that can say what its result
is made of computes a fingerprint of it (the rows it reads, as counts and sums of row hashes computed in DuckDB;
its parameters; its code version) and keeps it in a ledger, `journal.calculs`, with the run that computed the
result, the row counts of the tables it wrote (`sorties`) and its metadata. The same fingerprint, and each of those
tables still holding as many rows, mean the result is there: the step takes it as it is and says from which run.

The ledger is never an input: no fingerprint reads the `journal` schema, and the render snapshot holds only the
`publication` schema.

A run scoped to some territories (core/portee.py) computes and counts their rows only: its entry is kept under its
scope, and replaces every other entry of the step and year, whose rows it may have changed. A result is taken as it
is only by a run of the same scope as the last one that wrote it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import duckdb

from core.portee import NATIONALE, Portee

LEDGER_DDL = ("CREATE SCHEMA IF NOT EXISTS journal; CREATE TABLE IF NOT EXISTS journal.calculs (etape VARCHAR, "
              "annee INTEGER, empreinte VARCHAR, run_id VARCHAR, calcule_le TIMESTAMP, sorties JSON, "
              "metadonnees JSON); "
              # ledgers written before scoped runs: their entries were national
              "ALTER TABLE journal.calculs ADD COLUMN IF NOT EXISTS portee VARCHAR DEFAULT '*'")


def digest_of(*parts: object) -> hashlib._Hash:
    """A running SHA-256 started from JSON-serialisable parts (parameters, code versions, file lists)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode())


def add_rows(digest: hashlib._Hash, con: duckdb.DuckDBPyConnection, sources: list[tuple[str, str]]) -> None:
    """Each source (name, SELECT) as its row count and the sum of its rows' hashes: independent of row order, and
    computed by DuckDB without a row leaving it."""
    for name, sql in sources:
        count, total = con.execute(f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM ({sql}) t").fetchall()[0]
        digest.update(f"{name}|{count}|{total}".encode())


@dataclass(frozen=True)
class Reprise:
    run_id: str            # the run that computed the result taken as it is
    metadonnees: dict      # what that run said of it


def _counts(con: duckdb.DuckDBPyConnection, outputs: dict[str, str]) -> dict[str, int]:
    return {name: int(con.execute(sql).fetchall()[0][0]) for name, sql in outputs.items()}


def reusable(con: duckdb.DuckDBPyConnection, etape: str, annee: int, fingerprint: str,
             portee: Portee = NATIONALE) -> Reprise | None:
    """The step's last result for the year when it had this fingerprint and scope, and its tables still hold as
    many rows as it wrote; None otherwise (never computed, inputs or code changed, another scope written since, a
    table emptied or dropped since)."""
    con.execute(LEDGER_DDL)
    last = con.execute("SELECT empreinte, run_id, sorties, metadonnees, portee FROM journal.calculs WHERE etape = ? "
                       "AND annee = ? ORDER BY calcule_le DESC LIMIT 1", [etape, annee]).fetchall()
    if not last or last[0][0] != fingerprint or last[0][4] != portee.key:
        return None
    written = json.loads(last[0][2])
    try:
        now = _counts(con, {name: sql for name, (sql, _) in written.items()})
    except duckdb.CatalogException:  # a table it wrote is gone
        return None
    if any(now[name] != rows for name, (_, rows) in written.items()):
        return None
    return Reprise(run_id=last[0][1], metadonnees=json.loads(last[0][3]))


def record(con: duckdb.DuckDBPyConnection, etape: str, annee: int, fingerprint: str, run_id: str,
           outputs: dict[str, str], metadata: dict, portee: Portee = NATIONALE) -> None:
    """What the step just computed: its fingerprint and scope, and for each table it wrote (name → `SELECT count(*)`
    of the year's rows in the scope) the rows it holds now."""
    con.execute(LEDGER_DDL)
    written = {name: (sql, rows) for (name, sql), rows in zip(outputs.items(), _counts(con, outputs).values())}
    con.execute("DELETE FROM journal.calculs WHERE etape = ? AND annee = ?", [etape, annee])
    con.execute("INSERT INTO journal.calculs BY NAME SELECT ? AS etape, ? AS annee, ? AS empreinte, ? AS run_id, "
                "? AS calcule_le, ? AS sorties, ? AS metadonnees, ? AS portee",
                [etape, annee, fingerprint, run_id, dt.datetime.now(), json.dumps(written, ensure_ascii=False),
                 json.dumps(metadata, ensure_ascii=False, default=str), portee.key])


def taken_from(reprise: Reprise) -> str:
    """What the step's metadata says of a result taken as it is."""
    return f"repris du run {reprise.run_id} (mêmes entrées, même code)"


# --- a whole year, for the years a `bilan run` loads before the one it publishes -----------------------------
# Kept territory by territory: a territory's year holds its own files' rows only (a scoped run reads and writes
# its territories alone), so a national run's record is as good for a later run of one territory, and a run of one
# territory leaves every other territory's record standing.

YEARS_DDL = ("CREATE SCHEMA IF NOT EXISTS journal; CREATE TABLE IF NOT EXISTS journal.annees (annee INTEGER, "
             "portee VARCHAR, empreinte VARCHAR, run_id VARCHAR, le TIMESTAMP); "
             # records written before they were kept by territory: they match no territory, the year runs once
             "ALTER TABLE journal.annees ADD COLUMN IF NOT EXISTS territoire VARCHAR")


def year_records(con: duckdb.DuckDBPyConnection, annee: int, territoires: list[str]) -> dict[str, tuple[str, str]]:
    """Each territory's record of the year, when it has one: (fingerprint, run that made it)."""
    con.execute(YEARS_DDL)
    rows = con.execute("SELECT territoire, empreinte, run_id FROM journal.annees WHERE annee = ? "
                       "AND territoire IN (SELECT unnest(?::VARCHAR[])) ORDER BY le",
                       [annee, territoires]).fetchall()
    return {territoire: (empreinte, run_id) for territoire, empreinte, run_id in rows}


def year_unchanged(con: duckdb.DuckDBPyConnection, annee: int, fingerprints: dict[str, str]) -> str | None:
    """The last run that made the year's data of every territory of `fingerprints` (territory → fingerprint) from
    these very inputs; None when one of them was made from others, or never."""
    return unchanged_since(year_records(con, annee, list(fingerprints)), fingerprints)


def unchanged_since(found: dict[str, tuple[str, str]], fingerprints: dict[str, str]) -> str | None:
    """`year_unchanged` on records already read (`year_records`)."""
    if not fingerprints or any(found.get(t, ("", ""))[0] != f for t, f in fingerprints.items()):
        return None
    return list(found.values())[-1][1]   # the latest (records come in the order they were written)


def record_year(con: duckdb.DuckDBPyConnection, annee: int, portee: Portee, fingerprints: dict[str, str],
                run_id: str) -> None:
    con.execute(YEARS_DDL)
    con.execute("DELETE FROM journal.annees WHERE annee = ? AND (territoire IS NULL OR territoire IN "
                "(SELECT unnest(?::VARCHAR[])))", [annee, list(fingerprints)])
    now = dt.datetime.now()
    con.executemany("INSERT INTO journal.annees BY NAME SELECT ? AS annee, ? AS territoire, ? AS portee, "
                    "? AS empreinte, ? AS run_id, ? AS le",
                    [[annee, t, portee.key, f, run_id, now] for t, f in fingerprints.items()])


def forget_year(con: duckdb.DuckDBPyConnection, annee: int, portee: Portee = NATIONALE) -> None:
    """Any run of the year (UI, sensor, schedule, `bilan run`) may change its territories' data: their records go at
    its start."""
    con.execute(YEARS_DDL)
    con.execute(f"DELETE FROM journal.annees WHERE annee = ? AND (territoire IS NULL OR {portee.predicate()})",
                [annee])
