"""DuckDB writing done one way everywhere: a transaction (readers see the old rows or the new, never a mix) and
a DataFrame inserted by column name."""

from __future__ import annotations

from contextlib import contextmanager

import duckdb
import pandas as pd


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    con.execute("BEGIN")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    if frame is None or frame.empty:
        return
    con.register("_frame_to_insert", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame_to_insert")
    finally:
        con.unregister("_frame_to_insert")


def table_schema(con: duckdb.DuckDBPyConnection, table: str):
    """A DuckDB table's columns as Dagster column-schema metadata (shown on the asset in the UI)."""
    from dagster import TableColumn, TableSchema

    described = con.execute(f"DESCRIBE {table}").fetchall()
    return TableSchema(columns=[TableColumn(name, kind) for name, kind, *_ in described])
