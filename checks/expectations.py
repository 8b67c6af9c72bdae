"""Great Expectations suites built from the registry's expectations (config/controles.yaml), run as Dagster
multi-asset checks: one per staging asset (the staging tables depend on each other: a check spanning them would
wait for the very assets it must block), one for the marts.

Each registry expectation is its own Dagster check, named as in the registry. Every spec is blocking so that what
reads the table waits for the suite (its warnings reach the bilan); only a `bloquant` failure that leaves no
territory to publish (severity ERROR) stops it — a territory's own failure holds back its own bilan
(checks/outcomes.py). Failing rows are told per territory (their `territoire` column). Data Docs are written
into `<sortie>/<annee>/data_docs/`, with every reference to an outside server removed so they open offline."""

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)
from dagster_duckdb import DuckDBResource
from great_expectations.checkpoint import UpdateDataDocsAction

from checks.outcomes import check_result, per_territory, record
from checks.registry import Attente, Controle, Registre, template_fields
from pipelines.config import Vocabulaire
from pipelines.resources import BilanSettings

MAX_DETAIL = 20  # failing rows listed in a detail; the Data Docs have them all


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
        suite = out.setdefault(c.table, Suite(c.table, c.actif, f"SELECT * FROM {c.table} WHERE {c.year_column} = "
                                              f"{int(annee)}", []))
        suite.expects.append(Expect(c, _attente(c).resolved_kwargs(vocabulaire, annee)))
    return out


_OUTSIDE = re.compile(r"""<(?:link|img)\b[^>]*(?:src|href)\s*=\s*["']https?://[^"']*["'][^>]*>""", re.IGNORECASE)
# the pages' scripts need jQuery and Bootstrap from CDNs; without them they only raise errors: the tables they
# would decorate are plain HTML already
_SCRIPTS = re.compile(r"<script\b[^>]*>.*?</script>", re.IGNORECASE | re.DOTALL)
_OFFLINE_CSS = ("<style>body{font-family:'DejaVu Sans',sans-serif;margin:1.5em;color:#1a1a1a}"
                "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px}"
                ".text-danger{color:#b34700}.text-success{color:#007a5a}</style>")


def make_offline(folder: Path) -> None:
    """GE's pages load Bootstrap and friends from CDNs: drop those tags so the pages open with no network."""
    for page in folder.rglob("*.html"):
        text = _SCRIPTS.sub("", _OUTSIDE.sub("", page.read_text(encoding="utf-8")))
        text = text.replace("</head>", _OFFLINE_CSS + "</head>", 1)
        page.write_text(text, encoding="utf-8")


def run_suites(con: duckdb.DuckDBPyConnection, registre: Registre, vocabulaire: Vocabulaire, output_dir: Path,
               annee: int, level: str, asset_paths: list[str]) -> dict:
    """The suites of the given assets, with their own Data Docs site under data_docs/marts (the marts together)
    or data_docs/staging/<family> (one site per staging asset). → {"resultats": {check: ({territoire: (problems,
    detail)}, expectation)}, "index": the site's index page}; a territory with no failing row is not named."""
    site = level if level == "marts" else f"{level}/{asset_paths[0].split('/')[1]}"
    project = output_dir / str(annee) / ".great_expectations" / site
    docs = output_dir / str(annee) / "data_docs" / site
    shutil.rmtree(project, ignore_errors=True)
    shutil.rmtree(docs, ignore_errors=True)
    context = gx.get_context(mode="file", project_root_dir=str(project))
    for name in list(getattr(context.get_config(), "data_docs_sites", None) or {}):
        context.delete_data_docs_site(name)
    context.add_data_docs_site(site_name="bilan", site_config={  # type: ignore[typeddict-unknown-key]
        "class_name": "SiteBuilder", "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
    source = context.data_sources.add_pandas("entrepot")
    outcome: dict[str, tuple[dict[str, tuple[int, str]], str]] = {}
    for table, suite in suites(vocabulaire, annee, registre).items():
        if suite.actif not in asset_paths:
            continue
        frame = con.execute(suite.sql).df()
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
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name=f"controle_{table}", validation_definitions=[validation],
            actions=[UpdateDataDocsAction(name="data_docs", site_names=["bilan"])],
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
    make_offline(docs)
    return {"resultats": outcome, "index": docs / "index.html"}


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
    )
    def _check(context: AssetCheckExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
        annee = int(context.partition_key)
        territoires = [t.code for t in parametres.territoires(log=context.log.info)]
        with entrepot.get_connection() as con:
            out = run_suites(con, registre, parametres.config.vocabulaire, parametres.output_dir, annee, level,
                             asset_paths)
            constats = {c.nom: per_territory(out["resultats"][c.nom][0], territoires) for c in checks}
            for actif in asset_paths:
                record(con, annee, actif, [(c.verification, constats[c.nom]) for c in checks if c.actif == actif],
                       context.run.run_id, registre.names(actif))
        for c in checks:
            yield check_result(c.verification, AssetKey(c.actif.split("/")), constats[c.nom], {
                "table": c.table, "attente": out["resultats"][c.nom][1],
                "data_docs": MetadataValue.path(str(out["index"]))})

    return _check


def build_ge_checks(registre: Registre, asset_paths: set[str]) -> list:
    """The Great Expectations checks of a graph: one per staging asset the registry's expectations look at, one
    over the marts; only for the assets the graph has."""
    checked = sorted({c.actif for c in registre.expectations()} & asset_paths)
    marts = [p for p in checked if p.startswith("marts/")]
    return [*(build_ge_check("staging", [p], registre) for p in checked if p.startswith("staging/")),
            *([build_ge_check("marts", marts, registre)] if marts else [])]
