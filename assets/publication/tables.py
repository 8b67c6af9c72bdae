"""The `publication` schema: every table a bilan, a commune bilan, the XLSX annex or an export reads, built in one
place. `published_tables` returns them for one year (secrecy applied, see secret.py); `write_year` replaces that
year's rows. Anything applied to every published figure (rounding) belongs between the two."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd

from assets.marts.sql import run_script
from assets.publication.colonnes_cohortes import RATES, CohortColumns
from assets.publication.secret import apply_secret
from core.marts import Mart
from core.portee import NATIONALE, Portee
from core.warehouse import table_exists, transaction

HERE = Path(__file__).parent
ROW = ["territoire", "reference_cpo", "cohorte", "jalon", "dimension", "modalite"]

# Not a family's mart: which measures the quarantined (and the retained) rows of a file feed, rows counted, not
# people. The families' marts published as they are say so in their contract (`mart.publiees`): money, dossiers,
# partners' declared figures, never a count of people from individual data.
LEDGERS = ("mesures_rejets", "lignes_mesures")


def copied_tables(marts: Iterable[Mart], portee: Portee = NATIONALE) -> dict[str, str]:
    """Each table published as it is → the query that copies the year's rows, in one order (two runs of one inbox
    write the same tables row for row). A value its source marks secret (a `secret` column beside `valeur`, as an
    observatory's indicator carries) is published empty."""
    queries = {}
    for name in [t for m in marts for t in m.published] + list(LEDGERS):
        queries[name] = f"SELECT * FROM marts.{name} WHERE annee = ? AND {portee.predicate()} ORDER BY ALL"
    return queries


def _withheld(con, name: str) -> str:
    """The copy's select list: `valeur` emptied where the row is secret, when the table has both columns."""
    columns = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                                         "'marts' AND table_name = ?", [name]).fetchall()}
    return ("* REPLACE (CASE WHEN secret THEN NULL ELSE valeur END AS valeur)" if {"secret", "valeur"} <= columns
            else "*")


