"""The published tables as files: what the bilan's render steps read, each in its own process, without opening the
warehouse (DuckDB admits one writer per file and no reader beside it; a worker on another machine has no warehouse
at all). One Parquet file per table of the `publication` schema, ordered by territory, written as one set by the
bilan's first step, once every table and check of the year is written (`folder_to_publish`: a reader sees the
previous set or the new one)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from core.common import folder_to_publish

# written by the bilan step and the delivery: records of what was published, not inputs of a bilan
LEDGERS = {"bilans_publies", "diffusions"}
# each received row × the measures it feeds (millions of rows at national scale, 5 M for a file at the row limit):
# the partners' feedback reads it in the warehouse, no bilan does — in the snapshot it cost a render step 1.3 GB
NOT_READ_BY_BILANS = {"lignes_mesures"}


def snapshot_path(snapshot_dir: Path, annee: int) -> Path:
    return snapshot_dir / f"publication_{annee}"


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def write_snapshot(con: duckdb.DuckDBPyConnection, snapshot_dir: Path, annee: int) -> Path:
    """Every published table and view a bilan reads (the ledgers aside), all years, for the year's bilans."""
    target = snapshot_path(snapshot_dir, annee)
    tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                        "'publication' ORDER BY table_name").fetchall()
              if t not in LEDGERS | NOT_READ_BY_BILANS]
    with folder_to_publish(target) as folder:
        for table in tables:
            # ordered by territory: a render step reading its territories skips the others' row groups
            con.execute(f"COPY (SELECT * FROM publication.{table} ORDER BY territoire) "
                        f"TO {_quoted(folder / f'{table}.parquet')} (FORMAT parquet)")
    return target


def open_snapshot(folder: Path, territoires: list[str] | None = None,
                  reglages: dict | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose `publication` schema holds the snapshot's tables (only these territories' rows);
    `reglages`: its memory and threads (settings.yaml, `entrepot`)."""
    if not folder.is_dir():
        raise FileNotFoundError(f"instantané des tables publiées introuvable : {folder} (l'étape "
                                "publication/tableaux de l'année l'écrit)")
    con = duckdb.connect(config=reglages or {})
    con.execute("CREATE SCHEMA publication")
    for path in sorted(folder.glob("*.parquet")):
        where = "" if territoires is None else " WHERE territoire IN (SELECT unnest($territoires::VARCHAR[]))"
        con.execute(f"CREATE TABLE publication.{path.stem} AS SELECT * FROM read_parquet({_quoted(path)}){where}",
                    {} if territoires is None else {"territoires": territoires})
    return con
