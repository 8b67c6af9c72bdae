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

from assets.marts.catalog import Mart
from assets.publication.instantane import open_snapshot, write_snapshot
from checks.outcomes import blocking_failures
from pipelines.common import code_version, folder_to_publish, slug
from pipelines.logging import say
from pipelines.partitions import annee_partitions
from pipelines.resources import BilanSettings
from pipelines.warehouse import insert_frame
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
"""


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


def render_territory(con, parametres: BilanSettings, territoire, annee: int, run_id: str, log,
                     last: str | None) -> dict:
    """One territory's bilan from `con` (a snapshot of the published tables), unless its content fingerprint is
    `last`, the one last published, and its files are there. Returns what the ledger records."""
    started = time.perf_counter()
    data = load_bilan_data(con, parametres.config, territoire, annee, run_id)
    fingerprint = content_fingerprint(data, REPORT_VERSION)
    published = parametres.output_dir / str(annee) / territoire.code
    stem = f"bilan_{territoire.code}_{annee}"
    names = {"html": f"{stem}.html", "pdf": f"{stem}.pdf", "xlsx": f"{stem}_annexe.xlsx"}
    paths = {kind: published / name for kind, name in names.items() if kind != "pdf" or parametres.pdf}
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
    copil = next((c.date.strftime("%d/%m/%Y") for c in territoire.copil if c.annee_bilan == annee), None)
    contours = reference.commune_features(list(communes)) if reference is not None else None
    context = build_context(data, features, communes, copil, contours or None)
    hosts = sorted({c for q in territoire.qpv for c in q.communes})
    with folder_to_publish(published) as folder:
        # the PDFs print in the background while the annex and the commune bilans are built
        pdfs: dict[Path, Future[bytes]] = {}
        html = render_html(context)
        (folder / names["html"]).write_bytes(html.encode("utf-8"))
        if parametres.pdf:
            pdfs[folder / names["pdf"]] = submit_pdf(html)
        (folder / "communes").mkdir()
        for code in hosts:
            pages = [p for p, q in zip(context["qpv_pages"], territoire.qpv) if code in q.communes]
            qpv_codes = [q.code for q in territoire.qpv if code in q.communes]
            commune_html = render_html({**context, "qpv_pages": pages,
                                        **commune_context(data, communes.get(code, code), qpv_codes)},
                                       "commune.html.j2")
            name = f"{stem}_{slug(communes.get(code, code))}"
            (folder / "communes" / f"{name}.html").write_bytes(commune_html.encode("utf-8"))
            if parametres.pdf:
                pdfs[folder / "communes" / f"{name}.pdf"] = submit_pdf(commune_html)
        (folder / names["xlsx"]).write_bytes(render_xlsx(data))
        for path, printed in pdfs.items():
            path.write_bytes(printed.result())
    log(f"bilan {territoire.code} {annee} : {paths['html'].name}, PDF, annexe et {len(hosts)} bilans communaux "
        f"({time.perf_counter() - started:.1f} s)")
    return {**outcome, "communes": len(hosts), "rendu": True, "publie_le": dt.datetime.now().isoformat()}


# --- the asset: a snapshot, render batches (fanned out on Dagster's executor), the ledger ------------------------


def instantane_et_lots(context: OpExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
    """Writes the snapshot the render batches read, holds back the territories failing a blocking check, and cuts
    the others into batches (`rendu.territoires_par_lot`), each with the fingerprint last published."""
    annee = int(context.partition_key)
    held: dict[str, list] = {}
    to_render: list[tuple[str, str | None]] = []
    with entrepot.get_connection() as con:
        snapshot = write_snapshot(con, parametres.snapshot_dir, annee)
        for territoire in parametres.territoires(log=lambda m: say(context, m)):
            # a territory whose data fail a blocking check is held back alone: the others publish
            failures = blocking_failures(con, territoire.code, annee)
            if failures:
                held[territoire.code] = [list(f) for f in failures]
                say(context, f"bilan {territoire.code} {annee} : non publié, contrôle(s) bloquant(s) en échec : "
                             + " ; ".join(f"{c} ({m.rstrip('.')}{' : ' + d if d else ''})" for c, m, d in failures))
                continue
            to_render.append((territoire.code, last_fingerprint(con, territoire.code, annee)))
    rendu = parametres.config.settings.rendu
    count = max(math.ceil(len(to_render) / rendu.territoires_par_lot), min(rendu.lots_minimum, len(to_render)), 1)
    # as even as can be, in the configured order
    batches = [to_render[i * len(to_render) // count:(i + 1) * len(to_render) // count] for i in range(count)]
    say(context, f"bilan {annee} : {len(to_render)} territoire(s) à publier en {len(batches)} lot(s), "
                 f"instantané {snapshot}")
    yield Output(held, "retenus")
    for i, batch in enumerate(batches, start=1):
        yield DynamicOutput({"instantane": str(snapshot), "territoires": [list(t) for t in batch]},
                           output_name="lots", mapping_key=f"lot_{i:03d}")


@op
def rendre_lot(context: OpExecutionContext, parametres: BilanSettings, lot: dict) -> list:
    """A batch of territories rendered from the snapshot, in this step's process: no warehouse is opened, one
    Chromium prints the batch's PDFs."""
    annee = int(context.partition_key)
    last = dict(tuple(t) for t in lot["territoires"])
    if not last:
        return []
    territoires = {t.code: t for t in parametres.config.territoires.values()}
    con = open_snapshot(Path(lot["instantane"]), list(last))
    try:
        with (printer() if parametres.pdf else nullcontext()):
            return [render_territory(con, parametres, territoires[code], annee, context.run_id,
                                     lambda m: say(context, m), last[code]) for code in last]
    finally:
        con.close()


