"""A year's published tables are computed again only when what they are computed from changed.

The secrecy audit is most of a run that changed nothing (11 s of 52 at ten territories, minutes at national scale)
and gives the same cells from the same inputs. Its inputs are the `marts`, `referentiel` and `ref` schemas (their
rows up to the year: last year's measures count too), last year's published measures, the secrecy thresholds and
the code of `assets/publication/`. Their fingerprint is kept with the run that computed the tables
(`publication.calculs_publication`, a ledger: never an input, never in the render snapshot); the same fingerprint
and the year's tables still there mean nothing to compute."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import duckdb

INPUT_SCHEMAS = ("marts", "referentiel", "ref")
LEDGER = "calculs_publication"
LEDGER_DDL = (f"CREATE SCHEMA IF NOT EXISTS publication; CREATE TABLE IF NOT EXISTS publication.{LEDGER} "
              "(annee INTEGER, empreinte VARCHAR, run_id VARCHAR, calcule_le TIMESTAMP, metadonnees JSON)")


def inputs_fingerprint(con: duckdb.DuckDBPyConnection, annee: int, parameters: dict, code: str) -> str:
    """Order-independent: each table's row count and the sum of its rows' hashes, computed in DuckDB."""
    digest = hashlib.sha256(json.dumps([annee, parameters, code], sort_keys=True).encode())
    # a table with years: its rows up to this year (a later year's never feed this one's)
    tables = con.execute("SELECT t.table_schema, t.table_name, bool_or(c.column_name = 'annee') "
                         "FROM information_schema.tables t JOIN information_schema.columns c USING (table_schema, "
                         "table_name) WHERE t.table_schema IN (SELECT unnest(?::VARCHAR[])) AND "
                         "t.table_type = 'BASE TABLE' GROUP BY ALL ORDER BY ALL", [list(INPUT_SCHEMAS)]).fetchall()
    sources = [(f"{s}.{t}", f"SELECT * FROM {s}.{t}" + (f" WHERE annee <= {int(annee)}" if dated else ""))
               for s, t, dated in tables]
    # none published yet, or none of last year: the same input, no rows
    published = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'publication' "
                            "AND table_name = 'mesures'").fetchall()[0][0]
    sources.append(("publication.mesures (année précédente)",
                    f"SELECT * FROM publication.mesures WHERE annee = {int(annee) - 1}" if published else
                    "SELECT NULL AS x WHERE false"))
    for name, sql in sources:
        count, total = con.execute(f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM ({sql}) t").fetchall()[0]
        digest.update(f"{name}|{count}|{total}".encode())
    return digest.hexdigest()


def reusable(con: duckdb.DuckDBPyConnection, annee: int, fingerprint: str) -> dict | None:
    """The last computation of the year when it had these inputs and the tables it wrote (`lignes/<table>` of its
    metadata) still hold as many rows of the year: its run and its metadata; None otherwise."""
    con.execute(LEDGER_DDL)
    last = con.execute(f"SELECT empreinte, run_id, metadonnees FROM publication.{LEDGER} WHERE annee = ? "
                       "ORDER BY calcule_le DESC LIMIT 1", [annee]).fetchall()
    if not last or last[0][0] != fingerprint:
        return None
    metadata = json.loads(last[0][2])
    present = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables "
                                         "WHERE table_schema = 'publication'").fetchall()}
    for key, rows in metadata.items():
        table = key.removeprefix("lignes/")
        if key.startswith("lignes/") and (table not in present or con.execute(
                f"SELECT count(*) FROM publication.{table} WHERE annee = ?", [annee]).fetchall()[0][0] != rows):
            return None
    return {"run_id": last[0][1], "metadonnees": metadata}


def record(con: duckdb.DuckDBPyConnection, annee: int, fingerprint: str, run_id: str, metadata: dict) -> None:
    con.execute(LEDGER_DDL)
    con.execute(f"DELETE FROM publication.{LEDGER} WHERE annee = ?", [annee])
    con.execute(f"INSERT INTO publication.{LEDGER} VALUES (?, ?, ?, ?, ?)",
                [annee, fingerprint, run_id, dt.datetime.now(), json.dumps(metadata, ensure_ascii=False)])
