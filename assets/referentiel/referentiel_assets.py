"""The measures long table fed by every mart, and the referential computed from it each year."""

import numpy as np
import pandas as pd
from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from assets.marts.sql import query, run_script
from assets.referentiel.compute import compute_referentiel
from core.config.projet import ProjectConfig
from core.config.territoire import Territoire
from core.logging import say
from core.marts import SCHEMA, Mart
from core.partitions import annee_partitions
from core.resources import BilanSettings
from core.warehouse import insert_frame, table_schema, transaction


def apply_catalogue(frame: pd.DataFrame, config: ProjectConfig, territoires: list[Territoire],
                    sql_files: dict[str, str] | None = None) -> pd.DataFrame:
    """Each measure row gets its unit from config/mesures.yaml (the SQL states a unit only where the data carries
    one: a commitment's target and achieved value); a code, key or perimeter the catalogue does not declare stops
    the run, naming the SQL file to fix (`sql_files`: source → its measures SQL) or the catalogue entry to add.
    Checked once per distinct (catalogue, code, key, kind of perimeter, source), not per row."""
    sql_files = sql_files or {}
    frame = frame.copy()
    if "unite" not in frame:
        frame["unite"] = None
    if frame.empty:
        return frame
    by_territory = {t.code: t for t in territoires}
    declared = {t.catalogue_indicateurs: config.mesures.declarees(config.vocabulaire,
                                                                 config.catalogue(t.catalogue_indicateurs))
                for t in territoires}
    qpv = {f"{t.code}|{q}" for t in territoires for q in t.codes_qpv}
    frame["_catalogue"] = frame["territoire"].map({t.code: t.catalogue_indicateurs for t in territoires})
    local = {f"{t.code}|{q}" for t in territoires for q in t.codes_complementaires}
    at = frame["territoire"].astype(str) + "|" + frame["perimetre"].astype(str)
    frame["_genre"] = np.where(frame["perimetre"] == "territoire", "territoire",
                               np.where(at.isin(qpv), "qpv", np.where(at.isin(local), "quartier_complementaire",
                                                                       "autre")))
    keys = ["_catalogue", "code_mesure", "cle", "_genre", "source"]
    # one row per combination, with a territory and a perimeter of its own to name in a message
    combinations = frame.groupby(keys, dropna=False, sort=False)[["territoire", "perimetre", "unite"]].first() \
        .reset_index().rename(columns={"_catalogue": "catalogue"})
    data_units = set(config.vocabulaire.codes("unites"))
    problems: list[str] = []
    units: dict[tuple[str, str], str | None] = {}
    for c in combinations.itertuples(index=False):
        mesure = declared[c.catalogue].get(c.code_mesure)
        where = sql_files.get(c.source) or f"{c.source}_mesures.sql".replace("marts/", "assets/marts/")
        if mesure is None:
            problems.append(f"{where} : mesure « {c.code_mesure} » absente de config/mesures.yaml")
            continue
        cle = None if pd.isna(c.cle) else c.cle
        t = by_territory[c.territoire]
        why = config.mesures.refus(mesure, cle, c.perimetre, t.codes_qpv, config.vocabulaire, t.codes_complementaires)
        if why:
            problems.append(f"{where} : mesure « {c.code_mesure} » : {why}")
        units[(c.catalogue, c.code_mesure)] = mesure.unite
    catalogue_units = pd.Series([units.get(k) for k in zip(frame["_catalogue"], frame["code_mesure"])],
                                index=frame.index, dtype=object)
    frame["unite"] = catalogue_units.where(catalogue_units.notna(), frame["unite"].where(frame["unite"].notna(), None))
    wrong = frame[~frame["unite"].isin(data_units) & frame["code_mesure"].isin({k[1] for k in units})]
    for c in wrong.drop_duplicates(["source", "code_mesure", "cle", "unite"]).itertuples(index=False):
        where = sql_files.get(c.source) or f"{c.source}_mesures.sql".replace("marts/", "assets/marts/")
        problems.append(f"{where} : mesure « {c.code_mesure} » ({c.cle if pd.notna(c.cle) else 'sans clé'}) : unité "
                        f"« {c.unite} » absente de la liste `unites` de vocabulaire.yaml")
    if problems:
        unique = list(dict.fromkeys(problems))
        raise Failure("Mesures non conformes au catalogue config/mesures.yaml :\n"
                      + "\n".join(f"  - {p}" for p in unique[:30])
                      + (f"\n  … et {len(unique) - 30} autres" if len(unique) > 30 else ""))
    return frame.drop(columns=["_catalogue", "_genre"])


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
        portee = parametres.portee_du_run(context)
        with entrepot.get_connection() as con:
            run_script(con, SCHEMA)
            parts = []
            for mart, sql in measured:
                frame = query(con, sql.name, annee, folder=sql.parent, portee=portee)
                if "annee_donnees" not in frame:
                    frame["annee_donnees"] = annee + mart.data_year_offset
                parts.append(frame.assign(annee=annee, source=f"marts/{mart.name}"))
            frame = pd.concat(parts, ignore_index=True)
            frame = frame[frame["valeur"].notna()]
            frame = apply_catalogue(frame, parametres.config,
                                    parametres.territoires_du_run(context, log=lambda m: say(context, m)), sql_files)
            with transaction(con):
                con.execute(f"DELETE FROM referentiel.mesures WHERE annee = ? AND {portee.predicate()}", [annee])
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
    portee = parametres.portee_du_run(context)
    territoires = parametres.territoires_du_run(context, log=lambda m: say(context, m))
    with entrepot.get_connection() as con:
        frame = compute_referentiel(con, parametres.config, territoires, annee)
        with transaction(con):
            con.execute(f"DELETE FROM referentiel.indicateurs WHERE annee = ? AND {portee.predicate()}", [annee])
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
