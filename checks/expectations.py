"""Great Expectations suites built from the registry's expectations (config/controles.yaml), run as Dagster
multi-asset checks: one per staging asset (the staging tables depend on each other: a check spanning them would
wait for the very assets it must block), one for the marts.

Each registry expectation is its own Dagster check, named as in the registry. Every spec is blocking so that what
reads the table waits for the suite (its warnings reach the bilan); only a `bloquant` failure that leaves no
territory to publish (severity ERROR) stops it — a territory's own failure holds back its own bilan
(checks/outcomes.py). Failing rows are told per territory (their `territoire` column). Data Docs are written
into `<sortie>/<annee>/data_docs/`, with every reference to an outside server removed so they open offline."""

import ast
import hashlib
import html
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import jinja2
import jinja2.bccache
import pandas as pd
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)
from dagster_duckdb import DuckDBResource
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.render.view.view import DefaultJinjaView

from checks.controles import Attente, Controle, Registre, template_fields
from checks.outcomes import check_result, per_territory, record
from core.common import code_version, write_atomic
from core.config.vocabulaire import Vocabulaire
from core.resources import BilanSettings

MAX_DETAIL = 20  # failing rows listed in a detail; the Data Docs have them all


class _CompiledTemplates(jinja2.BytecodeCache):
    """Each Data Docs view of GE makes its own Jinja environment and compiles GE's page templates again: half a second
    a site, most of a site's build. Their compiled code is kept for the process (checked against the template's
    source by Jinja, as with any bytecode cache)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATES = _CompiledTemplates()
_view_init = DefaultJinjaView.__init__


def _view_with_compiled_templates(self, *args, **kwargs) -> None:
    _view_init(self, *args, **kwargs)
    self.env.bytecode_cache = _TEMPLATES


DefaultJinjaView.__init__ = _view_with_compiled_templates  # type: ignore[method-assign]


@dataclass(frozen=True)
class Expect:
    controle: Controle
    kwargs: dict              # the GE kwargs for this year: domain value sets and $annee resolved

    @property
    def attente(self) -> Attente:
        return _attente(self.controle)


def _attente(c: Controle) -> Attente:
    if c.attente is None:  # the registry gives every check either SQL or an expectation
        raise ValueError(f"{c.nom} : contrôle SQL, pas une attente Great Expectations")
    return c.attente


@dataclass(frozen=True)
class Suite:
    table: str
    actif: str
    sql: str                  # the year's rows of the table
    expects: list[Expect]


def suites(vocabulaire: Vocabulaire, annee: int, registre: Registre) -> dict[str, Suite]:
    """table → its suite for the year, from the registry's expectations."""
    out: dict[str, Suite] = {}
    for c in registre.expectations():
        # in a fixed order: GE lists failing rows in the frame's order, and a table built by a parallel GROUP BY
        # comes out in another order at each run (the details, and so the bilan's content, would change with it)
        suite = out.setdefault(c.table, Suite(c.table, c.actif, f"SELECT * FROM {c.table} WHERE {c.year_column} = "
                                              f"{int(annee)} ORDER BY ALL", []))
        suite.expects.append(Expect(c, _attente(c).resolved_kwargs(vocabulaire, annee)))
    return out


_OUTSIDE = re.compile(r"""<(?:link|img)\b[^>]*(?:src|href)\s*=\s*["']https?://[^"']*["'][^>]*>""", re.IGNORECASE)
_SCRIPTS = re.compile(r"<script\b[^>]*>.*?</script>", re.IGNORECASE | re.DOTALL)
# GE's pages fill their tables (the index's list of validations among them) with jQuery and bootstrap-table,
# which only exist on CDNs (the great_expectations package ships its styles, images and fonts, not these
# scripts): the data each script would hand to bootstrap-table is written into its table as plain HTML instead.
_BOOTSTRAP_TABLE = re.compile(r"""\$\('#(?P<id>[\w-]+)'\)\.bootstrapTable\(\s*Object\.assign\(\s*\{\s*"""
                              r"""columns:\s*(?P<columns>\[.*?\]),\s*data:\s*(?P<data>\[.*?\]),\s*toolbar:""",
                              re.DOTALL)
