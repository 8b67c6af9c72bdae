"""The registry's SQL checks of an asset, run in the step that writes its table. Each query returns one row per
territory it finds a problem in; every territory's outcome goes to `staging.controles`, and a blocking failure
holds back that territory's bilan (checks/outcomes.py)."""

from __future__ import annotations

import duckdb
from dagster import AssetCheckResult, AssetCheckSpec, AssetKey

from checks.controles import Controle, Registre
from checks.outcomes import Constat, check_result, per_territory, record
from core.portee import NATIONALE, Portee

COLUMNS = ["territoire", "problemes", "detail"]


def specs(key: AssetKey, registre: Registre) -> list[AssetCheckSpec]:
    # a blocking spec stops what depends on the asset only on an ERROR, i.e. when no territory is left to publish
    return [AssetCheckSpec(c.nom, asset=key, blocking=c.bloquant, description=c.description)
            for c in registre.sql(key.to_user_string())]


def run_check(con: duckdb.DuckDBPyConnection, c: Controle, annee: int, territoires: list[str]) -> list[Constat]:
    cursor = con.execute(c.sql_for(annee))
    names = [d[0] for d in cursor.description]
    if names != COLUMNS:
        raise ValueError(f"controles.yaml, contrôle {c.nom} : la requête renvoie ({', '.join(names)}) au lieu de "
                         f"({', '.join(COLUMNS)}), une ligne par territoire concerné")
    found: dict[str, tuple[int, str | None]] = {}
    for territoire, problems, detail in cursor.fetchall():
        n, d = found.get(territoire, (0, None))
        found[territoire] = (n + int(problems or 0), "; ".join(x for x in (d, detail) if x) or None)
    return per_territory(found, territoires)


def evaluate(con: duckdb.DuckDBPyConnection, key: AssetKey, annee: int, run_id: str, registre: Registre,
             territoires: list[str], portee: Portee = NATIONALE) -> list[AssetCheckResult]:
    """`territoires`: the codes of the run's territories (each gets its row, passed or not), those of `portee`."""
    actif = key.to_user_string()
    outcomes = [(c, run_check(con, c, annee, territoires)) for c in registre.sql(actif)]
    record(con, annee, actif, [(c.verification, constats) for c, constats in outcomes], run_id,
           registre.names(actif), portee)
    return [check_result(c.verification, key, constats, {"table": c.table}) for c, constats in outcomes]
