"""Marts: one asset per family that has a mart SQL (core/marts.py finds them). Each replaces its year's
rows in the `marts` schema."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    TableColumnDep,
    TableColumnLineage,
    asset,
)
from dagster_duckdb import DuckDBResource

from assets.marts.reference_tables import sync_reference_tables
from assets.marts.sql import run_script
from checks import sql as sql_checks
from checks.controles import Registre
from core.common import code_version
from core.logging import say
from core.marts import SCHEMA, SQL_DIR, Mart
from core.partitions import annee_partitions
from core.resources import BilanSettings
from core.warehouse import table_schema, transaction

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


def build_mart_asset(mart: Mart, registre: Registre):
    key = AssetKey(["marts", mart.name])

    @asset(
        key=key,
        group_name=mart.group,
        partitions_def=annee_partitions,
        deps=[AssetKey(["staging", s]) for s in mart.staging],
        kinds={"duckdb", "sql"},
        owners=["team:evaluation"],
        code_version=code_version(mart.sql, SQL_DIR / SCHEMA, SQL_DIR / "sql.py"),
        check_specs=sql_checks.specs(key, registre),
        description=mart.description + f" Tables : {', '.join('marts.' + t for t in mart.tables)} "
                    f"(SQL : {mart.shown_path}).",
    )
    def _mart(context: AssetExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
        annee = int(context.partition_key)
        portee = parametres.portee_du_run(context)
        with entrepot.get_connection() as con:
            # the reference tables hold every territory: a scoped run reads its own rows of them
            sync_reference_tables(con, parametres.config, parametres.territoires(log=lambda m: say(context, m)))
            territoires = parametres.territoires_du_run(context, log=lambda m: None)
            run_script(con, SCHEMA)
            with transaction(con):
                run_script(con, mart.sql.name, annee, folder=mart.folder, portee=portee)
            counts = {t: con.execute(f"SELECT count(*) FROM marts.{t} WHERE annee = ?", [annee]).fetchone()[0]
                      for t in mart.tables}
            schema = table_schema(con, f"marts.{mart.tables[0]}")
            preview = con.execute(f"SELECT * FROM marts.{mart.tables[0]} WHERE annee = ? LIMIT 8", [annee]).df()
            checks = sql_checks.evaluate(con, key, annee, context.run_id, registre, [t.code for t in territoires],
                                         portee)
        say(context, f"marts/{mart.name} {annee} : " + ", ".join(f"{t} {n} lignes" for t, n in counts.items()))
        return MaterializeResult(metadata={
            "dagster/row_count": counts[mart.tables[0]],
            **{f"table/marts.{t}": n for t, n in counts.items()},
            "dagster/column_schema": schema,
            **({"dagster/column_lineage": column_lineage(mart.name)} if mart.name in DIRECT_COLUMNS else {}),
            "apercu": MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "_vide_"),
        }, check_results=checks)

    return _mart