def published_tables(con: duckdb.DuckDBPyConnection, annee: int, columns: CohortColumns, effectif_minimal: int,
                     denominateur_minimal: int, marts: Iterable[Mart] = (), portee: Portee = NATIONALE
                     ) -> dict[str, pd.DataFrame | duckdb.DuckDBPyRelation]:
    """The year's published tables (the scope's rows): frames, or DuckDB relations for the marts copied as they
    are."""
    # a measure's metric is named like the cohort table's rate column: one map serves both
    apply_secret(con, annee, RATES, effectif_minimal, denominateur_minimal, portee)
    # a people measure of last year counts as secret there unless it was published and shown
    published_before = ("SELECT territoire, code_mesure, perimetre, cle, secret, true AS publie "
                        "FROM publication.mesures WHERE annee = $avant"
                        if table_exists(con, "publication", "mesures") else
                        "SELECT NULL::VARCHAR AS territoire, NULL::VARCHAR AS code_mesure, NULL::VARCHAR AS perimetre, "
                        "NULL::VARCHAR AS cle, NULL::VARCHAR AS secret, NULL::BOOLEAN AS publie WHERE false")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _mesures_avant AS
        SELECT m.annee, m.territoire, m.code_mesure, m.perimetre, m.cle, coalesce(p.secret, 'non publié') AS secret
        FROM referentiel.mesures m
        LEFT JOIN ({published_before}) p ON p.territoire = m.territoire AND p.code_mesure = m.code_mesure
              AND p.perimetre = m.perimetre AND p.cle IS NOT DISTINCT FROM m.cle
        WHERE m.annee = $avant AND m.effectif IS NOT NULL AND (p.publie IS NULL OR p.secret IS NOT NULL)
              AND {portee.predicate("m.territoire")}""",
                {"avant": annee - 1})
    run_script(con, "tables.sql", annee, folder=HERE, portee=portee)
    # a mart not built in this warehouse (a partial selection) publishes nothing rather than failing. Copied in
    # DuckDB, never through pandas: marts.lignes_mesures alone is millions of rows at national scale
    out: dict[str, pd.DataFrame | duckdb.DuckDBPyRelation] = {}
    for name, sql in copied_tables(marts, portee).items():
        if table_exists(con, "marts", name):
            sql = sql.replace("SELECT *", f"SELECT {_withheld(con, name)}", 1)
            con.execute(f"CREATE OR REPLACE TEMP TABLE _copie_{name} AS {sql}", [annee])
            out[name] = con.table(f"_copie_{name}")
    out["cohortes_jalons"] = _cohortes_jalons(con, annee, columns, denominateur_minimal, portee)
    out["mesures"] = con.execute("SELECT * FROM _mesures_publiees ORDER BY ALL").df()
    out["referentiel"] = con.execute("SELECT * FROM _referentiel_publie ORDER BY ALL").df()
    return out


def _cohortes_jalons(con, annee: int, columns: CohortColumns, denominateur_minimal: int,
                     portee: Portee = NATIONALE) -> pd.DataFrame:
    mart = con.execute(f"SELECT * FROM marts.cohortes_jalons WHERE annee = ? AND {portee.predicate()} "
                       "ORDER BY reference_cpo, cohorte, "
                       "rang_jalon, dimension, modalite", [annee]).df()
    order = ["territoire", "annee", "reference_cpo", "code_objectif", "cohorte", "jalon", "rang_jalon", "dimension",
             "modalite", *columns.counts, *RATES, "cellules_masquees"]
    if mart.empty:
        return pd.DataFrame(columns=order)
    cells = con.execute("SELECT * FROM _jalons_affiches").df()
    shown = cells.pivot(index=ROW, columns="colonne", values="affichage")
    visible = cells.assign(v=cells["etat"] == "visible").pivot(index=ROW, columns="colonne", values="v")
    keyed = mart.set_index(ROW)
    out = keyed[["annee", "code_objectif", "rang_jalon"]].copy()
    # typed columns: a year where every cell is withheld still publishes into tables of the right types
    for column in columns.counts:
        out[column] = shown[column].reindex(out.index).astype("string")
    for rate, numerator in RATES.items():
        published = (visible["observes"].reindex(out.index).astype(bool)
                     & visible[numerator].reindex(out.index).astype(bool)
                     & (keyed["observes"] >= denominateur_minimal))
        out[rate] = keyed[rate].where(published).astype("Float64")
    out["cellules_masquees"] = (~visible[columns.counts].reindex(out.index).astype(bool)).sum(axis=1)
    return out.reset_index()[order]


def write_year(con: duckdb.DuckDBPyConnection, tables: dict[str, pd.DataFrame | duckdb.DuckDBPyRelation],
               annee: int, portee: Portee = NATIONALE) -> None:
    """Each table's rows of the year (of the scope's territories: `tables` holds theirs only, published_tables
    reads its inputs through the scope) replaced, in one transaction; a column added upstream widens the table."""
    con.execute("CREATE SCHEMA IF NOT EXISTS publication")
    scope = portee.predicate()
    with transaction(con):
        for name, frame in tables.items():
            con.register("_annee", frame)
            try:
                if not table_exists(con, "publication", name):
                    con.execute(f"CREATE TABLE publication.{name} AS SELECT * FROM _annee")
                elif _same_columns(con, name):
                    # the year's rows only: the other years stay where they are (rewriting the whole table
                    # through a temp table copied every year's rows, millions at national scale)
                    con.execute(f"DELETE FROM publication.{name} WHERE annee = ? AND {scope}", [annee])
                    con.execute(f"INSERT INTO publication.{name} BY NAME SELECT * FROM _annee")
                else:
                    con.execute(f"CREATE OR REPLACE TEMP TABLE _garde AS SELECT * FROM publication.{name} "
                                f"WHERE NOT (annee = ? AND {scope}) UNION ALL BY NAME SELECT * FROM _annee", [annee])
                    con.execute(f"CREATE OR REPLACE TABLE publication.{name} AS SELECT * FROM _garde")
                    con.execute("DROP TABLE _garde")
            finally:
                con.unregister("_annee")


def _same_columns(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the year's frame (`_annee`) has the table's columns, of the same types: else the table is rebuilt,
    its types widened as the union of both gives them (an insert would cast the frame into the old types)."""
    table = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
                        "'publication' AND table_name = ?", [name]).fetchall()
    frame = [(r[0], r[1]) for r in con.execute("DESCRIBE SELECT * FROM _annee").fetchall()]
    return sorted(table) == sorted(frame)
