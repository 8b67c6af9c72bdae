"""Asset checks of the marts, run in the step that builds them. `error` checks are blocking: the bilan is not
published on a broken mart. `warning` checks are recorded in `staging.controles` and shown in the bilan."""

from __future__ import annotations

import datetime as dt

import duckdb
from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey

# (mart, check name, blocking, description, SQL returning (problems, detail) for $annee)
MART_CHECKS = [
    ("programmation", "montants_egaux_au_staging", True,
     "La somme des montants accordés du mart égale celle de la programmation validée (rien perdu ni compté deux fois "
     "par la répartition entre QPV).",
     """SELECT (abs(coalesce((SELECT sum(montant_accorde) FROM marts.programmation WHERE annee = $annee), 0)
                 - coalesce((SELECT sum(montant_accorde) FROM staging.programmation WHERE annee = $annee), 0)) > 0.01)::INT,
               'mart ' || coalesce((SELECT sum(montant_accorde) FROM marts.programmation WHERE annee = $annee), 0)
               || ' € / staging ' || coalesce((SELECT sum(montant_accorde) FROM staging.programmation WHERE annee = $annee), 0) || ' €'"""),
    ("programmation", "parts_qpv_completes", True,
     "Pour chaque dossier et financeur, les parts des QPV visés font 100 %.",
     """SELECT count(*), string_agg(numero_dossier, ', ') FROM (
            SELECT numero_dossier, financeur FROM marts.programmation WHERE annee = $annee
            GROUP BY ALL HAVING abs(sum(part_qpv) - 1) > 1e-9)"""),
    ("tfpb", "abattement_egal_au_patrimoine", True,
     "L'abattement du mart égale celui des lignes patrimoine (jamais compté une fois par action).",
     """SELECT (abs(coalesce((SELECT sum(montant_abattement) FROM marts.tfpb WHERE annee = $annee), 0)
                 - coalesce((SELECT sum(montant_abattement) FROM staging.tfpb_patrimoine WHERE annee = $annee), 0)) > 0.01)::INT,
               NULL"""),
    ("tfpb", "couverture_sous_100", False,
     "Couples bailleur-QPV dont les contreparties valorisées ne couvrent pas l'abattement.",
     """SELECT count(*), string_agg(bailleur || ' / ' || code_qpv || ' : ' || round(taux_couverture) || ' %', ' ; ')
        FROM marts.tfpb WHERE annee = $annee AND alerte_couverture"""),
    ("engagements", "engagements_non_renseignes", False,
     "Engagements de partenaires sans valeur réalisée transmise.",
     """SELECT count(*), string_agg(partenaire || ' — ' || indicateur, ' ; ') FROM marts.engagements
        WHERE annee = $annee AND perimetre = 'territoire' AND non_renseigne"""),
    ("indicateurs", "sauts_entre_millesimes", False,
     "Indicateurs en pourcentage qui varient de plus de 10 points entre deux millésimes (à vérifier à la source).",
     """SELECT count(*), string_agg(code_indicateur || ' (' || perimetre || ') : ' || round(evolution, 1) || ' pts', ' ; ')
        FROM marts.indicateurs WHERE annee = $annee AND unite = 'pourcentage' AND abs(evolution) > 10"""),
    ("bilans_actions", "bilans_rattaches", True,
     "Tout bilan retenu est rattaché à un dossier de la programmation (objectif connu).",
     """SELECT count(*), string_agg(numero_dossier, ', ') FROM marts.bilans_actions
        WHERE annee = $annee AND code_objectif IS NULL"""),
    ("cohortes", "une_observation_par_jalon", True,
     "Une personne a au plus une observation retenue par CPO et jalon.",
     """SELECT count(*), NULL FROM (SELECT territoire, reference_cpo, identifiant_beneficiaire, jalon
        FROM marts.cohortes_parcours WHERE annee = $annee GROUP BY ALL HAVING count(*) > 1)"""),
]

CONTROLES_DDL = """CREATE TABLE IF NOT EXISTS staging.controles (
    annee INTEGER, actif VARCHAR, controle VARCHAR, bloquant BOOLEAN, reussi BOOLEAN, problemes INTEGER,
    description VARCHAR, detail VARCHAR, evalue_le TIMESTAMP, run_id VARCHAR)"""


def specs(mart: str, key: AssetKey) -> list[AssetCheckSpec]:
    return [AssetCheckSpec(name, asset=key, blocking=blocking, description=text)
            for m, name, blocking, text, _ in MART_CHECKS if m == mart]


def evaluate(con: duckdb.DuckDBPyConnection, mart: str, key: AssetKey, annee: int, run_id: str
             ) -> list[AssetCheckResult]:
    con.execute("CREATE SCHEMA IF NOT EXISTS staging")
    con.execute(CONTROLES_DDL)
    results = []
    for m, name, blocking, text, sql in MART_CHECKS:
        if m != mart:
            continue
        problems, detail = con.execute(sql.replace("$annee", str(int(annee)))).fetchone()
        problems = int(problems or 0)
        con.execute("DELETE FROM staging.controles WHERE annee = ? AND actif = ? AND controle = ?",
                    [annee, key.to_user_string(), name])
        con.execute("INSERT INTO staging.controles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [annee, key.to_user_string(), name, blocking, problems == 0, problems, text, detail,
                     dt.datetime.now(), run_id])
        results.append(AssetCheckResult(
            check_name=name, asset_key=key, passed=problems == 0,
            severity=AssetCheckSeverity.ERROR if blocking else AssetCheckSeverity.WARN,
            metadata={"problemes": problems, "detail": detail or ""}))
    return results
