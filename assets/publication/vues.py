"""What the bilan and the partners' feedback show about the files themselves (received, rejected rows, missing,
checks): no count of people, published as views so that every output reads the `publication` schema only."""

from __future__ import annotations

import duckdb

VIEWS = {
    "qualite_fichiers": ("staging", "qualite_fichiers", "SELECT * FROM staging.qualite_fichiers"),
    "erreurs": ("quarantine", "erreurs", "SELECT * FROM quarantine.erreurs"),
    "fichiers_manquants": ("staging", "fichiers_manquants", "SELECT * FROM staging.fichiers_manquants"),
    "controles": ("staging", "controles", "SELECT * FROM staging.controles"),
    # the archive's paths stay inside: a file is named by its name, version and fingerprint
    "sources": ("archive", "depots", "SELECT territoire, famille, annee, nom_fichier, version, sha256, origine, "
                                     "premier_vu_le, coalesce(depose_le, premier_vu_le) AS depose_le, actif "
                                     "FROM archive.depots"),
}


def publish_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """(Re)creates the views whose source table exists; returns their names."""
    con.execute("CREATE SCHEMA IF NOT EXISTS publication")
    made = []
    for name, (schema, table, sql) in VIEWS.items():
        if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                       [schema, table]).fetchall()[0][0]:
            con.execute(f"CREATE OR REPLACE VIEW publication.{name} AS {sql}")
            made.append(name)
    return made
