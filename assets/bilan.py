"""The bilan for the COPIL: for each territory, a self-contained HTML, its PDF, an XLSX annex, and a short bilan
per commune hosting a QPV — in `<sortie>/<annee>/<territoire>/`, written atomically."""

import time
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from assets.marts.assets import MARTS
from pipelines.common import write_atomic
from pipelines.logging import say
from pipelines.partitions import annee_partitions
from pipelines.resources import BilanSettings
from reports.data import load_bilan_data
from pipelines.common import code_version, slug
from reports.render import build_context, render_html, render_pdf, render_xlsx


def _features(reference, territoire) -> list[dict] | None:
    if reference is None:
        return None
    return [{"type": "Feature", "geometry": reference.qpv[q.code].geometry,
             "properties": {"code": q.code, "nom": q.nom}} for q in territoire.qpv if q.code in reference.qpv]


def render_territory(con, parametres: BilanSettings, territoire, annee: int, run_id: str, log) -> dict:
    started = time.perf_counter()
    data = load_bilan_data(con, parametres.config, territoire, annee, run_id)
    features = _features(parametres.reference(), territoire)
    communes = {c.code_insee: c.nom for c in territoire.communes}
    copil = next((c.date.strftime("%d/%m/%Y") for c in territoire.copil if c.annee_bilan == annee), None)
    context = build_context(data, features, communes, copil)
    folder = parametres.output_dir / str(annee) / territoire.code
    stem = f"bilan_{territoire.code}_{annee}"
    html = render_html(context)
    paths = {"html": folder / f"{stem}.html", "pdf": folder / f"{stem}.pdf", "xlsx": folder / f"{stem}_annexe.xlsx"}
    write_atomic(paths["html"], html.encode("utf-8"), mode=0o644)
    write_atomic(paths["pdf"], render_pdf(html), mode=0o644)
    write_atomic(paths["xlsx"], render_xlsx(data), mode=0o644)
    hosts = sorted({c for q in territoire.qpv for c in q.communes})
    for code in hosts:
        pages = [p for p, q in zip(context["qpv_pages"], territoire.qpv) if code in q.communes]
        commune_html = render_html({**context, "commune": communes.get(code, code), "qpv_pages": pages},
                                   "commune.html.j2")
        name = f"{stem}_{slug(communes.get(code, code))}"
        write_atomic(folder / "communes" / f"{name}.html", commune_html.encode("utf-8"), mode=0o644)
        write_atomic(folder / "communes" / f"{name}.pdf", render_pdf(commune_html), mode=0o644)
    log(f"bilan {territoire.code} {annee} : {paths['html'].name}, PDF, annexe et {len(hosts)} bilans communaux "
        f"({time.perf_counter() - started:.1f} s)")
    return {"paths": paths, "communes": len(hosts), "missing": [f for f, ok in data.families_present.items() if not ok]}


@asset(
    key=AssetKey(["bilan", "bilan"]),
    group_name="bilan",
    partitions_def=annee_partitions,
    deps=[AssetKey(["referentiel", "referentiel"]), AssetKey(["publication", "cohortes"]),
          AssetKey(["staging", "rapport_qualite"]), *(AssetKey(["marts", m.name]) for m in MARTS)],
    kinds={"html", "pdf", "xlsx"},
    owners=["team:evaluation"],
    # the report's code and templates: a new template renders the bilan again even when no figure changed
    code_version=code_version(Path(__file__), *(p for p in (Path(__file__).parent.parent / "reports").rglob("*")
                                                 if p.suffix in (".py", ".j2", ".css"))),
    description="Le bilan annuel pour le COPIL, par territoire : HTML autonome (graphiques SVG intégrés, aucune "
                "ressource réseau), PDF A4 (sommaire, en-têtes, numéros de page), annexe XLSX avec toutes les tables "
                "et les codes de mesure, et un bilan court par commune accueillant un QPV. Synthèse, référentiel, "
                "programmation, droit commun, TFPB, indicateurs, cohortes (secret appliqué), une page par QPV, "
                "qualité des données, méthode et sources (SHA-256 de chaque fichier).",
)
def bilan(context: AssetExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
    annee = int(context.partition_key)
    outputs = {}
    with entrepot.get_connection() as con:
        for territoire in parametres.territoires(log=lambda m: say(context, m)):
            outputs[territoire.code] = render_territory(con, parametres, territoire, annee, context.run_id,
                                                        lambda m: say(context, m))
    metadata = {}
    for code, out in outputs.items():
        for kind, path in out["paths"].items():
            metadata[f"{code}/{kind}"] = MetadataValue.path(str(path))
        metadata[f"{code}/familles_absentes"] = ", ".join(out["missing"]) or "aucune"
    return MaterializeResult(metadata=metadata)
