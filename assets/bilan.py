"""The bilan for the COPIL: for each territory, a self-contained HTML, its PDF, an XLSX annex, and a short bilan
per commune hosting a QPV — in `<sortie>/<annee>/<territoire>/`, published as one set.

A graph-backed asset: its first step writes a Parquet snapshot of the published tables and cuts the territories
into batches; each batch is a step of its own (a dynamic output), which reads the snapshot, never the warehouse, so
that on Dagster's multiprocess executor (or celery, or Kubernetes) the batches render side by side with no writer
lock to share; the last step records what was published.

A bilan is identified by what it is made of: the rows it shows and the version of the report's code and templates
(its content fingerprint, `publication.bilans_publies`). A territory whose fingerprint did not change is not
rendered again, and the delivery to the COPIL sends each content once. A territory failing a blocking check
(`staging.controles`, per territory) is not published; the other territories are."""

import dataclasses
import datetime as dt
import hashlib
import inspect
import json
import math
import time
from concurrent.futures import Future
from contextlib import nullcontext
from pathlib import Path

import pandas as pd
from dagster import (
    AssetIn,
    AssetKey,
    DynamicOut,
    DynamicOutput,
    Failure,
    In,
    MetadataValue,
    Nothing,
    OpExecutionContext,
    Out,
    Output,
    graph_asset,
    op,
)
from dagster_duckdb import DuckDBResource

from assets.publication.instantane import LEDGERS, NOT_READ_BY_BILANS, open_snapshot, write_snapshot
from checks.outcomes import blocking_failures
from core.common import code_version, folder_to_publish, slug
from core.config.bilan import CONFIG_TEMPLATES
from core.logging import say
from core.marts import Mart
from core.partitions import annee_partitions
from core.portee import NATIONALE, Portee
from core.resources import BilanSettings
from core.warehouse import insert_frame, table_exists
from reports.data import load_bilan_data
from reports.render import build_context, commune_context, printer, render_html, render_xlsx, start_printer, submit_pdf


def _features(reference, territoire) -> list[dict] | None:
    if reference is None:
        return None
    return [{"type": "Feature", "geometry": reference.qpv[q.code].geometry,
             "properties": {"code": q.code, "nom": q.nom}} for q in territoire.qpv if q.code in reference.qpv]


REPORT_VERSION = code_version(Path(__file__), *(p for p in (Path(__file__).parent.parent / "reports").rglob("*")
                                                 if p.suffix in (".py", ".j2", ".css")))
# what changes with every run but not with the content
_RUN_FIELDS = {"run_id", "genere_le"}
_RUN_COLUMNS = ["run_id", "lu_depuis", "evalue_le"]

PUBLISHED_DDL = """
CREATE SCHEMA IF NOT EXISTS publication;
CREATE TABLE IF NOT EXISTS publication.bilans_publies (
    territoire VARCHAR, annee INTEGER, empreinte_contenu VARCHAR, version_rapport VARCHAR, dossier VARCHAR,
    publie_le TIMESTAMP, run_id VARCHAR);
CREATE TABLE IF NOT EXISTS publication.bilans_montres (
    territoire VARCHAR, annee INTEGER, empreinte_contenu VARCHAR, publie_le TIMESTAMP, nature VARCHAR,
    code VARCHAR, libelle VARCHAR, unite VARCHAR, valeur DOUBLE, statut VARCHAR, seuil DOUBLE,
    annee_donnees INTEGER);
"""
# what a published bilan showed, recorded when it was published: what the next year's bilan compares with (« Ce qui a
# changé depuis le COPIL du … », reports/sections/depuis_copil.py) — its referential and its partners' commitments
SHOWN = "bilans_montres"
SHOWN_SQL = {
    "referentiel": f"""INSERT INTO publication.{SHOWN}
        SELECT territoire, annee, $empreinte, $publie_le, 'indicateur', code_indicateur, libelle, unite, valeur,
               statut, seuil_significativite, annee_donnees
        FROM publication.referentiel WHERE territoire = $territoire AND annee = $annee""",
    "engagements": f"""INSERT INTO publication.{SHOWN}
        SELECT territoire, annee, $empreinte, $publie_le, 'engagement', partenaire || ' — ' || indicateur, engagement,
               unite, valeur_realisee, CASE WHEN valeur_realisee IS NULL THEN 'non renseigné' ELSE 'renseigné' END,
               NULL, annee
        FROM publication.engagements WHERE territoire = $territoire AND annee = $annee AND perimetre = 'territoire'""",
}


