"""Asset checks of the staging tables, evaluated in the same step as the table they check.

Derived from each family's contract: row conservation (rows read = clean + quarantined, per file), readable
files, unique keys. Then the registry's SQL checks of the asset (config/controles.yaml: the cross-family
invariants). They run in SQL on what was written, independently of the code that split the rows. Checks stay per
staging asset: the tables depend on each other, so one check over several would wait for the assets it blocks.
Every outcome is per territory (checks/outcomes.py); the blocking ones are recorded in `staging.controles`, where
the bilan reads whether a territory's data hold."""

from __future__ import annotations

import duckdb
from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue

from checks import sql as sql_checks
from checks.controles import Registre
from checks.outcomes import Constat, Verification, check_result, per_territory, record
from core.familles.family import Family
from core.portee import NATIONALE, Portee

CONSERVATION = Verification(
    "conservation_des_lignes", True, "Chaque ligne lue est retenue ou en quarantaine, fichier par fichier.",
    "Fichiers dont des lignes lues ne sont ni retenues ni en quarantaine.")


def unique_key(t) -> Verification:
    return Verification(f"cle_unique_{t.name}", True, f"La clé ({', '.join(t.key)}) est unique dans staging.{t.name}.",
                        f"Clés en double dans staging.{t.name}.")


def specs(family: Family, key: AssetKey, registre: Registre) -> list[AssetCheckSpec]:
    out = [
        AssetCheckSpec(CONSERVATION.nom, asset=key, blocking=True, description=CONSERVATION.description),
        AssetCheckSpec("fichiers_lisibles", asset=key,
                       description="Aucun fichier refusé entièrement (illisible ou colonne obligatoire absente)."),
    ]
    out += [AssetCheckSpec(unique_key(t).nom, asset=key, blocking=True, description=unique_key(t).description)
            for t in family.tables if t.key]
    return out + sql_checks.specs(key, registre)


def evaluate(con: duckdb.DuckDBPyConnection, family: Family, key: AssetKey, annee: int, run_id: str,
             registre: Registre, territoires: list[str], portee: Portee = NATIONALE) -> list[AssetCheckResult]:
    """`territoires`: the codes of the run's territories (each gets its row, passed or not), those of `portee`."""
    conservation, totals = _conservation(con, family, annee, territoires)
    outcomes = [(CONSERVATION, conservation)]
    for t in family.tables:
        if not t.key:
            continue
        cols = ", ".join(t.key)
        rows = con.execute(f"SELECT territoire, count(*), string_agg(cle, ' ; ' ORDER BY cle) FROM ("
                           f"SELECT territoire, concat_ws(' / ', {cols}) AS cle FROM staging.{t.name} "
                           f"WHERE annee_boite = ? GROUP BY territoire, {cols} HAVING count(*) > 1) GROUP BY ALL",
                           [annee]).fetchall()
        outcomes.append((unique_key(t), per_territory({r[0]: (r[1], r[2]) for r in rows}, territoires)))
    record(con, annee, key.to_user_string(), outcomes, run_id, registre.names(key.to_user_string()), portee)
    results = [check_result(v, key, constats, totals if v is CONSERVATION else {}) for v, constats in outcomes]
    refused = con.execute("SELECT territoire, fichier, message FROM staging.qualite_fichiers WHERE famille = ? "
                          f"AND annee_boite = ? AND statut = 'refuse' AND {portee.predicate()} "
                          "ORDER BY territoire, fichier",
                          [family.name, annee]).fetchall()
    results.append(AssetCheckResult(
        check_name="fichiers_lisibles", asset_key=key, passed=not refused, severity=AssetCheckSeverity.WARN,
        metadata={"territoires_en_echec": ", ".join(dict.fromkeys(t for t, _, _ in refused)) or "aucun",
                  "fichiers_refuses": MetadataValue.md("\n".join(f"- {t}/{f} : {m}" for t, f, m in refused)
                                                       or "aucun")}))
    return results + sql_checks.evaluate(con, key, annee, run_id, registre, territoires, portee)


def _conservation(con, family: Family, annee: int, territoires: list[str]) -> tuple[list[Constat], dict]:
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
    found: dict[str, tuple[int, str | None]] = {}
    for t, f, read, kept, quarantined in rows:
        if read != kept + quarantined:
            n, d = found.get(t, (0, None))
            line = f"{f} : lues {read}, retenues {kept}, quarantaine {quarantined}"
            found[t] = (n + 1, f"{d} ; {line}" if d else line)
    totals = {"lignes_lues": sum(r[2] for r in rows), "lignes_retenues": sum(r[3] for r in rows),
              "lignes_quarantaine": sum(r[4] for r in rows)}
    return per_territory(found, territoires), totals