_OFFLINE_CSS = ("<style>body{font-family:'DejaVu Sans',sans-serif;margin:1.5em;color:#1a1a1a}"
                "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px}"
                ".text-danger{color:#b34700}.text-success{color:#007a5a}"
                ".tab-pane{display:block!important;opacity:1!important}</style>")
# the words of GE's page frame a French reader meets first (the content of the results stays GE's)
_FRANCAIS = {">Validation Results<": ">Résultats des validations<", ">Expectation Suites<": ">Suites d'attentes<",
             "Data Docs autogenerated using": "Documentation des contrôles produite avec",
             ">Clear Filters<": "><", "<html>": '<html lang="fr">',
             "\n          Validation Results\n": "\n          Résultats des validations\n",
             "\n          Expectation Suites\n": "\n          Suites d'attentes\n"}


def _static_table(columns: list[dict], rows: list[dict]) -> str:
    """One bootstrap-table as plain HTML: its header and rows, each row a link where GE made it clickable."""
    head = "".join(f"<th>{html.escape(str(c.get('title', c.get('field', ''))))}</th>" for c in columns)
    body = []
    for row in rows:
        href = row.get("_table_row_link_path")  # what GE's rowAttributesLinks makes of a row: a click opens it
        cells = []
        for j, c in enumerate(columns):
            value = row.get(c.get("field"), "")
            text = value if isinstance(value, str) else html.escape(str(value))  # GE renders cells as HTML
            cells.append(f'<td><a href="{html.escape(href)}">{text}</a></td>' if href and j == 1
                         else f"<td>{text}</td>")  # the run time: the status cell is an icon
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"


def _fill_tables(text: str) -> str:
    for match in _BOOTSTRAP_TABLE.finditer(text):
        try:
            columns, rows = ast.literal_eval(match["columns"]), ast.literal_eval(match["data"])
        except (ValueError, SyntaxError):
            continue  # a table GE would fill differently stays empty rather than wrong
        filled = _static_table(columns, rows)
        table = re.compile(r'(<table\s+id="' + re.escape(match["id"]) + r'"[^>]*>)\s*(</table>)')
        text = table.sub(lambda m: m[1] + filled + m[2], text, count=1)  # noqa: B023  (used at once)
    return text


def make_offline(folder: Path) -> None:
    """GE's pages load Bootstrap and friends from CDNs: their tables are written out in HTML, the outside tags
    dropped, so the pages open with no network and still list the validations."""
    for page in folder.rglob("*.html"):
        text = _fill_tables(page.read_text(encoding="utf-8"))
        text = _SCRIPTS.sub("", _OUTSIDE.sub("", text))
        for english, french in _FRANCAIS.items():
            text = text.replace(english, french)
        text = text.replace("</head>", _OFFLINE_CSS + "</head>", 1)
        page.write_text(text, encoding="utf-8")


