"""What the quarantined rows would have changed: for each measure of the year, how many rejected rows (and, for
money, how much) would have fed it (`marts.mesures_rejets`, keyed like `referentiel.mesures`: territoire, annee,
code_mesure, perimetre, cle), and for every row of the year's files — clean or rejected — the measures it feeds
(`marts.lignes_mesures`), from which a partner's feedback says what each of its rows changed. The attribution is
set-based SQL (rejets/champs.sql, then rejets/mesures_rejets.sql) over the clean staging rows and the quarantined
rows, both as JSON."""

import duckdb
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from assets.marts.reference_tables import sync_reference_tables
from assets.marts.sql import run_script
from core.common import code_version, normalise_header
from core.familles.family import Family
from core.logging import say
from core.marts import SQL_DIR
from core.partitions import annee_partitions
from core.portee import NATIONALE, Portee
from core.reprise import add_rows, digest_of, record, reusable, taken_from
from core.resources import BilanSettings
from core.warehouse import transaction

FOLDER = SQL_DIR / "rejets"
FIELDS_SCRIPT, FIELDS_TABLES = "champs.sql", ("_perimetres", "_cles", "_champs")
SCRIPT = "mesures_rejets.sql"
ETAPE = "marts/mesures_rejets"


def _existing(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                                      [schema]).fetchall()}


def rows_view(con: duckdb.DuckDBPyConnection, families: dict[str, Family], annee: int,
              portee: Portee = NATIONALE) -> None:
    """The temp view `_lignes`: the year's clean rows of every family's staging tables and its quarantined rows
    (of the scope's territories), each as its family, file, line and data as JSON."""
    staged = _existing(con, "staging")
    year = f"annee_boite = {int(annee)} AND {portee.predicate()}"
    parts = [f"SELECT territoire, '{f.name}' AS famille, '{t.name}' AS table_contrat, fichier, feuille, ligne, "
             f"false AS rejetee, to_json(s) AS donnees FROM staging.{t.name} s WHERE {year}"
             for f in families.values() for t in f.tables if t.name in staged]
    if "lignes" in _existing(con, "quarantine"):
        parts.append("SELECT territoire, famille, table_contrat, fichier, feuille, ligne, true AS rejetee, donnees "
                     f"FROM quarantine.lignes WHERE {year}")
    if not parts:
        parts.append("SELECT NULL::VARCHAR AS territoire, NULL::VARCHAR AS famille, NULL::VARCHAR AS table_contrat, "
                     "NULL::VARCHAR AS fichier, NULL::VARCHAR AS feuille, "
                     "NULL::INTEGER AS ligne, NULL::BOOLEAN AS rejetee, NULL::JSON AS donnees WHERE false")
    con.execute("CREATE OR REPLACE TEMP VIEW _lignes AS " + " UNION ALL BY NAME ".join(parts))


def compute_rejets(con: duckdb.DuckDBPyConnection, families: dict[str, Family], annee: int,
                   portee: Portee = NATIONALE) -> None:
    """Replace the year's rows (the scope's) of marts.lignes_mesures and marts.mesures_rejets (ref.mesures must be
    in sync)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    rows_view(con, families, annee, portee)
    # a rejected row's landlord gets the key staging gives a clean one: the same Python rule, called from SQL
    con.create_function("cle_normalisee", normalise_header, ["VARCHAR"], "VARCHAR")  # NULL in, NULL out
    try:
        # the rows' fields as temp tables first, outside the transaction (champs.sql says why)
        run_script(con, FIELDS_SCRIPT, annee, folder=FOLDER)
        with transaction(con):
            run_script(con, SCRIPT, annee, folder=FOLDER, portee=portee)
    finally:
        for table in FIELDS_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute("DROP VIEW IF EXISTS _lignes")
        con.remove_function("cle_normalisee")


def inputs_fingerprint(con: duckdb.DuckDBPyConnection, families: dict[str, Family], annee: int, code: str,
                       portee: Portee = NATIONALE) -> str:
    """The year's staged and quarantined rows of every family (the scope's) and the reference tables (in sync):
    all the attribution reads."""
    digest = digest_of(annee, code)
    staged = _existing(con, "staging")
    year = f"annee_boite = {int(annee)} AND {portee.predicate()}"
    sources = [(f"staging.{t.name}", f"SELECT * FROM staging.{t.name} WHERE {year}")
               for f in families.values() for t in f.tables if t.name in staged]
    if "lignes" in _existing(con, "quarantine"):
        sources.append(("quarantine.lignes", f"SELECT * FROM quarantine.lignes WHERE {year}"))
    sources += [(f"ref.{t}", f"SELECT * FROM ref.{t}") for t in sorted(_existing(con, "ref"))]
    add_rows(digest, con, sources)
    return digest.hexdigest()


def build_mesures_rejets_asset(families: dict[str, Family]):
    version = code_version(FOLDER / FIELDS_SCRIPT, FOLDER / SCRIPT, SQL_DIR / "sql.py", SQL_DIR / "rejets.py")

    @asset(
        key=AssetKey(["marts", "mesures_rejets"]),
        group_name="marts",
        partitions_def=annee_partitions,
        deps=[AssetKey(["staging", f]) for f in families],
        kinds={"duckdb", "sql"},
        owners=["team:evaluation"],
        code_version=version,
        description="Effet des lignes en quarantaine sur les mesures (marts.mesures_rejets) : pour chaque mesure, "
                    "périmètre et clé, le nombre de lignes rejetées qui l'auraient alimentée et, pour l'argent, leur "
                    "montant ; et, pour chaque ligne reçue (retenue ou rejetée), les mesures qu'elle alimente "
                    f"(marts.lignes_mesures). SQL : assets/marts/rejets/{FIELDS_SCRIPT} puis {SCRIPT}.",
    )
    def mesures_rejets(context: AssetExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
        annee = int(context.partition_key)
        portee = parametres.portee_du_run(context)
        with entrepot.get_connection() as con:
            sync_reference_tables(con, parametres.config, parametres.territoires(log=lambda m: say(context, m)))
            fingerprint = inputs_fingerprint(con, families, annee, version, portee)
            last = reusable(con, ETAPE, annee, fingerprint, portee)
            if last is None:
                compute_rejets(con, families, annee, portee)
                impact = con.execute("SELECT code_mesure, perimetre, cle, lignes_rejetees, montant_rejete "
                                     f"FROM marts.mesures_rejets WHERE annee = ? AND {portee.predicate()} "
                                     "ORDER BY code_mesure, perimetre, cle", [annee]).df()
                facts: dict = {"dagster/row_count": len(impact),
                         "apercu": impact.head(20).to_markdown(index=False) if len(impact) else "_aucune_"}
                record(con, ETAPE, annee, fingerprint, context.run_id,
                       {f"marts.{t}": f"SELECT count(*) FROM marts.{t} WHERE annee = {annee} AND {portee.predicate()}"
                        for t in ("mesures_rejets", "lignes_mesures")}, facts, portee)
            else:
                facts = last.metadonnees
        say(context, f"marts/mesures_rejets {annee} : {facts['dagster/row_count']} mesures touchées par des lignes "
                     "rejetées" + ("" if last is None else f" (repris du run {last.run_id}, mêmes lignes)"))
        return MaterializeResult(metadata={
            "dagster/row_count": facts["dagster/row_count"], "apercu": MetadataValue.md(facts["apercu"]),
            "calcul": "exécuté" if last is None else taken_from(last)})

    return mesures_rejets
