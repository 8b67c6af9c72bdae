"""The measures long table fed by every mart, and the referential computed from it each year."""

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from assets.marts.catalog import SCHEMA, Mart
from assets.marts.sql import query, run_script
from assets.referentiel.compute import compute_referentiel
from pipelines.config import ProjectConfig, Territoire
from pipelines.logging import say
from pipelines.partitions import annee_partitions
from pipelines.resources import BilanSettings
from pipelines.warehouse import insert_frame, table_schema, transaction


def apply_catalogue(frame: pd.DataFrame, config: ProjectConfig, territoires: list[Territoire],
                    sql_files: dict[str, str] | None = None) -> pd.DataFrame:
    """Each measure row gets its unit from config/mesures.yaml (the SQL states a unit only where the data carries
    one: a commitment's target and achieved value); a code, key or perimeter the catalogue does not declare stops
    the run, naming the SQL file to fix (`sql_files`: source → its measures SQL) or the catalogue entry to add."""
    sql_files = sql_files or {}
    frame = frame.copy()
    if "unite" not in frame:
        frame["unite"] = None
    units: list[str | None] = []
    problems: list[str] = []
    by_territory = {t.code: (t, config.mesures.declarees(config.vocabulaire, config.catalogue(t.catalogue_indicateurs)))
                    for t in territoires}
    data_units = set(config.vocabulaire.codes("unites"))
    for row in frame.itertuples():
        territoire, declared = by_territory[row.territoire]
        mesure = declared.get(row.code_mesure)
        where = sql_files.get(row.source) or f"{row.source}_mesures.sql".replace("marts/", "assets/marts/")
        if mesure is None:
            problems.append(f"{where} : mesure « {row.code_mesure} » absente de config/mesures.yaml")
            units.append(None)
            continue
        cle = None if pd.isna(row.cle) else row.cle
        why = config.mesures.refus(mesure, cle, row.perimetre, territoire.codes_qpv, config.vocabulaire)
        if why:
            problems.append(f"{where} : mesure « {row.code_mesure} » : {why}")
        unit = mesure.unite if mesure.unite is not None else (None if pd.isna(row.unite) else row.unite)
        if unit not in data_units:
            problems.append(f"{where} : mesure « {row.code_mesure} » ({cle or 'sans clé'}) : unité « {unit} » absente "
                            "de la liste `unites` de vocabulaire.yaml")
        units.append(unit)
    if problems:
        unique = list(dict.fromkeys(problems))
        raise Failure("Mesures non conformes au catalogue config/mesures.yaml :\n"
                      + "\n".join(f"  - {p}" for p in unique[:30])
                      + (f"\n  … et {len(unique) - 30} autres" if len(unique) > 30 else ""))
    frame["unite"] = units
    return frame


def build_mesures_asset(marts: tuple[Mart, ...]):
    """The measures long table, fed by the marts that have a `<mart>_mesures.sql`."""
    measured = [(m, sql) for m in marts if (sql := m.measures_sql) is not None]
    sql_files = {f"marts/{m.name}": m.shown_path.removesuffix(".sql") + "_mesures.sql" for m, _ in measured}

    @asset(
        key=AssetKey(["referentiel", "mesures"]),
        group_name="referentiel",
        partitions_def=annee_partitions,
        deps=[AssetKey(["marts", m.name]) for m, _ in measured],
        kinds={"duckdb", "sql"},
        owners=["team:evaluation"],
        description="Table longue des mesures de l'année (referentiel.mesures) : territoire, code de mesure, périmètre "
                    "(territoire ou QPV), clé (objectif, partenaire — indicateur, bailleur), valeur, unité, année des "
                    "données et mart d'origine. Chaque mart fournit les siennes (assets/marts/<mart>_mesures.sql) ; "
                    "chaque code est déclaré dans config/mesures.yaml (libellé, unité, famille, clés, périmètres), "
                    "d'où vient son unité.",
    )
    def mesures(context: AssetExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
        annee = int(context.partition_key)
        with entrepot.get_connection() as con:
            run_script(con, SCHEMA)
            parts = []
            for mart, sql in measured:
                frame = query(con, sql.name, annee, folder=sql.parent)
                if "annee_donnees" not in frame:
                    frame["annee_donnees"] = annee + mart.data_year_offset
                parts.append(frame.assign(annee=annee, source=f"marts/{mart.name}"))
            frame = pd.concat(parts, ignore_index=True)
            frame = frame[frame["valeur"].notna()]
            frame = apply_catalogue(frame, parametres.config, parametres.territoires(log=lambda m: say(context, m)),
                                    sql_files)
            with transaction(con):
                con.execute("DELETE FROM referentiel.mesures WHERE annee = ?", [annee])
                insert_frame(con, "referentiel.mesures", frame)
            schema = table_schema(con, "referentiel.mesures")
        by_source = frame.groupby("source").size()
        say(context, f"referentiel/mesures {annee} : {len(frame)} mesures")
        return MaterializeResult(metadata={
            "dagster/row_count": len(frame),
            "dagster/column_schema": schema,
            "par_mart": MetadataValue.md("\n".join(f"- {s} : {n}" for s, n in by_source.items())),
            "codes": MetadataValue.md(", ".join(f"`{c}`" for c in sorted(frame["code_mesure"].unique()))),
        })

    return mesures


@asset(
    key=AssetKey(["referentiel", "referentiel"]),
    group_name="referentiel",
    partitions_def=annee_partitions,
    deps=[AssetKey(["referentiel", "mesures"]), AssetKey(["marts", "mesures_rejets"])],
    kinds={"duckdb", "pandas"},
    owners=["team:evaluation"],
    description="Référentiel d'évaluation calculé (referentiel.indicateurs) : pour chaque question évaluative et "
                "chaque indicateur du YAML config/referentiels/<territoire>.yaml, la valeur de l'année, la valeur "
                "précédente, la cible et l'écart à la cible, la tendance et sa projection à l'échéance, la nature "
                "(moyens ou résultats), le statut (liste `statuts_indicateur` de config/vocabulaire.yaml) avec sa "
                "raison, les lignes en quarantaine qui l'auraient alimenté et la mesure d'origine. Publié, secret "
                "appliqué, par publication/tableaux (publication.referentiel).",
)
def referentiel(context: AssetExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
    annee = int(context.partition_key)
    territoires = parametres.territoires(log=lambda m: say(context, m))
    with entrepot.get_connection() as con:
        frame = compute_referentiel(con, parametres.config, territoires, annee)
        with transaction(con):
            con.execute("DELETE FROM referentiel.indicateurs WHERE annee = ?", [annee])
            insert_frame(con, "referentiel.indicateurs", frame)
        schema = table_schema(con, "referentiel.indicateurs")
    statuses = frame["statut"].value_counts()
    say(context, f"referentiel/referentiel {annee} : " + ", ".join(f"{s} {n}" for s, n in statuses.items()))
    return MaterializeResult(metadata={
        "dagster/row_count": len(frame),
        "dagster/column_schema": schema,
        **{f"statut/{s}": int(n) for s, n in statuses.items()},
        "tableau": MetadataValue.md(frame[["territoire", "code_indicateur", "valeur", "cible", "statut"]]
                                    .to_markdown(index=False)),
    })
