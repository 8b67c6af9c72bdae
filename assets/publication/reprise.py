"""A year's published tables are computed again only when what they are computed from changed
(`core/reprise.py`).

The secrecy audit is most of a run that changed nothing (11 s of 52 at ten territories, minutes at national scale)
and gives the same cells from the same inputs. Its inputs are the `marts`, `referentiel` and `ref` schemas (their
rows up to the year: last year's measures count too), last year's published measures, the secrecy thresholds and
the code of `assets/publication/`."""

from __future__ import annotations

import duckdb

from core.portee import NATIONALE, Portee
from core.reprise import add_rows, digest_of

ETAPE = "publication/tableaux"
INPUT_SCHEMAS = ("marts", "referentiel", "ref")


def inputs_fingerprint(con: duckdb.DuckDBPyConnection, annee: int, parameters: dict, code: str,
                       portee: Portee = NATIONALE) -> str:
    """A territory's published rows are computed from its own rows only (secrecy is decided territory by
    territory): a scoped run's fingerprint reads the scope's rows of every table that has territories."""
    digest = digest_of(annee, parameters, code)
    # a table with years: its rows up to this year (a later year's never feed this one's)
    tables = con.execute("SELECT t.table_schema, t.table_name, bool_or(c.column_name = 'annee'), "
                         "bool_or(c.column_name = 'territoire') "
                         "FROM information_schema.tables t JOIN information_schema.columns c USING (table_schema, "
                         "table_name) WHERE t.table_schema IN (SELECT unnest(?::VARCHAR[])) AND "
                         "t.table_type = 'BASE TABLE' GROUP BY ALL ORDER BY ALL", [list(INPUT_SCHEMAS)]).fetchall()
    sources = [(f"{s}.{t}", f"SELECT * FROM {s}.{t} WHERE " + (f"annee <= {int(annee)}" if dated else "true")
                + (f" AND {portee.predicate()}" if located else ""))
               for s, t, dated, located in tables]
    # none published yet, or none of last year: the same input, no rows
    published = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'publication' "
                            "AND table_name = 'mesures'").fetchall()[0][0]
    sources.append(("publication.mesures (année précédente)",
                    f"SELECT * FROM publication.mesures WHERE annee = {int(annee) - 1} AND {portee.predicate()}"
                    if published else
                    "SELECT NULL AS x WHERE false"))
    add_rows(digest, con, sources)
    return digest.hexdigest()


def outputs(tables, annee: int, portee: Portee = NATIONALE) -> dict[str, str]:
    """The year's rows (the scope's) of each published table: what a reuse must still find."""
    return {f"publication.{t}": f"SELECT count(*) FROM publication.{t} WHERE annee = {int(annee)} AND "
                                f"{portee.predicate()}" for t in tables}
