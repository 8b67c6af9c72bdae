"""What may leave the pipeline: the `publication` schema, which every output reads (bilan HTML/PDF, commune bilans,
XLSX annex, partners' feedback). Secrecy is applied here, once, to all of it; thresholds from settings.yaml."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, DataVersion, MaterializeResult, asset
from dagster_duckdb import DuckDBResource

from assets.publication import reprise
from assets.publication.colonnes_cohortes import CohortColumns
from assets.publication.tables import published_tables, write_year
from assets.publication.vues import publish_views
from core.common import code_version
from core.logging import say
from core.marts import Mart
from core.partitions import annee_partitions
from core.reprise import record, reusable, taken_from
from core.resources import BilanSettings
from core.warehouse import table_schema

HERE = Path(__file__).parent
CODE_VERSION = code_version(*sorted(p for p in HERE.iterdir() if p.suffix in (".py", ".sql")))


def build_publication_asset(marts: tuple[Mart, ...]):
    """The published tables of the year, downstream of every mart and of the referential."""

    @asset(
        key=AssetKey(["publication", "tableaux"]),
        group_name="publication",
        partitions_def=annee_partitions,
        deps=[AssetKey(["referentiel", "referentiel"]), AssetKey(["referentiel", "mesures"]),
              AssetKey(["marts", "mesures_rejets"]),
              *(AssetKey(["marts", m.name]) for m in marts)],
        kinds={"duckdb", "sql"},
        owners=["team:evaluation"],
        code_version=CODE_VERSION,
        description="Tables publiables (schéma publication), seules lues par le bilan, les bilans communaux, l'annexe "
                    "XLSX et les retours aux partenaires : mesures, référentiel, programmation, engagements, TFPB, "
                    "indicateurs, cohortes par jalon ; vues sur la qualité des fichiers. Secret "
                    "statistique appliqué une fois à tous les effectifs de personnes : effectif sous le seuil affiché "
                    "« < 5 », taux sur moins de 10 personnes ou de numérateur masqué non publié, secret secondaire "
                    "sur toutes les relations entre cellules (total et parties, taux et dénominateur, même cellule "
                    "dans deux tables), affiché « secret statistique ». Seuils : config/settings.yaml, "
                    "secret_statistique.",
    )
    def tableaux(context: AssetExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
        annee = int(context.partition_key)
        portee = parametres.portee_du_run(context)
        secret = parametres.config.settings.secret_statistique
        thresholds = {"seuil_effectif": secret.effectif_minimal, "seuil_denominateur": secret.denominateur_minimal}
        with entrepot.get_connection() as con:
            # the ledger of earlier versions, before `journal.calculs`
            con.execute("DROP TABLE IF EXISTS publication.calculs_publication")
            fingerprint = reprise.inputs_fingerprint(con, annee, thresholds, CODE_VERSION, portee)
            last = reusable(con, reprise.ETAPE, annee, fingerprint, portee)
            if last is not None:
                views = publish_views(con)
                schema = table_schema(con, "publication.mesures")
                say(context, f"publication {annee} : mêmes entrées que le run {last.run_id}, tables reprises "
                             "telles quelles (rien à recalculer)")
                return MaterializeResult(data_version=DataVersion(fingerprint[:24]), metadata={
                    **last.metadonnees, "dagster/column_schema": schema, "vues": ", ".join(views),
                    "calcul": taken_from(last)})
            tables = published_tables(con, annee, CohortColumns.of(parametres.config.vocabulaire),
                                      secret.effectif_minimal, secret.denominateur_minimal, marts, portee)
            write_year(con, tables, annee, portee)
            # published by earlier versions; no output shows it, and with the cohort table it gave cells back
            con.execute("DROP TABLE IF EXISTS publication.cohortes_transitions")
            views = publish_views(con)
            hidden = dict(con.execute(f"SELECT etat, count(*) FROM _etat WHERE {portee.predicate()} GROUP BY ALL")
                          .fetchall())
            schema = table_schema(con, "publication.mesures")
            metadata = {
                **{f"lignes/{name}": len(frame) for name, frame in tables.items()},
                "cellules_sous_le_seuil": int(hidden.get("primaire", 0)),
                "cellules_secret_secondaire": int(hidden.get("secondaire", 0)), **thresholds}
            record(con, reprise.ETAPE, annee, fingerprint, context.run.run_id,
                   reprise.outputs(tables, annee, portee), metadata, portee)
        say(context, f"publication {annee} : {len(tables)} tables, {hidden.get('primaire', 0)} cellules sous le seuil, "
                     f"{hidden.get('secondaire', 0)} masquées en secret secondaire")
        return MaterializeResult(data_version=DataVersion(fingerprint[:24]),
                                 metadata={**metadata, "dagster/column_schema": schema, "vues": ", ".join(views),
                                           "calcul": "exécuté"})

    return tableaux