def run_suites(con: duckdb.DuckDBPyConnection, registre: Registre, vocabulaire: Vocabulaire, output_dir: Path,
               annee: int, level: str, asset_paths: list[str]) -> dict:
    """The suites of the given assets, with their own Data Docs site under data_docs/marts (the marts together)
    or data_docs/staging/<family> (one site per staging asset). → {"resultats": {check: ({territoire: (problems,
    detail)}, expectation)}, "index": the site's index page, "reutilise": whether the last results were reused};
    a territory with no failing row is not named.

    A site whose suites and rows are those of its last validation (same fingerprint) keeps its Data Docs and its
    results: nothing is validated or built again. Otherwise the site is built once, after all its suites ran."""
    site = level if level == "marts" else f"{level}/{asset_paths[0].split('/')[1]}"
    project = output_dir / str(annee) / ".great_expectations" / site
    docs = output_dir / str(annee) / "data_docs" / site
    chosen = {table: suite for table, suite in suites(vocabulaire, annee, registre).items()
              if suite.actif in asset_paths}
    frames = {table: con.execute(suite.sql).df() for table, suite in chosen.items()}
    fingerprint = _fingerprint(chosen, frames)
    last = docs / EMPREINTE
    if last.is_file() and (docs / "index.html").is_file():
        kept = json.loads(last.read_text(encoding="utf-8"))
        if kept.get("empreinte") == fingerprint:
            return {"resultats": {nom: ({t: (n, d) for t, (n, d) in problems.items()}, attente)
                                  for nom, (problems, attente) in kept["resultats"].items()},
                    "index": docs / "index.html", "reutilise": True}
    shutil.rmtree(project, ignore_errors=True)  # what a file context left there before (earlier versions)
    shutil.rmtree(docs, ignore_errors=True)
    # in memory: a file context reads its YAML again at each setting it looks up (≈ 500 reads a run); the
    # fingerprint above and the Data Docs below are what is kept between runs. No default site: ours is added below.
    # No progress bars: GE drew one per validation (« Calculating Metrics ») in the run's output
    context = gx.get_context(mode="ephemeral", project_config=DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False)))
    context.add_data_docs_site(site_name="bilan", site_config={  # type: ignore[typeddict-unknown-key]
        "class_name": "SiteBuilder", "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
    source = context.data_sources.add_pandas("entrepot")
    outcome: dict[str, tuple[dict[str, tuple[int, str]], str]] = {}
    for table, suite in chosen.items():
        frame = frames[table]
        batch = source.add_dataframe_asset(name=table).add_batch_definition_whole_dataframe(f"annee_{annee}")
        gx_suite = context.suites.add(gx.ExpectationSuite(name=table))
        for e in suite.expects:
            gx_suite.add_expectation(getattr(gxe, e.attente.type)(
                **e.kwargs, meta={"controle": e.controle.nom, "gravite": e.controle.gravite},
                notes=f"{e.controle.nom} ({e.controle.gravite}) : {e.controle.description}"))
        # the columns the detail templates name, so that a failing row can be told in the bilan
        # and its territory, so that each territory is told its own failing rows
        named = sorted(({"territoire", *(f for e in suite.expects for f in template_fields(e.attente.detail or ""))}
                        - {e.attente.column for e in suite.expects}) & set(frame.columns))
        present = sorted(frame["territoire"].dropna().unique()) if "territoire" in frame else []
        validation = context.validation_definitions.add(gx.ValidationDefinition(name=table, data=batch, suite=gx_suite))
        # the results are stored by the checkpoint; the site is built once below, not after each suite
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name=f"controle_{table}", validation_definitions=[validation], actions=[],
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": named}))
        result = checkpoint.run(batch_parameters={"dataframe": frame})
        by_name = {e.controle.nom: e for e in suite.expects}
        for run_result in result.run_results.values():
            for r in run_result.results:
                config = r.expectation_config
                if config is None:   # GE gives every result its expectation: nothing to attribute otherwise
                    continue
                e = by_name[config.meta["controle"]]
                outcome[e.controle.nom] = (_problems(e.controle, r, present), _describe(e))
    context.build_data_docs(site_names=["bilan"])
    make_offline(docs)
    write_atomic(last, json.dumps({"empreinte": fingerprint, "resultats": outcome}, ensure_ascii=False).encode())
    return {"resultats": outcome, "index": docs / "index.html", "reutilise": False}


EMPREINTE = "empreinte_validation.json"


def _fingerprint(chosen: dict[str, Suite], frames: dict[str, pd.DataFrame]) -> str:
    """What a site's validation depends on: GE's version, each suite as run this year, and every row it reads."""
    digest = hashlib.sha256(f"{gx.__version__}|{code_version(Path(__file__))}".encode())
    for table in sorted(chosen):
        suite, frame = chosen[table], frames[table]
        digest.update(json.dumps([table, suite.sql, [(e.controle.model_dump(mode="json"), e.kwargs)
                                                     for e in suite.expects]], sort_keys=True, default=str).encode())
        digest.update(",".join(map(str, frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _describe(e: Expect) -> str:
    shown = {k: v for k, v in e.kwargs.items() if k not in ("condition_parser",)}
    return f"{e.attente.type}({', '.join(f'{k}={v}' for k, v in shown.items())})"


def _problems(c: Controle, r, present: list[str]) -> dict[str, tuple[int, str]]:
    """territoire → how many failing rows (1 for a failing aggregate) and the detail that territory's bilan
    shows. A failure not told row by row (an aggregate, an expectation that raised) concerns every territory the
    table holds rows of."""
    raised = _raised(r.exception_info or {})
    if raised:
        return {t: (1, f"attente non évaluée : {raised}") for t in present}
    if r.success:
        return {}
    result = r.result or {}
    rows = result.get("unexpected_index_list")
    detail = _attente(c).detail
    if rows and isinstance(rows[0], dict) and "territoire" in rows[0]:
        by_territory: dict[str, list[dict]] = {}
        for row in rows:
            by_territory.setdefault(row["territoire"], []).append(row)
        return {t: _told(c, [detail.format(**row) if detail else str(row.get(_attente(c).column, row))
                             for row in failing[:MAX_DETAIL]], len(failing))
                for t, failing in by_territory.items()}
    if result.get("partial_unexpected_list") is not None:
        shown = [str(v) for v in result["partial_unexpected_list"][:MAX_DETAIL]]
    else:
        shown = [f"valeur observée {result.get('observed_value')}"]
    count = int(result.get("unexpected_count") or 1)
    return {t: _told(c, shown, count) for t in present}


def _told(c: Controle, shown: list[str], count: int) -> tuple[int, str]:
    more = f" ; … ({count - MAX_DETAIL} de plus, voir les Data Docs)" if count > MAX_DETAIL else ""
    return count, " ; ".join(shown) + more


def _raised(info: dict) -> str | None:
    """GE reports an exception either flat or per metric that raised it."""
    for item in [info, *(v for v in info.values() if isinstance(v, dict))]:
        if item.get("raised_exception"):
            return (str(item.get("exception_message") or "erreur").splitlines() or ["erreur"])[0]
    return None


# --- the Dagster checks ---------------------------------------------------------------------------


def build_ge_check(level: str, asset_paths: list[str], registre: Registre):
    """One multi-asset check over the given assets: one spec per registry expectation on them."""
    name = f"great_expectations_{level}" + ("" if level == "marts" else "_" + asset_paths[0].split("/")[1])
    site = "marts" if level == "marts" else f"staging/{asset_paths[0].split('/')[1]}"
    checks = [c for c in registre.expectations() if c.actif in asset_paths]

    @multi_asset_check(
        name=name,
        specs=[AssetCheckSpec(c.nom, asset=AssetKey(c.actif.split("/")), blocking=True,
                              description=f"{c.description} ({c.gravite} ; Great Expectations sur {c.table}, Data Docs "
                                          f"dans sortie/<annee>/data_docs/{site}/)")
               for c in checks],
        # a run that refreshes some marts only (`bilan run` after one family's files changed) selects their checks:
        # the whole site is still validated (its Data Docs stay whole), the selected checks are reported
        can_subset=True,
    )
    def _check(context: AssetCheckExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
        annee = int(context.partition_key)
        portee = parametres.portee_du_run(context)
        territoires = [t.code for t in parametres.territoires_du_run(context, log=context.log.info)]
        with entrepot.get_connection() as con:
            out = run_suites(con, registre, parametres.config.vocabulaire, parametres.output_dir, annee, level,
                             asset_paths)
            constats = {c.nom: per_territory(out["resultats"][c.nom][0], territoires) for c in checks}
            for actif in asset_paths:
                record(con, annee, actif, [(c.verification, constats[c.nom]) for c in checks if c.actif == actif],
                       context.run.run_id, registre.names(actif), portee)
        selected = context.selected_asset_check_keys
        for c in checks:
            if AssetCheckKey(AssetKey(c.actif.split("/")), c.nom) not in selected:
                continue
            yield check_result(c.verification, AssetKey(c.actif.split("/")), constats[c.nom], {
                "table": c.table, "attente": out["resultats"][c.nom][1],
                "data_docs": MetadataValue.path(str(out["index"])),
                "validation": "reprise de la précédente (mêmes suites, mêmes lignes)" if out["reutilise"]
                              else "exécutée"})

    return _check


def build_ge_checks(registre: Registre, asset_paths: set[str]) -> list:
    """The Great Expectations checks of a graph: one per staging asset the registry's expectations look at, one
    over the marts; only for the assets the graph has."""
    checked = sorted({c.actif for c in registre.expectations()} & asset_paths)
    marts = [p for p in checked if p.startswith("marts/")]
    return [*(build_ge_check("staging", [p], registre) for p in checked if p.startswith("staging/")),
            *([build_ge_check("marts", marts, registre)] if marts else [])]
