"""Configuration as DuckDB tables (`ref` schema), so marts join on it in SQL: the territories and their QPV, and the
domain vocabulary (`ref.vocabulaire`: domaine, code, libelle, rang…), so that no SQL file spells a domain list."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.config import Territoire, Vocabulaire
from pipelines.warehouse import transaction


def sync_reference_tables(con: duckdb.DuckDBPyConnection, vocabulaire: Vocabulaire,
                          territoires: list[Territoire]) -> None:
    tables = {
        "qpv": pd.DataFrame([{"territoire": t.code, "code_qpv": q.code, "nom_qpv": q.nom, "population": q.population,
                              "communes": ";".join(q.communes)} for t in territoires for q in t.qpv]),
        "territoires": pd.DataFrame([{"territoire": t.code, "nom": t.nom, "nom_court": t.nom_court,
                                      "siren_epci": t.siren_epci, "departement": t.departement,
                                      "population_qpv": sum(q.population for q in t.qpv)} for t in territoires]),
        "vocabulaire": pd.DataFrame(vocabulaire.rows()).astype({"rang": "Int64", "mois": "Int64"}),
    }
    con.execute("CREATE SCHEMA IF NOT EXISTS ref")
    with transaction(con):
        for name, frame in tables.items():
            con.register("_ref_frame", frame)
            try:
                con.execute(f"CREATE OR REPLACE TABLE ref.{name} AS SELECT * FROM _ref_frame")
            finally:
                con.unregister("_ref_frame")
