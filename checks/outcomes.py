"""A check's outcome is per territory: one row of `staging.controles` per check and territory, so that a
territory's bilan shows its own warnings only and a territory's blocking failure holds back its own bilan only
(assets/bilan.py). A check that looks at every territory at once gives one row per territory it concerns.

In Dagster a check is one result per asset: it fails when any territory fails, and its metadata names each
territory. A blocking failure is an ERROR there — which stops what depends on the asset for everyone — only when
it leaves no territory of the run to publish; otherwise it is reported as a WARN naming the territories held
back, and the bilan leaves those out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import pandas as pd
from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue

from core.portee import NATIONALE, Portee
from core.warehouse import insert_frame

CONTROLES_DDL = """CREATE TABLE IF NOT EXISTS staging.controles (
    annee INTEGER, territoire VARCHAR, actif VARCHAR, controle VARCHAR, bloquant BOOLEAN, reussi BOOLEAN,
    problemes INTEGER, description VARCHAR, message VARCHAR, detail VARCHAR, evalue_le TIMESTAMP, run_id VARCHAR)"""

OUTCOME_COLUMNS = ["annee", "territoire", "actif", "controle", "bloquant", "reussi", "problemes", "description",
                   "message", "detail", "evalue_le", "run_id"]

# Derived from the staging contracts for every family, not declared in the registry (checks/staging.py).
STRUCTURAL = ("conservation_des_lignes", "fichiers_lisibles", "cle_unique_")


@dataclass(frozen=True)
class Verification:
    """What a check is, whichever its origin (the registry, or a staging contract)."""

    nom: str
    bloquant: bool
    description: str
    message: str


@dataclass(frozen=True)
class Constat:
    """One check's outcome for one territory."""

    territoire: str
    problemes: int
    detail: str | None = None


def per_territory(found: dict[str, tuple[int, str | None]], territoires: Iterable[str]) -> list[Constat]:
    """One outcome per territory of the run (no problem where the check found none), and per territory the
    check found a problem in even if the run does not name it."""
    codes = list(dict.fromkeys([*territoires, *found]))
    return [Constat(t, int(found.get(t, (0, None))[0] or 0), found.get(t, (0, None))[1]) for t in codes]


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS staging")
    con.execute(CONTROLES_DDL)
    # warehouses written before these columns
    con.execute("ALTER TABLE staging.controles ADD COLUMN IF NOT EXISTS message VARCHAR")
    con.execute("ALTER TABLE staging.controles ADD COLUMN IF NOT EXISTS territoire VARCHAR")


def record(con: duckdb.DuckDBPyConnection, annee: int, actif: str,
           outcomes: list[tuple[Verification, list[Constat]]], run_id: str, known: Iterable[str],
           portee: Portee = NATIONALE) -> None:
    """Replace the year's rows of these checks (every territory's in the scope); rows of this asset's checks no
    longer known (`known`: the registry's names for the asset; contract-derived checks are always known) go too."""
    ensure_table(con)
    known = list(known)
    scope = portee.predicate()
    stale = [n for (n,) in con.execute("SELECT DISTINCT controle FROM staging.controles WHERE annee = ? AND actif = ? "
                                       f"AND {scope}", [annee, actif]).fetchall()
             if n not in known and not n.startswith(STRUCTURAL)]
    con.execute(f"DELETE FROM staging.controles WHERE annee = ? AND actif = ? AND list_contains(?, controle) AND "
                f"{scope}", [annee, actif, stale + [v.nom for v, _ in outcomes]])
    now = dt.datetime.now()
    rows = [[annee, c.territoire, actif, v.nom, v.bloquant, c.problemes == 0, c.problemes, v.description, v.message,
             c.detail, now, run_id] for v, constats in outcomes for c in constats
            # a check over the whole table finds other territories too: a scoped run records its own only
            if portee.national or (c.territoire is not None and portee.keeps(c.territoire))]
    if rows:
        # one insert of the whole frame: a statement per row (executemany) cost ≈ 1 ms each, and a national
        # run records thousands of rows per step (checks × territories)
        insert_frame(con, "staging.controles", pd.DataFrame(rows, columns=OUTCOME_COLUMNS).astype(
            {c: "string" for c in ("territoire", "actif", "controle", "description", "message", "detail", "run_id")}))


def severity(v: Verification, constats: list[Constat]) -> AssetCheckSeverity:
    """ERROR (stops what depends on the asset, for every territory) only for a blocking check that leaves no
    territory of the run unblocked; a territory held back alone is the bilan's business."""
    failing = [c for c in constats if c.problemes]
    if v.bloquant and failing and len(failing) == len(constats):
        return AssetCheckSeverity.ERROR
    return AssetCheckSeverity.WARN


def check_result(v: Verification, key: AssetKey, constats: list[Constat], metadata: dict) -> AssetCheckResult:
    """The Dagster result of one check: passed when every territory passes; its metadata says, per territory,
    what was found, and which territories' bilans a blocking failure holds back."""
    failing = [c for c in constats if c.problemes]
    return AssetCheckResult(
        check_name=v.nom, asset_key=key, passed=not failing, severity=severity(v, constats),
        metadata={
            **metadata,
            "gravite": "bloquant" if v.bloquant else "avertissement",
            "problemes": sum(c.problemes for c in constats),
            "constat": v.message if failing else "aucun",
            "territoires_en_echec": ", ".join(c.territoire for c in failing) or "aucun",
            "bilans_retenus": (", ".join(c.territoire for c in failing) or "aucun") if v.bloquant else "aucun",
            "par_territoire": MetadataValue.md("\n".join(
                f"- {c.territoire} : {c.problemes} problème(s)" + (f" — {c.detail}" if c.detail else "")
                for c in constats) or "aucun territoire"),
            "detail": MetadataValue.md("\n".join(f"- {c.territoire} : {c.detail}" for c in failing if c.detail)
                                       or "aucun"),
        })


def blocking_failures(con: duckdb.DuckDBPyConnection, territoire: str, annee: int,
                      schema: str = "staging") -> list[tuple[str, str, str]]:
    """The blocking checks a territory fails for the year: (check, message, detail). Its bilan is not published
    while there is one; another territory's failures are not its business. `schema`: `publication` to read them
    from a snapshot of the published tables (its view of the same table)."""
    exists = con.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = ? "
                         "AND table_name = 'controles' AND column_name = 'territoire'", [schema]).fetchone()
    if not exists or not exists[0]:   # no check has run on this warehouse yet (read-only readers too)
        return []
    return [tuple(r) for r in con.execute(
        f"SELECT controle, message, coalesce(detail, '') FROM {schema}.controles WHERE annee = ? AND territoire = ? "
        "AND bloquant AND NOT reussi ORDER BY actif, controle", [annee, territoire]).fetchall()]
