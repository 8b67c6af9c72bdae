"""Asset checks of the staging tables, evaluated in the same step as the table they check.

Derived from each family's contract: row conservation (rows read = clean + quarantined, per file), readable
files, unique keys. Then the registry's SQL checks of the asset (config/controles.yaml: the cross-family
invariants). They run in SQL on what was written, independently of the code that split the rows. Checks stay per
staging asset: the tables depend on each other, so one check over several would wait for the assets it blocks.
"""

from __future__ import annotations

import duckdb
from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue

from assets.staging.family import Family
from checks import sql as sql_checks
from checks.registry import Registre


def specs(family: Family, key: AssetKey, registre: Registre) -> list[AssetCheckSpec]:
    out = [
        AssetCheckSpec("conservation_des_lignes", asset=key, blocking=True,
                       description="Chaque ligne lue est retenue ou en quarantaine, fichier par fichier."),
        AssetCheckSpec("fichiers_lisibles", asset=key,
                       description="Aucun fichier refusé entièrement (illisible ou colonne obligatoire absente)."),
    ]
    out += [AssetCheckSpec(f"cle_unique_{t.name}", asset=key, blocking=True,
                           description=f"La clé ({', '.join(t.key)}) est unique dans staging.{t.name}.")
            for t in family.tables if t.key]
    return out + sql_checks.specs(key, registre)


def evaluate(con: duckdb.DuckDBPyConnection, family: Family, key: AssetKey, annee: int, run_id: str,
             registre: Registre) -> list[AssetCheckResult]:
    results = [_conservation(con, family, key, annee)]
    refused = con.execute("SELECT fichier, message FROM staging.qualite_fichiers WHERE famille = ? AND annee_boite = ? "
                          "AND statut = 'refuse'", [family.name, annee]).fetchall()
    results.append(AssetCheckResult(
        check_name="fichiers_lisibles", asset_key=key, passed=not refused, severity=AssetCheckSeverity.WARN,
        metadata={"fichiers_refuses": MetadataValue.md("\n".join(f"- {f} : {m}" for f, m in refused) or "aucun")}))
    for t in family.tables:
        if not t.key:
            continue
        cols = ", ".join(t.key)
        dup = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM staging.{t.name} WHERE annee_boite = ? "
                          f"GROUP BY territoire, {cols} HAVING count(*) > 1)", [annee]).fetchall()[0][0]
        results.append(AssetCheckResult(check_name=f"cle_unique_{t.name}", asset_key=key, passed=dup == 0,
                                        metadata={"cles_en_double": dup}))
    return results + sql_checks.evaluate(con, key, annee, run_id, registre)


def _conservation(con, family: Family, key: AssetKey, annee: int) -> AssetCheckResult:
    clean = " UNION ALL ".join(
        f"SELECT territoire, fichier, count(*) AS n FROM staging.{t.name} WHERE annee_boite = {int(annee)} "
        f"GROUP BY ALL" for t in family.tables)
    rows = con.execute(f"""
        WITH clean AS (SELECT territoire, fichier, sum(n) AS n FROM ({clean}) GROUP BY ALL),
             quar AS (SELECT territoire, fichier, count(*) AS n FROM quarantine.lignes
                      WHERE famille = ? AND annee_boite = ? GROUP BY ALL)
        SELECT q.territoire, q.fichier, q.lignes_lues, coalesce(c.n, 0) AS retenues, coalesce(r.n, 0) AS quarantaine
        FROM staging.qualite_fichiers q
        LEFT JOIN clean c USING (territoire, fichier) LEFT JOIN quar r USING (territoire, fichier)
        WHERE q.famille = ? AND q.annee_boite = ?
        ORDER BY q.territoire, q.fichier""", [family.name, annee, family.name, annee]).fetchall()
    broken = [r for r in rows if r[2] != r[3] + r[4]]
    read = sum(r[2] for r in rows)
    return AssetCheckResult(
        check_name="conservation_des_lignes", asset_key=key, passed=not broken,
        metadata={
            "lignes_lues": read, "lignes_retenues": sum(r[3] for r in rows),
            "lignes_quarantaine": sum(r[4] for r in rows),
            "fichiers_en_ecart": MetadataValue.md(
                "\n".join(f"- {t}/{f} : lues {a}, retenues {b}, quarantaine {c}" for t, f, a, b, c in broken)
                or "aucun"),
        })