def content_fingerprint(data, report_version: str) -> str:
    """SHA-256 of every row and value a bilan shows (run id and date aside) and of the report's code version."""
    digest = hashlib.sha256(report_version.encode())
    for field in dataclasses.fields(data):
        if field.name in _RUN_FIELDS:
            continue
        value = getattr(data, field.name)
        digest.update(field.name.encode() + b"\0")
        if isinstance(value, pd.DataFrame):
            digest.update(_frame_digest(value))
        elif isinstance(value, dict) and value and all(isinstance(v, pd.DataFrame) for v in value.values()):
            for name in sorted(value):
                digest.update(name.encode() + b"\0" + _frame_digest(value[name]))
        elif hasattr(value, "model_dump_json"):
            digest.update(value.model_dump_json().encode())
        else:
            digest.update(json.dumps(value, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _frame_digest(frame: pd.DataFrame) -> bytes:
    """Independent of row order and of floating-point noise: sums that DuckDB adds up in another order differ in
    the last bits (772 899.9999999991 and 772 900), so numbers count to 12 significant digits."""
    frame = frame.drop(columns=[c for c in _RUN_COLUMNS if c in frame.columns])
    frame = frame.map(lambda v: f"{v:.12g}" if isinstance(v, float) else v).astype(str)
    rows = sorted(pd.util.hash_pandas_object(frame, index=False).tolist())
    return hashlib.sha256(",".join(frame.columns).encode() + str(rows).encode()).digest()


def last_fingerprint(con, territoire: str, annee: int) -> str | None:
    con.execute(PUBLISHED_DDL)
    row = con.execute("SELECT empreinte_contenu FROM publication.bilans_publies WHERE territoire = ? AND annee = ? "
                      "ORDER BY publie_le DESC LIMIT 1", [territoire, annee]).fetchall()
    return row[0][0] if row else None


def bilan_paths(parametres: BilanSettings, territoire: str, annee: int) -> dict[str, Path]:
    """Where a territory's bilan is published: HTML, PDF (when the deployment prints them) and XLSX annex."""
    published = parametres.output_dir / str(annee) / territoire
    stem = f"bilan_{territoire}_{annee}"
    names = {"html": f"{stem}.html", "pdf": f"{stem}.pdf", "xlsx": f"{stem}_annexe.xlsx"}
    return {kind: published / name for kind, name in names.items() if kind != "pdf" or parametres.pdf}


# --- what a bilan is made from, before any render: its territory's published rows --------------------------------

INPUTS_DDL = """
CREATE SCHEMA IF NOT EXISTS journal;
CREATE TABLE IF NOT EXISTS journal.bilans_entrees (
    territoire VARCHAR, annee INTEGER, empreinte_entrees VARCHAR, empreinte_contenu VARCHAR, run_id VARCHAR,
    tables VARCHAR);
ALTER TABLE journal.bilans_entrees ADD COLUMN IF NOT EXISTS tables VARCHAR;
"""
_CONFIGURATION = "configuration"


def inputs_by_table(con, parametres: BilanSettings, annee: int,
                    portee: Portee = NATIONALE) -> dict[str, dict[str, str]]:
    """Per territory (of the scope), what its bilan is made from, part by part: every row of every published table
    and view of its territory (all years; run ids and dates aside) as one grouped hash per table, and the
    configuration with the report's code version. Set-based: one query per table."""
    base = f"{REPORT_VERSION}|{annee}|{parametres.config.identity()}"
    columns: dict[str, list[str]] = {}
    for table, column in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'publication' "
            "ORDER BY table_name, ordinal_position").fetchall():
        if table not in LEDGERS | NOT_READ_BY_BILANS:
            columns.setdefault(table, []).append(column)
    # what a bilan showed is an input of the later years' bilans, not of its own (recorded after it is rendered)
    earlier = {SHOWN: f" AND annee < {int(annee)}"}
    parts: dict[str, dict[str, str]] = {}
    for table, names in columns.items():
        if "territoire" not in names:
            continue
        kept = ", ".join(f'"{c}"' for c in names if c not in _RUN_COLUMNS)
        for territoire, count, total in con.execute(
                f"SELECT territoire, count(*), sum(hash(row({kept}))) FROM publication.{table} "
                f"WHERE {portee.predicate()}{earlier.get(table, '')} GROUP BY territoire").fetchall():
            parts.setdefault(territoire, {_CONFIGURATION: hashlib.sha256(base.encode()).hexdigest()[:16]})[
                table] = f"{count}|{total}"
    return parts


def fingerprint_of(parts: dict[str, str]) -> str:
    """The same inputs give the same bilan; different inputs may still give it (a sum's last bits), which the
    render step's content fingerprint then sees."""
    return hashlib.sha256("\n".join(f"{k}|{v}" for k, v in sorted(parts.items())).encode()).hexdigest()


def unchanged_since_published(con, parametres: BilanSettings, annee: int, fingerprints: dict[str, str]) -> set[str]:
    """The territories whose bilan was last published from these very inputs and whose files are all there."""
    con.execute(PUBLISHED_DDL)
    con.execute(INPUTS_DDL)
    rows = con.execute(
        "SELECT e.territoire, e.empreinte_entrees FROM journal.bilans_entrees e "
        "JOIN (SELECT territoire, arg_max(empreinte_contenu, publie_le) AS empreinte_contenu "
        "      FROM publication.bilans_publies WHERE annee = ? GROUP BY territoire) p "
        "  ON p.territoire = e.territoire AND p.empreinte_contenu = e.empreinte_contenu "
        "WHERE e.annee = ?", [annee, annee]).fetchall()
    return {t for t, fingerprint in rows if fingerprints.get(t) == fingerprint
            and all(p.is_file() for p in bilan_paths(parametres, t, annee).values())}


def changed_since_recorded(con, annee: int, by_table: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    """Per territory looked at before, the parts of its inputs (tables, configuration) that differ from those its
    bilan was last made from: what the log gives as the reason a bilan is rendered again."""
    con.execute(INPUTS_DDL)
    changed = {}
    for territoire, recorded in con.execute("SELECT territoire, tables FROM journal.bilans_entrees "
                                            "WHERE annee = ? AND tables IS NOT NULL", [annee]).fetchall():
        before, now = json.loads(recorded), by_table.get(territoire, {})
        differ = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
        if differ:
            changed[territoire] = differ
    return changed


def territories_to_render(con, parametres: BilanSettings, annee: int,
                          portee: Portee = NATIONALE) -> dict[str, list[str]]:
    """The configured territories (of the scope) whose bilan the year's published tables may change, each with the
    parts of its inputs that changed (none known: never rendered, or its files are missing). A launcher with nothing
    to render runs the bilan step in its own process rather than start render processes for nothing."""
    by_table = inputs_by_table(con, parametres, annee, portee)
    unchanged = unchanged_since_published(con, parametres, annee, {t: fingerprint_of(p) for t, p in by_table.items()})
    changed = changed_since_recorded(con, annee, by_table)
    return {t.code: changed.get(t.code, []) for t in parametres.config.territoires.values()
            if t.code not in unchanged and portee.keeps(t.code)}


def record_inputs(con, annee: int, outcomes: dict[str, dict], by_table: dict[str, dict[str, str]],
                  run_id: str) -> None:
    """Which inputs gave which content, for each bilan a render step looked at (rendered again or not)."""
    con.execute(INPUTS_DDL)
    rows = [[code, annee, fingerprint_of(by_table[code]), out["empreinte"], run_id,
             json.dumps(by_table[code], sort_keys=True)] for code, out in outcomes.items() if code in by_table]
    if rows:
        con.execute("DELETE FROM journal.bilans_entrees WHERE annee = ? AND territoire IN "
                    "(SELECT unnest(?::VARCHAR[]))", [annee, [r[0] for r in rows]])
        insert_frame(con, "journal.bilans_entrees", pd.DataFrame(rows, columns=[
            "territoire", "annee", "empreinte_entrees", "empreinte_contenu", "run_id", "tables"]))


def render_territory(con, parametres: BilanSettings, territoire, annee: int, run_id: str, log,
                     last: str | None) -> dict:
    """One territory's bilan from `con` (a snapshot of the published tables), unless its content fingerprint is
    `last`, the one last published, and its files are there. Returns what the ledger records."""
    started = time.perf_counter()
    data = load_bilan_data(con, parametres.config, territoire, annee, run_id, parametres.data_root)
    config = parametres.config
    # a section template of the config folder (config/gabarits/) is part of the report's code
    templates = sorted(p for p in (config.dir / CONFIG_TEMPLATES).glob("*.j2"))
    fingerprint = content_fingerprint(data, REPORT_VERSION + (code_version(*templates) if templates else ""))
    paths = bilan_paths(parametres, territoire.code, annee)
    published = paths["html"].parent
    stem = f"bilan_{territoire.code}_{annee}"
    names = {kind: path.name for kind, path in paths.items()}
    names.setdefault("pdf", f"{stem}.pdf")
    missing = [f for f, ok in data.families_present.items() if not ok]
    outcome = {"territoire": territoire.code, "paths": {k: str(v) for k, v in paths.items()}, "missing": missing,
               "empreinte": fingerprint, "dossier": str(published)}
    if last == fingerprint and all(p.is_file() for p in paths.values()):
        log(f"bilan {territoire.code} {annee} : contenu inchangé depuis la dernière publication, rien à refaire")
        return {**outcome, "communes": None, "rendu": False}
    if parametres.pdf:
        start_printer()
    reference = parametres.reference()
    features = _features(reference, territoire)
    communes = {c.code_insee: c.nom for c in territoire.communes}
    copil = next((c.date for c in territoire.copil if c.annee_bilan == annee), None)
    contours = reference.commune_features(list(communes)) if reference is not None else None
    context = build_context(data, features, communes, copil, contours or None)
    section_templates = tuple(config.section_templates)
    hosts = territoire.communes_avec_qpv
    with folder_to_publish(published) as folder:
        # the PDFs print in the background while the annex and the commune bilans are built
        pdfs: dict[Path, Future[bytes]] = {}
        html = render_html(context, section_templates=section_templates)
        (folder / names["html"]).write_bytes(html.encode("utf-8"))
        if parametres.pdf:
            pdfs[folder / names["pdf"]] = submit_pdf(html)
        (folder / "communes").mkdir()
        for code in hosts:
            qpv_codes = [q.code for q in territoire.qpv if code in q.communes]
            commune_html = render_html(commune_context(data, context, communes.get(code, code), qpv_codes),
                                       "commune.html.j2", section_templates)
            name = f"{stem}_{slug(communes.get(code, code))}"
            (folder / "communes" / f"{name}.html").write_bytes(commune_html.encode("utf-8"))
            if parametres.pdf:
                pdfs[folder / "communes" / f"{name}.pdf"] = submit_pdf(commune_html)
        (folder / names["xlsx"]).write_bytes(render_xlsx(data))
        # a contribution given as a PDF is annexed beside the bilan, which links to it
        for c in data.contributions:
            if c["pdf"] and not c["manquant"]:
                (folder / "contributions").mkdir(exist_ok=True)
                (folder / "contributions" / c["fichier"]).write_bytes(Path(c["chemin"]).read_bytes())
        for path, printed in pdfs.items():
            path.write_bytes(printed.result())
    log(f"bilan {territoire.code} {annee} : {paths['html'].name}{', PDF' if parametres.pdf else ''}, annexe et "
        f"{len(hosts)} bilans communaux ({time.perf_counter() - started:.1f} s)")
    return {**outcome, "communes": len(hosts), "rendu": True, "publie_le": dt.datetime.now().isoformat()}


# --- the asset: a snapshot, render batches (fanned out on Dagster's executor), the ledger ------------------------


def snapshot_and_batches(context: OpExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
    """Writes the snapshot the render batches read, holds back the territories failing a blocking check, leaves
    aside those whose bilan was last published from the same inputs, and cuts the others into batches
    (`rendu.territoires_par_lot`), each with the fingerprint last published."""
    annee = int(context.partition_key)
    portee = parametres.portee_du_run(context)
    held: dict[str, list] = {}
    to_render: list[tuple[str, str | None]] = []
    with entrepot.get_connection() as con:
        by_table = inputs_by_table(con, parametres, annee, portee)
        fingerprints = {t: fingerprint_of(p) for t, p in by_table.items()}
        unchanged = unchanged_since_published(con, parametres, annee, fingerprints)
        changed = changed_since_recorded(con, annee, by_table)
        snapshot = write_snapshot(con, parametres.snapshot_dir, annee)
        for territoire in parametres.territoires_du_run(context, log=lambda m: say(context, m)):
            # a territory whose data fail a blocking check is held back alone: the others publish
            failures = blocking_failures(con, territoire.code, annee)
            if failures:
                held[territoire.code] = [list(f) for f in failures]
                say(context, f"bilan {territoire.code} {annee} : non publié, contrôle(s) bloquant(s) en échec : "
                             + " ; ".join(f"{c} ({m.rstrip('.')}{' : ' + d if d else ''})" for c, m, d in failures))
                continue
            if territoire.code not in unchanged:
                to_render.append((territoire.code, last_fingerprint(con, territoire.code, annee)))
                if changed.get(territoire.code):
                    say(context, f"bilan {territoire.code} {annee} : à revoir, entrées changées depuis le dernier "
                                 f"rendu : {', '.join(changed[territoire.code])}")
    rendu = parametres.config.settings.rendu
    count = (max(math.ceil(len(to_render) / rendu.territoires_par_lot), min(rendu.lots_minimum, len(to_render)))
             if to_render else 0)
    # as even as can be, in the configured order
    batches = [to_render[i * len(to_render) // count:(i + 1) * len(to_render) // count] for i in range(count)]
    kept = sorted(set(fingerprints) & unchanged - set(held))
    say(context, f"bilan {annee} ({portee.label()}) : {len(to_render)} territoire(s) à rendre en "
                 f"{len(batches)} lot(s), {len(kept)} publié(s) des mêmes entrées et laissé(s) tel(s) quel(s), "
                 f"instantané {snapshot}")
    yield Output(held, "held")
    yield Output({"by_table": by_table, "unchanged": kept}, "inputs")
    # one empty batch when there is nothing to render: Dagster skips the collecting step of a fan-out that never
    # fired, and the ledger must still record what was looked at (or say why nothing was published)
    for key, batch in ({f"batch_{i:03d}": b for i, b in enumerate(batches, start=1)} or {"none": []}).items():
        yield DynamicOutput({"snapshot": str(snapshot), "territoires": [list(t) for t in batch]},
                           output_name="batches", mapping_key=key)


@op
def render_batch(context: OpExecutionContext, parametres: BilanSettings, batch: dict) -> list:
    """A batch of territories rendered from the snapshot, in this step's process: no warehouse is opened, one
    Chromium prints the batch's PDFs."""
    annee = int(context.partition_key)
    last = dict(tuple(t) for t in batch["territoires"])
    if not last:
        return []
    territoires = {t.code: t for t in parametres.config.territoires.values()}
    con = open_snapshot(Path(batch["snapshot"]), list(last), parametres.config.settings.entrepot.duckdb())
    try:
        with (printer() if parametres.pdf else nullcontext()):
            return [render_territory(con, parametres, territoires[code], annee, context.run_id,
                                     lambda m: say(context, m), last[code]) for code in last]
    finally:
        con.close()


@op(out=Out(Nothing))
def record_bilans(context: OpExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource,
                  held: dict, inputs: dict, rendered: list) -> None:
    """The ledger: each bilan rendered is recorded with its content fingerprint (`publication.bilans_publies`,
    what the delivery and the next run compare with), and each bilan a batch looked at with the inputs it was made
    from (`journal.bilans_entrees`)."""
    annee = int(context.partition_key)
    outputs = {o["territoire"]: o for batch in rendered for o in batch}
    if held and not outputs and not inputs["unchanged"]:
        raise Failure(description=f"Aucun bilan {annee} publié : chaque territoire a un contrôle bloquant en "
                                  "échec (" + " ; ".join(f"{t} : {', '.join(c for c, _, _ in f)}"
                                                         for t, f in held.items()) + ").")
    with entrepot.get_connection() as con:
        con.execute(PUBLISHED_DDL)
        rows = [[o["territoire"], annee, o["empreinte"], REPORT_VERSION, o["dossier"],
                 dt.datetime.fromisoformat(o["publie_le"]), context.run_id] for o in outputs.values() if o["rendu"]]
        if rows:
            # one insert of the frame (a statement per row took ≈ 1 ms each: half a second at national scale)
            insert_frame(con, "publication.bilans_publies", pd.DataFrame(rows, columns=[
                "territoire", "annee", "empreinte_contenu", "version_rapport", "dossier", "publie_le", "run_id"]))
            for territoire, _, empreinte, _, _, publie_le, _ in rows:
                con.execute(f"DELETE FROM publication.{SHOWN} WHERE territoire = ? AND annee = ? AND "
                            "empreinte_contenu = ?", [territoire, annee, empreinte])
                for table, sql in SHOWN_SQL.items():
                    if table_exists(con, "publication", table):
                        con.execute(sql, {"territoire": territoire, "annee": annee, "empreinte": empreinte,
                                          "publie_le": publie_le})
        record_inputs(con, annee, outputs, inputs["by_table"], context.run_id)
        for code in inputs["unchanged"]:
            paths = bilan_paths(parametres, code, annee)
            outputs[code] = {"territoire": code, "paths": {k: str(v) for k, v in paths.items()}, "missing": None,
                             "empreinte": last_fingerprint(con, code, annee), "rendu": False}
    metadata: dict[str, str | MetadataValue] = {
        f"{code}/statut": "non publié : contrôle(s) bloquant(s) en échec — " + ", ".join(c for c, _, _ in f)
        for code, f in held.items()}
    for code, out in sorted(outputs.items()):
        metadata[f"{code}/statut"] = "publié"
        for kind, path in out["paths"].items():
            metadata[f"{code}/{kind}"] = MetadataValue.path(path)
        if out["missing"] is not None:
            metadata[f"{code}/familles_absentes"] = ", ".join(out["missing"]) or "aucune"
        metadata[f"{code}/empreinte_contenu"] = out["empreinte"]
        metadata[f"{code}/rendu"] = ("nouveau rendu" if out["rendu"] else
                                     "inchangé, non rendu à nouveau" if out["missing"] is not None else
                                     "inchangé (mêmes entrées que sa dernière publication), non rendu à nouveau")
    metadata["lots_rendus"] = MetadataValue.int(sum(1 for batch in rendered if batch))
    context.add_output_metadata(metadata)


def build_bilan_asset(marts: tuple[Mart, ...]):
    """The bilan, downstream of every mart of the graph: a snapshot of the published tables, one render step per
    batch of territories (side by side on the multiprocess executor), and the ledger."""
    upstream = [AssetKey(["referentiel", "referentiel"]), AssetKey(["publication", "tableaux"]),
                AssetKey(["staging", "rapport_qualite"]), AssetKey(["marts", "mesures_rejets"]),
                *(AssetKey(["marts", m.name]) for m in marts)]
    names = [key.to_python_identifier() for key in upstream]

    # the first step waits for every upstream asset: one input each (a graph input cannot fan in to one)
    first = op(name="snapshot_and_batches", ins={n: In(Nothing) for n in names},
               out={"batches": DynamicOut(dict), "held": Out(dict), "inputs": Out(dict)})(snapshot_and_batches)

    def compose(**after):
        batches, held, inputs = first(**after)
        return record_bilans(held, inputs, batches.map(render_batch).collect())

    # one input per upstream asset, named after it (the graph's inputs are read from the signature)
    compose.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in names])
    return graph_asset(
        key=AssetKey(["bilan", "bilan"]),
        ins={n: AssetIn(key=k, dagster_type=Nothing) for n, k in zip(names, upstream)},
        group_name="bilan",
        partitions_def=annee_partitions,
        kinds={"html", "pdf", "xlsx"},
        owners=["team:evaluation"],
        # the report's code and templates: a new template renders the bilan again even when no figure changed
        code_version=REPORT_VERSION,
        description="Le bilan annuel pour le COPIL, par territoire : HTML autonome (graphiques SVG intégrés, aucune "
                    "ressource réseau), PDF A4 (sommaire, en-têtes, numéros de page), annexe XLSX avec toutes les "
                    "tables et les codes de mesure, et un bilan court par commune accueillant un QPV. Synthèse, "
                    "référentiel, programmation, droit commun, TFPB, indicateurs, cohortes (secret appliqué), une page "
                    "par QPV, qualité des données, méthode et sources (SHA-256 de chaque fichier). Rendu par lots de "
                    "territoires depuis un instantané Parquet des tables publiées : avec l'exécuteur multiprocessus, "
                    "les lots sont rendus côte à côte, sans ouvrir l'entrepôt.",
    )(compose)
