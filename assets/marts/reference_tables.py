"""Territory configuration as DuckDB tables (`ref` schema), so marts join on it in SQL."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.config import Territoire
from pipelines.warehouse import transaction


def sync_reference_tables(con: duckdb.DuckDBPyConnection, territoires: list[Territoire]) -> None:
    qpv = pd.DataFrame([{"territoire": t.code, "code_qpv": q.code, "nom_qpv": q.nom, "population": q.population,
                         "communes": ";".join(q.communes)} for t in territoires for q in t.qpv])
    terr = pd.DataFrame([{"territoire": t.code, "nom": t.nom, "nom_court": t.nom_court, "siren_epci": t.siren_epci,
                          "departement": t.departement,
                          "population_qpv": sum(q.population for q in t.qpv)} for t in territoires])
    con.execute("CREATE SCHEMA IF NOT EXISTS ref")
    with transaction(con):
        con.execute("CREATE OR REPLACE TABLE ref.qpv AS SELECT * FROM qpv")
        con.execute("CREATE OR REPLACE TABLE ref.territoires AS SELECT * FROM terr")
