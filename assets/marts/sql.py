"""Run a mart's SQL file (this folder, or another SQL folder given to the definitions) with the year as `$annee`.

DuckDB cannot bind parameters inside DDL (CREATE VIEW), so `$annee` is replaced by the year as an integer
literal; `int()` keeps anything else from reaching the SQL.

Lists of values are read from `ref.vocabulaire` in SQL. Where a list becomes columns (one count per cohort
situation), the file is a Jinja template rendered with the vocabulary as the warehouse holds it
(`{% for s in vocabulaire.situations %}…{% endfor %}`), so the columns follow config/vocabulaire.yaml.

A run scoped to some territories (core/portee.py) replaces their rows only. The SQL says it once, here, for every
script: a `DELETE FROM <schema>.<table> WHERE annee = $annee` deletes the scope's rows of the year, and an
`INSERT INTO <schema>.<table> BY NAME <query>` inserts the scope's rows of its query (DuckDB pushes the condition on
`territoire` down to the staging tables it reads). Any other write to a warehouse table is refused in a scoped run:
it could touch another territory's rows. A script that only reads (temp tables of the publication) keeps to the
scope with the macro `en_portee(territoire)`, true for every territory in a national run."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import duckdb
import jinja2
import pandas as pd

from core.marts import SQL_DIR
from core.portee import NATIONALE, Portee

_TEMPLATE = re.compile(r"{%|{{")
_YEAR_DELETE = re.compile(r"^DELETE FROM (\w+\.\w+) WHERE annee = \$annee$")
_INSERT = re.compile(r"^INSERT INTO (\w+\.\w+) BY NAME\s+(.*)$", re.S)
_WRITE = re.compile(r"^(?:DELETE FROM|INSERT INTO|UPDATE)\s+(\w+\.\w+)", re.I)


def _vocabulary(con: duckdb.DuckDBPyConnection) -> SimpleNamespace:
    rows = con.execute("SELECT domaine, code, libelle, rang, mois, positive FROM ref.vocabulaire "
                       "ORDER BY domaine, rang").fetchall()
    domains: dict[str, list[SimpleNamespace]] = {}
    for domaine, code, libelle, rang, mois, positive in rows:
        domains.setdefault(domaine, []).append(SimpleNamespace(code=code, libelle=libelle, rang=rang, mois=mois,
                                                               positive=positive))
    return SimpleNamespace(**domains)


def source(name: str, con: duckdb.DuckDBPyConnection | None = None, folder: Path = SQL_DIR) -> str:
    text = (folder / name).read_text(encoding="utf-8")
    if _TEMPLATE.search(text):
        if con is None:
            raise ValueError(f"{name} est un gabarit : il faut l'entrepôt pour lire le vocabulaire")
        env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
        text = env.from_string(text).render(vocabulaire=_vocabulary(con))
    return text


def statements(name: str, con: duckdb.DuckDBPyConnection | None = None, folder: Path = SQL_DIR) -> list[str]:
    text = source(name, con, folder)
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", text) if s.strip() and not _only_comments(s)]


def _only_comments(statement: str) -> bool:
    return all(line.strip().startswith("--") or not line.strip() for line in statement.splitlines())


def _bind(statement: str, annee: int | None) -> str:
    return statement if annee is None else statement.replace("$annee", str(int(annee)))


def scoped(statement: str, portee: Portee, name: str = "") -> str:
    """`statement` writing only the scope's rows (see the module's docstring)."""
    if portee.national:
        return statement
    if _YEAR_DELETE.match(statement):
        return f"{statement} AND {portee.predicate()}"
    if insert := _INSERT.match(statement):
        return (f"INSERT INTO {insert.group(1)} BY NAME SELECT * FROM (\n{insert.group(2)}\n) "
                f"WHERE {portee.predicate()}")
    if write := _WRITE.match(statement):
        raise ValueError(f"{name} : écriture dans {write.group(1)} qu'un run limité à des territoires ne sait pas "
                         "restreindre à eux (seuls `DELETE FROM t WHERE annee = $annee` et `INSERT INTO t BY NAME "
                         "…` le sont)")
    return statement


def run_script(con: duckdb.DuckDBPyConnection, name: str, annee: int | None = None, folder: Path = SQL_DIR,
               portee: Portee = NATIONALE) -> None:
    con.execute(f"CREATE OR REPLACE TEMP MACRO en_portee(territoire) AS {portee.predicate()}")
    for statement in statements(name, con, folder):
        con.execute(_bind(scoped(statement, portee, name), annee))


def query(con: duckdb.DuckDBPyConnection, name: str, annee: int, folder: Path = SQL_DIR,
          portee: Portee = NATIONALE) -> pd.DataFrame:
    """The script's one query for the year; a scoped run gets its territories' rows."""
    (statement,) = statements(name, con, folder)
    if not portee.national:
        statement = f"SELECT * FROM (\n{statement}\n) WHERE {portee.predicate()}"
    return con.execute(_bind(statement, annee)).df()
