"""DuckDB writing done one way everywhere: a transaction (readers see the old rows or the new, never a mix) and
a DataFrame inserted by column name, its numbers rounded to 12 significant digits."""

from __future__ import annotations

from contextlib import contextmanager

import duckdb
import numpy as np
import pandas as pd

# Sums and ratios computed in another order (DuckDB's parallel aggregation) differ in their last bits
# (149 017.38312680184 and 149 017.38312680178): every computed number is stored to this many significant digits,
# so two runs of the same inbox store, publish and show the same values. Far beyond any figure's real precision.
SIGNIFICANT_DIGITS = 12


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    con.execute("BEGIN")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def round_significant(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """`values` rounded to `digits` significant digits; NaN and infinities unchanged. Deterministic: two values
    that differ only beyond those digits give the same float."""
    values = np.asarray(values, dtype="float64")
    finite = np.isfinite(values) & (values != 0)
    magnitude = np.floor(np.log10(np.abs(np.where(finite, values, 1.0))))
    decimals = digits - 1 - magnitude
    scale = 10.0 ** np.abs(decimals)
    # dividing by an exact power of ten rounds once, to the float nearest the decimal (as float(f"{v:.12g}"))
    rounded = np.where(decimals >= 0, np.round(values * scale) / scale, np.round(values / scale) * scale)
    return np.where(finite, rounded, values)


def round_frame(frame: pd.DataFrame, digits: int = SIGNIFICANT_DIGITS) -> pd.DataFrame:
    """A copy of `frame` whose float columns are rounded to `digits` significant digits (the one rounding rule of
    what the pipeline computes and publishes)."""
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c].dtype)]
    if not floats:
        return frame
    out = frame.copy()
    for c in floats:
        column = out[c]
        rounded = round_significant(column.to_numpy(dtype="float64", na_value=np.nan), digits)
        out[c] = pd.Series(rounded, index=out.index).astype(column.dtype)
    return out


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    if frame is None or frame.empty:
        return
    frame = round_frame(frame)
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


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND "
                            "table_name = ?", [schema, table]).fetchall()[0][0])
