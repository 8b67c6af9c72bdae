"""The registry's SQL checks of an asset, run in the step that writes its table: a blocking failure stops what
depends on the asset (the bilan is not published on a broken mart); every outcome goes to `staging.controles`."""

from __future__ import annotations

import duckdb
from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey

from checks.registry import Registre, record


def specs(key: AssetKey, registre: Registre) -> list[AssetCheckSpec]:
    return [AssetCheckSpec(c.nom, asset=key, blocking=c.bloquant, description=c.description)
            for c in registre.sql(key.to_user_string())]


def evaluate(con: duckdb.DuckDBPyConnection, key: AssetKey, annee: int, run_id: str,
             registre: Registre) -> list[AssetCheckResult]:
    actif = key.to_user_string()
    outcomes = []
    for c in registre.sql(actif):
        problems, detail = con.execute(c.sql_for(annee)).fetchall()[0]
        outcomes.append((c, int(problems or 0), detail))
    record(con, annee, actif, outcomes, run_id, registre)
    return [AssetCheckResult(check_name=c.nom, asset_key=key, passed=problems == 0,
                             severity=AssetCheckSeverity.ERROR if c.bloquant else AssetCheckSeverity.WARN,
                             metadata={"table": c.table, "problemes": problems,
                                       "constat": c.message if problems else "aucun", "detail": detail or ""})
            for c, problems, detail in outcomes]
