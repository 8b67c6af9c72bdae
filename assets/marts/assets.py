"""Marts: one asset per subject, its SQL beside it. Each replaces its year's rows in the `marts` schema."""

from dataclasses import dataclass

from dagster import (AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, TableColumnDep,
                     TableColumnLineage, asset)
from dagster_duckdb import DuckDBResource

from assets.marts.reference_tables import sync_reference_tables
from assets.marts.sql import SQL_DIR, run_script
from checks import sql as sql_checks
from pipelines.warehouse import table_schema, transaction
from pipelines.common import code_version
from pipelines.logging import say
from pipelines.partitions import annee_partitions
from pipelines.resources import BilanSettings


@dataclass(frozen=True)
class Mart:
    name: str
    staging: tuple[str, ...]
    tables: tuple[str, ...]
    data_year_offset: int  # the year the measures describe, relative to the bilan year
    description: str
    group: str = "marts"


MARTS = (
    Mart("programmation", ("programmation",), ("programmation",), 0,
         "Programmation de l'année par dossier, financeur et QPV : montants demandés et accordés, crédits spécifiques "
         "ou de droit commun, mode (AAP, CPO, fil de l'eau). Un dossier visant plusieurs QPV est réparti au prorata "
         "de leur population (TOUS = tous les QPV du territoire)."),
    Mart("bilans_actions", ("bilans_actions", "programmation"), ("bilans_actions",), -1,
         "Bilans d'actions vus par le bilan de l'année : le dernier bilan de chaque dossier ; ceux des actions de "
         "l'année précédente sont complets (décalage d'un an : les porteurs rendent compte après l'action)."),
    Mart("engagements", ("engagements",), ("engagements",), 0,
         "Engagements des partenaires : cible, réalisé, taux de réalisation, engagements non renseignés, droit commun "
         "mobilisé par partenaire et par QPV (les taux ne sont jamais additionnés entre QPV)."),
    Mart("tfpb", ("tfpb",), ("tfpb", "tfpb_axes"), 0,
         "Abattement de TFPB par bailleur et QPV (compté une fois par QPV, jamais par action), contreparties "
         "valorisées par axe, taux de couverture et alerte sous 100 %."),
    Mart("indicateurs", ("indicateurs",), ("indicateurs",), 0,
         "Indicateurs par QPV et pour l'ensemble des QPV du contrat au dernier millésime, avec le millésime "
         "précédent, l'écart aux QP du département et à l'EPCI (en points). Les valeurs sous secret restent "
         "secrètes ; un taux d'ensemble n'est jamais une somme ni une moyenne de taux."),
    Mart("cohortes", ("cohortes", "programmation"), ("cohortes_jalons", "cohortes_parcours", "cohortes_transitions"), 0,
         "Suivi de cohortes des CPO (une cohorte = les entrants d'une CPO une année), reconstruit depuis toutes les "
         "boîtes jusqu'à l'année : par jalon (entrée, 6, 12, 24 mois, sortie) les personnes attendues et observées, "
         "la répartition des situations, les taux de sortie positive, d'emploi durable et de perdus de vue, par sexe, "
         "tranche d'âge à l'entrée et résidence en QPV ; transitions entre jalons successifs. Identifiants "
         "pseudonymisés ; tables internes, le secret statistique s'applique à la publication.", group="cohortes"),
)


# Columns a mart takes straight from one staging column (renamed or shared out): cheap, exact column lineage.
DIRECT_COLUMNS = {
    "programmation": {c: ("programmation", c) for c in ("numero_dossier", "porteur", "intitule_action", "code_objectif",
                                                         "mode_financement", "reference_cpo", "financeur",
                                                         "nature_credit", "statut", "montant_demande",
                                                         "montant_accorde", "cout_total_action", "qpv_cibles")},
    "tfpb": {"bailleur": ("tfpb", "bailleur"), "code_qpv": ("tfpb", "code_qpv"),
             "nb_logements": ("tfpb", "nb_logements"), "montant_abattement": ("tfpb", "montant_abattement"),
             "montant_valorise": ("tfpb", "montant_valorise")},
    "engagements": {c: ("engagements", c) for c in ("partenaire", "engagement", "indicateur", "unite", "valeur_cible",
                                                     "valeur_realisee", "montant_droit_commun")},
    "indicateurs": {c: ("indicateurs", c) for c in ("code_indicateur", "libelle_indicateur", "millesime", "valeur",
                                                     "unite", "source", "secret")},
    "bilans_actions": {c: ("bilans_actions", c) for c in ("numero_dossier", "annee_action", "realisation",
                                                           "beneficiaires_total", "beneficiaires_femmes",
                                                           "beneficiaires_residents_qpv", "depenses_realisees")},
}


def column_lineage(mart: str) -> TableColumnLineage:
    return TableColumnLineage(deps_by_column={
        column: [TableColumnDep(asset_key=AssetKey(["staging", family]), column_name=source)]
        for column, (family, source) in DIRECT_COLUMNS[mart].items()})


def build_mart_asset(mart: Mart):
    @asset(
        key=AssetKey(["marts", mart.name]),
        group_name=mart.group,
        partitions_def=annee_partitions,
        deps=[AssetKey(["staging", s]) for s in mart.staging],
        kinds={"duckdb", "sql"},
        owners=["team:evaluation"],
        code_version=code_version(SQL_DIR / f"{mart.name}.sql", SQL_DIR / "schema.sql", SQL_DIR / "sql.py"),
        check_specs=sql_checks.specs(AssetKey(["marts", mart.name])),
        description=mart.description + f" Tables : {', '.join('marts.' + t for t in mart.tables)} "
                    f"(SQL : assets/marts/{mart.name}.sql).",
    )
    def _mart(context: AssetExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
        annee = int(context.partition_key)
        with entrepot.get_connection() as con:
            sync_reference_tables(con, parametres.config, parametres.territoires(log=lambda m: say(context, m)))
            run_script(con, "schema.sql")
            with transaction(con):
                run_script(con, f"{mart.name}.sql", annee)
            counts = {t: con.execute(f"SELECT count(*) FROM marts.{t} WHERE annee = ?", [annee]).fetchone()[0]
                      for t in mart.tables}
            schema = table_schema(con, f"marts.{mart.tables[0]}")
            preview = con.execute(f"SELECT * FROM marts.{mart.tables[0]} WHERE annee = ? LIMIT 8", [annee]).df()
            checks = sql_checks.evaluate(con, AssetKey(["marts", mart.name]), annee, context.run_id)
        say(context, f"marts/{mart.name} {annee} : " + ", ".join(f"{t} {n} lignes" for t, n in counts.items()))
        return MaterializeResult(metadata={
            "dagster/row_count": counts[mart.tables[0]],
            **{f"table/marts.{t}": n for t, n in counts.items()},
            "dagster/column_schema": schema,
            **({"dagster/column_lineage": column_lineage(mart.name)} if mart.name in DIRECT_COLUMNS else {}),
            "apercu": MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "_vide_"),
        }, check_results=checks)

    return _mart


MART_ASSETS = [build_mart_asset(m) for m in MARTS]
