"""Run a SQL file of this folder with the year as `$annee`.

DuckDB cannot bind parameters inside DDL (CREATE VIEW), so `$annee` is replaced by the year as an integer
literal; `int()` keeps anything else from reaching the SQL."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

SQL_DIR = Path(__file__).parent


def statements(name: str) -> list[str]:
    text = (SQL_DIR / name).read_text(encoding="utf-8")
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", text) if s.strip() and not _only_comments(s)]


def _only_comments(statement: str) -> bool:
    return all(line.strip().startswith("--") or not line.strip() for line in statement.splitlines())


def _bind(statement: str, annee: int | None) -> str:
    return statement if annee is None else statement.replace("$annee", str(int(annee)))


def run_script(con: duckdb.DuckDBPyConnection, name: str, annee: int | None = None) -> None:
    for statement in statements(name):
        con.execute(_bind(statement, annee))


def query(con: duckdb.DuckDBPyConnection, name: str, annee: int) -> pd.DataFrame:
    (statement,) = statements(name)
    return con.execute(_bind(statement, annee)).df()
