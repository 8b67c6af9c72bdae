"""Which expected files did not arrive: the partners' commitments and the landlords' TFPB that the territory's
file names, and whole families with no file. Used by the partners' feedback and by the bilan."""

from __future__ import annotations

import duckdb

from pipelines.common import normalise_header
from pipelines.config import Territoire


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                            [schema, table]).fetchall()[0][0])


def missing_files(con: duckdb.DuckDBPyConnection, territoire: Territoire, annee: int,
                  present: dict[str, bool]) -> list[tuple[str, str]]:
    """(famille, partner or remark) for each expected file not received; `present`: family → any file accepted."""
    missing = []
    sent = set()
    if _exists(con, "staging", "engagements"):
        sent = {r[0] for r in con.execute(
            "SELECT DISTINCT partenaire FROM staging.engagements WHERE territoire = ? AND annee_boite = ? UNION "
            "SELECT DISTINCT donnees->>'partenaire' FROM quarantine.lignes WHERE famille = 'engagements' AND "
            "territoire = ? AND annee_boite = ?", [territoire.code, annee, territoire.code, annee]).fetchall()}
    missing += [("engagements", p.nom) for p in territoire.partenaires_attendus
                if "engagements" in p.familles and p.nom not in sent]
    landlords = set()
    if _exists(con, "staging", "tfpb_patrimoine"):
        landlords = {normalise_header(r[0]) for r in con.execute(
            "SELECT DISTINCT bailleur FROM staging.tfpb_patrimoine WHERE territoire = ? AND annee_boite = ?",
            [territoire.code, annee]).fetchall()}
    missing += [("tfpb", b) for b in territoire.bailleurs if normalise_header(b) not in landlords]
    missing += [(family, "aucun fichier") for family, ok in present.items()
                if not ok and family not in ("engagements", "tfpb")]
    return missing