@op(out=Out(Nothing))
def publier_bilans(context: OpExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource,
                   retenus: dict, rendus: list) -> None:
    """The ledger: each bilan rendered is recorded with its content fingerprint (`publication.bilans_publies`,
    what the delivery and the next run compare with)."""
    annee = int(context.partition_key)
    outputs = {o["territoire"]: o for batch in rendus for o in batch}
    if retenus and not outputs:
        raise Failure(description=f"Aucun bilan {annee} publié : chaque territoire a un contrôle bloquant en "
                                  "échec (" + " ; ".join(f"{t} : {', '.join(c for c, _, _ in f)}"
                                                         for t, f in retenus.items()) + ").")
    with entrepot.get_connection() as con:
        con.execute(PUBLISHED_DDL)
        rows = [[o["territoire"], annee, o["empreinte"], REPORT_VERSION, o["dossier"],
                 dt.datetime.fromisoformat(o["publie_le"]), context.run_id] for o in outputs.values() if o["rendu"]]
        if rows:
            # one insert of the frame (a statement per row took ≈ 1 ms each: half a second at national scale)
            insert_frame(con, "publication.bilans_publies", pd.DataFrame(rows, columns=[
                "territoire", "annee", "empreinte_contenu", "version_rapport", "dossier", "publie_le", "run_id"]))
    metadata: dict[str, str | MetadataValue] = {
        f"{code}/statut": "non publié : contrôle(s) bloquant(s) en échec — " + ", ".join(c for c, _, _ in f)
        for code, f in retenus.items()}
    for code, out in sorted(outputs.items()):
        metadata[f"{code}/statut"] = "publié"
        for kind, path in out["paths"].items():
            metadata[f"{code}/{kind}"] = MetadataValue.path(path)
        metadata[f"{code}/familles_absentes"] = ", ".join(out["missing"]) or "aucune"
        metadata[f"{code}/empreinte_contenu"] = out["empreinte"]
        metadata[f"{code}/rendu"] = "nouveau rendu" if out["rendu"] else "inchangé, non rendu à nouveau"
    metadata["lots_rendus"] = MetadataValue.int(len(rendus))
    context.add_output_metadata(metadata)


def build_bilan_asset(marts: tuple[Mart, ...]):
    """The bilan, downstream of every mart of the graph: a snapshot of the published tables, one render step per
    batch of territories (side by side on the multiprocess executor), and the ledger."""
    upstream = [AssetKey(["referentiel", "referentiel"]), AssetKey(["publication", "tableaux"]),
                AssetKey(["staging", "rapport_qualite"]), AssetKey(["marts", "mesures_rejets"]),
                *(AssetKey(["marts", m.name]) for m in marts)]
    names = [key.to_python_identifier() for key in upstream]

    # the first step waits for every upstream asset: one input each (a graph input cannot fan in to one)
    first = op(name="instantane_et_lots", ins={n: In(Nothing) for n in names},
               out={"lots": DynamicOut(dict), "retenus": Out(dict)})(instantane_et_lots)

    def compose(**after):
        batches, held = first(**after)
        return publier_bilans(held, batches.map(rendre_lot).collect())

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
