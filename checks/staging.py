"""Asset checks of the staging tables, evaluated in the same step as the table they check.

Row conservation (rows read = clean + quarantined, per file) and the cross-family invariants the contracts
state. They run in SQL on what was written, independently of the code that split the rows.
"""

from __future__ import annotations

import duckdb
from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue

from assets.staging.family import Family


def specs(family: Family, key: AssetKey) -> list[AssetCheckSpec]:
    out = [
        AssetCheckSpec("conservation_des_lignes", asset=key, blocking=True,
                       description="Chaque ligne lue est retenue ou en quarantaine, fichier par fichier."),
        AssetCheckSpec("fichiers_lisibles", asset=key,
                       description="Aucun fichier refusé entièrement (illisible ou colonne obligatoire absente)."),
    ]
    out += [AssetCheckSpec(f"cle_unique_{t.name}", asset=key, blocking=True,
                           description=f"La clé ({', '.join(t.key)}) est unique dans staging.{t.name}.")
            for t in family.tables if t.key]
    out += [AssetCheckSpec(name, asset=key, blocking=True, description=text)
            for name, text, _ in CROSS_FAMILY.get(family.name, [])]
    return out


CROSS_FAMILY = {
    "bilans_actions": [(
        "bilans_de_dossiers_connus", "Tout bilan retenu porte sur un dossier de la programmation de son année.",
        """SELECT count(*) FROM staging.bilans_actions b WHERE b.annee_boite = ? AND NOT EXISTS (
             SELECT 1 FROM staging.programmation p WHERE p.territoire = b.territoire
             AND p.numero_dossier = b.numero_dossier AND p.annee = b.annee_action)"""),
    ],
    "tfpb": [(
        "actions_sur_patrimoine_declare", "Toute action TFPB retenue est dans un QPV où le bailleur a du patrimoine.",
        """SELECT count(*) FROM staging.tfpb_actions a WHERE a.annee_boite = ? AND NOT EXISTS (
             SELECT 1 FROM staging.tfpb_patrimoine p WHERE p.territoire = a.territoire AND p.annee = a.annee
             AND p.code_qpv = a.code_qpv AND lower(strip_accents(p.bailleur)) = lower(strip_accents(a.bailleur)))"""),
    ],
    "cohortes": [(
        "cohortes_de_cpo_connues", "Toute observation retenue porte sur une CPO de la programmation.",
        """SELECT count(*) FROM staging.cohortes c WHERE c.annee_boite = ? AND NOT EXISTS (
             SELECT 1 FROM staging.programmation p WHERE p.territoire = c.territoire
             AND p.reference_cpo = c.reference_cpo)"""),
    ],
}


def evaluate(con: duckdb.DuckDBPyConnection, family: Family, key: AssetKey, annee: int) -> list[AssetCheckResult]:
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
                          f"GROUP BY territoire, {cols} HAVING count(*) > 1)", [annee]).fetchone()[0]
        results.append(AssetCheckResult(check_name=f"cle_unique_{t.name}", asset_key=key, passed=dup == 0,
                                        metadata={"cles_en_double": dup}))
    for name, _, sql in CROSS_FAMILY.get(family.name, []):
        bad = con.execute(sql, [annee]).fetchone()[0]
        results.append(AssetCheckResult(check_name=name, asset_key=key, passed=bad == 0,
                                        metadata={"lignes_en_infraction": bad}))
    return results


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
