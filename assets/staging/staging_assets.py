"""Staging assets: one per family, reading its source asset's files and writing clean rows and quarantine."""


from dagster import (
    AssetExecutionContext,
    AssetKey,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    asset,
)
from dagster_duckdb import DuckDBResource

from assets.staging.load import (
    StagingSummary,
    inputs_fingerprint,
    outputs,
    prepare_family,
    staging_inputs,
    write_family,
    write_programmation_snapshot,
)
from checks import staging as staging_checks
from checks.controles import Registre
from core.config.territoire import Territoire
from core.familles.contract import SQL_TYPES
from core.familles.family import Context, Family
from core.logging import progress_logger, say
from core.partitions import annee_partitions
from core.reprise import record, reusable, taken_from
from core.resources import BilanSettings


def _schema(family: Family) -> TableSchema:
    cols = [TableColumn("territoire", "VARCHAR"), TableColumn("annee_boite", "INTEGER")]
    for t in family.tables:
        prefix = f"{t.name}." if len(family.tables) > 1 else ""
        cols += [TableColumn(f"{prefix}{c.name}", SQL_TYPES[c.kind],
                             description=("obligatoire" if c.required else "facultatif")) for c in t.columns]
    cols += [TableColumn(n, "VARCHAR") for n in ("fichier", "fichier_sha256", "feuille")]
    cols += [TableColumn("ligne", "INTEGER")]
    return TableSchema(columns=cols)


def validation_contexts(parametres: BilanSettings, annee: int, territoires: list[Territoire]) -> dict[str, Context]:
    """One validation context per territory: what its families' rules may look at."""
    cfg = parametres.config
    return {
        t.code: Context(territoire=t, annee=annee, referentiel=cfg.referentiel(t.referentiel),
                        catalogue=cfg.catalogue(t.catalogue_indicateurs),
                        tolerance_ratio=cfg.settings.tolerance_ratio_points, pseudonymise=parametres.pseudonymiser(),
                        limites=cfg.settings.limites)
        for t in territoires
    }


def _facts(family: Family, summary: StagingSummary, by_rule: list[tuple[str, int]]) -> dict:
    """What the step says of a family's year, as JSON: its metadata, kept in the ledger for a run that reuses it."""
    q = summary.quality
    return {
        "dagster/row_count": summary.rows_kept,
        "lignes_lues": summary.rows_read,
        "lignes_retenues": summary.rows_kept,
        "lignes_quarantaine": summary.rows_quarantined,
        "fichiers": (q[["territoire", "fichier", "version", "statut", "lignes_lues", "lignes_retenues",
                        "lignes_quarantaine"]].to_markdown(index=False) if len(q) else "_aucun fichier_"),
        "sha256": {f: s for f, s in zip(q["fichier"], q["sha256"])},
        "problemes_par_regle": "\n".join(f"- `{r}` ({family.describe(r)}) : {n}" for r, n in by_rule) or "aucun",
        **{f"table/{name}": n for name, n in summary.tables.items()},
    }


def build_staging_asset(family: Family, registre: Registre):
    key = AssetKey(["staging", family.name])

    @asset(
        key=key,
        group_name="staging",
        partitions_def=annee_partitions,
        # cross-family rules read other staging tables: those are upstream in the graph
        deps=[AssetKey(["sources", family.name]), *(AssetKey(["staging", u]) for u in family.depends_on)],
        kinds={"duckdb", "pandas", "pandera"},
        owners=["team:donnees"],
        check_specs=staging_checks.specs(family, key, registre),
        code_version=family.version,
        description=family.description + " Lecture tolérante (encodages, séparateurs, nombres et dates à la "
        "française), contrat pandera, règles du contrat ; les lignes fautives vont en quarantaine avec fichier, "
        "ligne, colonne et règle. Tables : " + ", ".join(f"staging.{t.name}" for t in family.tables) + ".",
        metadata={"dagster/column_schema": _schema(family)},
    )
    def _staging(context: AssetExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
        annee = int(context.partition_key)
        etape = f"staging/{family.name}"
        portee = parametres.portee_du_run(context)
        contexts = validation_contexts(parametres, annee,
                                       parametres.territoires_du_run(context, log=lambda m: say(context, m)))
        # the warehouse is open only to read what parsing needs, then to write: never while files are parsed
        with entrepot.get_connection() as con:
            inputs = staging_inputs(con, family, annee, list(contexts))
            fingerprint = inputs_fingerprint(family, annee, contexts, inputs)
            last = reusable(con, etape, annee, fingerprint, portee)
        if last is None:
            # a line per file goes to the console only: thousands of files make as many events in the run's log,
            # and the step's metadata lists every file with its counts
            prepared = prepare_family(family, annee, contexts, inputs, context.run_id, parametres.cache_dir,
                                      log=lambda m: say(context, m), detail=progress_logger.info)
        with entrepot.get_connection() as con:
            if last is None:
                summary = write_family(con, prepared, portee)
                by_rule = con.execute("SELECT regle, count(*) FROM quarantine.erreurs WHERE famille = ? AND "
                                      f"annee_boite = ? AND {portee.predicate()} GROUP BY regle ORDER BY 2 DESC",
                                      [family.name, annee]).fetchall()
                facts = _facts(family, summary, by_rule)
                record(con, etape, annee, fingerprint, context.run_id, outputs(family, annee, portee), facts,
                       portee)
            else:
                facts = last.metadonnees
            if family.name == "programmation":
                # `bilan verifier` reads the known programming from this snapshot, never from the warehouse a run
                # may be writing
                write_programmation_snapshot(con, parametres.snapshot_dir)
            checks = staging_checks.evaluate(con, family, key, annee, context.run_id, registre, list(contexts),
                                             portee)
        how = "lues" if last is None else f"reprises du run {last.run_id} (mêmes fichiers, même contrat)"
        say(context, f"staging/{family.name} {annee} : {facts['lignes_lues']} lignes {how}, "
                     f"{facts['lignes_retenues']} retenues, {facts['lignes_quarantaine']} en quarantaine")
        return MaterializeResult(
            # the ledger's fingerprint of what the family's tables are made of: the same inputs, the same version
            data_version=DataVersion(fingerprint[:24]),
            metadata={
                **{k: v for k, v in facts.items() if k not in ("fichiers", "sha256", "problemes_par_regle")},
                "fichiers": MetadataValue.md(facts["fichiers"]),
                "sha256": MetadataValue.json(facts["sha256"]),
                "problemes_par_regle": MetadataValue.md(facts["problemes_par_regle"]),
                "calcul": "exécuté" if last is None else taken_from(last),
            },
            check_results=checks,
        )

    return _staging

