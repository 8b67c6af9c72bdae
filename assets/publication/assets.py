"""What may leave the pipeline (`publication` schema): secrecy applied, thresholds from settings.yaml."""

from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset
from dagster_duckdb import DuckDBResource

from assets.publication.cohortes import CohortColumns, publish_cohortes, publish_transitions
from pipelines.common import code_version
from pipelines.logging import say
from pipelines.partitions import annee_partitions
from pipelines.resources import BilanSettings
from pipelines.warehouse import insert_frame, table_schema, transaction


def _replace(con, table: str, frame: pd.DataFrame, annee: int) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS publication")
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'publication' "
                         "AND table_name = ?", [table]).fetchall()[0][0]  # fetchall: no result left open
    if not exists:
        con.register("_shape", frame)
        con.execute(f"CREATE TABLE publication.{table} AS SELECT * FROM _shape WHERE false")
        con.unregister("_shape")
    con.execute(f"DELETE FROM publication.{table} WHERE annee = ?", [annee])
    insert_frame(con, f"publication.{table}", frame)


@asset(
    key=AssetKey(["publication", "cohortes"]),
    group_name="cohortes",
    partitions_def=annee_partitions,
    deps=[AssetKey(["marts", "cohortes"])],
    kinds={"duckdb", "pandas"},
    owners=["team:evaluation"],
    code_version=code_version(*(Path(__file__).parent / m for m in ("assets.py", "cohortes.py", "secret.py"))),
    description="Tables de cohortes publiables (publication.cohortes_jalons, publication.cohortes_transitions) : un "
                "effectif de personnes sous le seuil est affiché « < 5 », un taux dont le dénominateur est sous 10 "
                "n'est pas publié, et une cellule masquée ne peut être retrouvée par différence avec un total "
                "(secret secondaire, affiché « s »). Seuils : config/settings.yaml, secret_statistique.",
)
def cohortes_publiees(context: AssetExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
    annee = int(context.partition_key)
    secret = parametres.config.settings.secret_statistique
    with entrepot.get_connection() as con:
        jalons = con.execute("SELECT * FROM marts.cohortes_jalons WHERE annee = ? ORDER BY reference_cpo, cohorte, "
                             "rang_jalon, dimension, modalite", [annee]).df()
        transitions = con.execute("SELECT * FROM marts.cohortes_transitions WHERE annee = ? ORDER BY ALL",
                                  [annee]).df()
        published = publish_cohortes(jalons, CohortColumns.of(parametres.config.vocabulaire), secret.effectif_minimal,
                                     secret.denominateur_minimal)
        with transaction(con):
            _replace(con, "cohortes_jalons", published, annee)
            _replace(con, "cohortes_transitions", publish_transitions(transitions, secret.effectif_minimal), annee)
        schema = table_schema(con, "publication.cohortes_jalons") if len(published) else None
    masked = int(published["cellules_masquees"].sum()) if len(published) else 0
    say(context, f"publication/cohortes {annee} : {len(published)} lignes, {masked} cellules masquées")
    return MaterializeResult(metadata={"dagster/row_count": len(published), "cellules_masquees": masked,
                                       **({"dagster/column_schema": schema} if schema else {}),
                                       "seuil_effectif": secret.effectif_minimal,
                                       "seuil_denominateur": secret.denominateur_minimal})
