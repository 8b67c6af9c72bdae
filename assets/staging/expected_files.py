"""Which expected files did not arrive: the partners' commitments and the landlords' TFPB that the territory's
file names, and whole families with no file. Written once a year by the quality report as
`staging.fichiers_manquants`, which the partners' feedback and the bilan read."""

from __future__ import annotations

import duckdb
import pandas as pd

from core.common import normalise_header
from core.config.territoire import Territoire
from core.portee import NATIONALE, Portee
from core.warehouse import insert_frame, transaction


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


def write_missing_files(con: duckdb.DuckDBPyConnection, territoires: list[Territoire], families: list[str],
                        annee: int, portee: Portee = NATIONALE) -> pd.DataFrame:
    """Replace the year's rows of `staging.fichiers_manquants` (territoire, annee, rang, famille, attendu) of the
    scope's territories, `territoires`."""
    rows = []
    for territoire in territoires:
        present = {f: bool(con.execute("SELECT count(*) FROM staging.qualite_fichiers WHERE territoire = ? AND "
                                       "annee_boite = ? AND famille = ? AND statut = 'accepte'",
                                       [territoire.code, annee, f]).fetchall()[0][0]) for f in families}
        rows += [{"territoire": territoire.code, "annee": annee, "rang": i + 1, "famille": family, "attendu": who}
                 for i, (family, who) in enumerate(missing_files(con, territoire, annee, present))]
    frame = pd.DataFrame(rows, columns=["territoire", "annee", "rang", "famille", "attendu"])
    con.execute("CREATE TABLE IF NOT EXISTS staging.fichiers_manquants (territoire VARCHAR, annee INTEGER, "
                "rang INTEGER, famille VARCHAR, attendu VARCHAR)")
    with transaction(con):
        con.execute(f"DELETE FROM staging.fichiers_manquants WHERE annee = ? AND {portee.predicate()}", [annee])
        insert_frame(con, "staging.fichiers_manquants", frame)
    return frame
