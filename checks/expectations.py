"""Great Expectations suites over the staging tables and marts of a year, run as one Dagster multi-asset check.

Each expectation has a severity: `erreur` fails the asset's check as blocking (the bilan is not published on it),
`avertissement` is reported and shown in the bilan. Data Docs are written into `<sortie>/<annee>/data_docs/`,
with every reference to an outside server removed so they open offline."""


import datetime as dt
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
from dagster import (AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey,
                     MetadataValue, multi_asset_check)
from dagster_duckdb import DuckDBResource

from pipelines.resources import BilanSettings

ERREUR, AVERTISSEMENT = "erreur", "avertissement"


@dataclass(frozen=True)
class Expect:
    kind: str          # the GE expectation class name
    kwargs: dict
    severity: str = ERREUR


def suites(con: duckdb.DuckDBPyConnection, annee: int) -> dict[str, tuple[str, str, list[Expect]]]:
    """table → (asset key path, SQL of the year's rows, expectations). Totals are read from staging at run time."""
    staging_total = con.execute("SELECT coalesce(sum(montant_accorde), 0) FROM staging.programmation WHERE annee = ?",
                                [annee]).fetchone()[0]
    abatement = con.execute("SELECT coalesce(sum(montant_abattement), 0) FROM staging.tfpb_patrimoine WHERE annee = ?",
                            [annee]).fetchone()[0]
    y = int(annee)
    return {
        "staging.programmation": ("staging/programmation", f"SELECT * FROM staging.programmation WHERE annee_boite = {y}", [
            Expect("ExpectCompoundColumnsToBeUnique", {"column_list": ["territoire", "numero_dossier", "financeur"]}),
            Expect("ExpectColumnValuesToBeInSet", {"column": "nature_credit", "value_set": ["specifique", "droit_commun"]}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "montant_accorde", "min_value": 0}),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "code_objectif"}),
        ]),
        "staging.engagements": ("staging/engagements", f"SELECT * FROM staging.engagements WHERE annee_boite = {y}", [
            Expect("ExpectColumnValuesToBeInSet", {"column": "unite", "value_set": ["nombre", "pourcentage", "euros"]}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "valeur_realisee", "min_value": 0}),
        ]),
        "staging.tfpb_patrimoine": ("staging/tfpb", f"SELECT * FROM staging.tfpb_patrimoine WHERE annee_boite = {y}", [
            Expect("ExpectCompoundColumnsToBeUnique", {"column_list": ["territoire", "bailleur", "code_qpv"]}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "nb_logements", "min_value": 1}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "montant_abattement", "min_value": 0}),
        ]),
        "staging.indicateurs": ("staging/indicateurs", f"SELECT * FROM staging.indicateurs WHERE annee_boite = {y}", [
            Expect("ExpectColumnValuesToBeBetween", {"column": "valeur", "min_value": 0, "max_value": 100,
                                                     "row_condition": 'unite=="pourcentage"',
                                                     "condition_parser": "pandas"}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "millesime", "min_value": 2000, "max_value": y}),
        ]),
        "staging.cohortes": ("staging/cohortes", f"SELECT * FROM staging.cohortes WHERE annee_boite = {y}", [
            # every identifier is a pseudonym: a porteur's own identifier never reaches this table
            Expect("ExpectColumnValuesToMatchRegex", {"column": "identifiant_beneficiaire", "regex": r"^P[0-9a-f]{20}$"}),
            Expect("ExpectColumnValuesToBeInSet", {"column": "jalon",
                                                   "value_set": ["entree", "6_mois", "12_mois", "24_mois", "sortie"]}),
        ]),
        "marts.programmation": ("marts/programmation", f"SELECT * FROM marts.programmation WHERE annee = {y}", [
            Expect("ExpectColumnSumToBeBetween", {"column": "montant_accorde", "min_value": float(staging_total) - 0.01,
                                                  "max_value": float(staging_total) + 0.01}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "part_qpv", "min_value": 0, "max_value": 1}),
        ]),
        "marts.tfpb": ("marts/tfpb", f"SELECT * FROM marts.tfpb WHERE annee = {y}", [
            Expect("ExpectColumnSumToBeBetween", {"column": "montant_abattement", "min_value": float(abatement) - 0.01,
                                                  "max_value": float(abatement) + 0.01}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "taux_couverture", "min_value": 100}, AVERTISSEMENT),
        ]),
        "marts.indicateurs": ("marts/indicateurs", f"SELECT * FROM marts.indicateurs WHERE annee = {y}", [
            Expect("ExpectColumnValuesToBeBetween", {"column": "evolution", "min_value": -10, "max_value": 10,
                                                     "row_condition": 'unite=="pourcentage"',
                                                     "condition_parser": "pandas"}, AVERTISSEMENT),
        ]),
        "marts.engagements": ("marts/engagements", f"SELECT * FROM marts.engagements WHERE annee = {y}", [
            Expect("ExpectColumnValuesToBeBetween", {"column": "taux_realisation", "min_value": 50, "max_value": 150},
                   AVERTISSEMENT),
        ]),
    }


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


def run_suites(con: duckdb.DuckDBPyConnection, output_dir: Path, annee: int, level: str,
               asset_paths: list[str] | None = None) -> dict:
    """The suites of the given assets (default: a whole level), with their own Data Docs site under
    data_docs/<level> (the marts together) or data_docs/staging/<family> (one site per staging table)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.checkpoint import UpdateDataDocsAction

    site = level if asset_paths is None or level == "marts" else f"{level}/{asset_paths[0].split('/')[1]}"
    project = output_dir / str(annee) / ".great_expectations" / site
    docs = output_dir / str(annee) / "data_docs" / site
    shutil.rmtree(project, ignore_errors=True)
    shutil.rmtree(docs, ignore_errors=True)
    context = gx.get_context(mode="file", project_root_dir=str(project))
    for site in list(context.get_config().data_docs_sites or {}):
        context.delete_data_docs_site(site)
    context.add_data_docs_site(site_name="bilan", site_config={
        "class_name": "SiteBuilder", "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
    source = context.data_sources.add_pandas("entrepot")
    outcome: dict[str, dict] = {}
    for table, (asset_path, sql, expectations) in suites(con, annee).items():
        if not table.startswith(level + ".") or (asset_paths is not None and asset_path not in asset_paths):
            continue
        frame = con.execute(sql).df()
        batch = source.add_dataframe_asset(name=table).add_batch_definition_whole_dataframe(f"annee_{annee}")
        suite = context.suites.add(gx.ExpectationSuite(name=table))
        for e in expectations:
            suite.add_expectation(getattr(gxe, e.kind)(**e.kwargs, meta={"gravite": e.severity}))
        validation = context.validation_definitions.add(gx.ValidationDefinition(name=table, data=batch, suite=suite))
        checkpoint = context.checkpoints.add(gx.Checkpoint(name=f"controle_{table}", validation_definitions=[validation],
                                                           actions=[UpdateDataDocsAction(name="data_docs",
                                                                                         site_names=["bilan"])]))
        result = checkpoint.run(batch_parameters={"dataframe": frame})
        failures = []
        for run_result in result.run_results.values():
            for r in run_result.results:
                if not r.success:
                    failures.append((r.expectation_config.meta.get("gravite", ERREUR), r.expectation_config.type,
                                     r.expectation_config.kwargs.get("column") or
                                     ", ".join(r.expectation_config.kwargs.get("column_list", []))))
        entry = outcome.setdefault(asset_path, {"tables": [], "erreurs": [], "avertissements": []})
        entry["tables"].append(table)
        entry["erreurs"] += [f"{table} · {t} · {c}" for g, t, c in failures if g == ERREUR]
        entry["avertissements"] += [f"{table} · {t} · {c}" for g, t, c in failures if g != ERREUR]
    make_offline(docs)
    return {"resultats": outcome, "index": docs / "index.html"}


def record_warnings(con: duckdb.DuckDBPyConnection, outcome: dict, annee: int, run_id: str) -> None:
    from checks.marts import CONTROLES_DDL

    con.execute(CONTROLES_DDL)
    for asset_path in outcome:
        con.execute("DELETE FROM staging.controles WHERE annee = ? AND actif = ? AND controle = 'great_expectations'",
                    [annee, asset_path])
    for asset_path, entry in outcome.items():
        for level, items in (("erreur", entry["erreurs"]), ("avertissement", entry["avertissements"])):
            if items:
                con.execute("INSERT INTO staging.controles VALUES (?, ?, 'great_expectations', ?, false, ?, ?, ?, ?, ?)",
                            [annee, asset_path, level == "erreur", len(items),
                             "Attentes Great Expectations non satisfaites (voir les Data Docs de l'année)",
                             " ; ".join(items), dt.datetime.now(), run_id])


# --- the Dagster check ----------------------------------------------------------------------------



CHECKED = {"staging": ["staging/programmation", "staging/engagements", "staging/tfpb", "staging/indicateurs",
                       "staging/cohortes"],
           "marts": ["marts/programmation", "marts/tfpb", "marts/indicateurs", "marts/engagements"]}


def build_ge_check(level: str, asset_paths: list[str]):
    """Blocking checks: nothing downstream runs on a table failing an `erreur` expectation. Staging tables get
    one check each (they depend on each other through the cross-family rules: a check spanning them would wait
    for the very assets it must block); the marts share one."""

    name = f"great_expectations_{level}" + ("" if level == "marts" else "_" + asset_paths[0].split("/")[1])

    @multi_asset_check(
        name=name,
        specs=[AssetCheckSpec("great_expectations", asset=AssetKey(p.split("/")), blocking=True,
                              description="Suite Great Expectations de la table (clés, valeurs, bornes, totaux égaux "
                                          "au staging, sauts entre millésimes) ; Data Docs dans "
                                          f"sortie/<annee>/data_docs/{level}/.")
               for p in asset_paths],
    )
    def _check(context: AssetCheckExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
        annee = int(context.partition_key)
        with entrepot.get_connection() as con:
            out = run_suites(con, parametres.output_dir, annee, level, asset_paths)
            record_warnings(con, out["resultats"], annee, context.run.run_id)
        for asset_path in asset_paths:
            entry = out["resultats"].get(asset_path, {"tables": [], "erreurs": [], "avertissements": []})
            yield AssetCheckResult(
                check_name="great_expectations", asset_key=AssetKey(asset_path.split("/")),
                passed=not entry["erreurs"] and not entry["avertissements"],
                severity=AssetCheckSeverity.ERROR if entry["erreurs"] else AssetCheckSeverity.WARN,
                metadata={"tables": ", ".join(entry["tables"]), "erreurs": MetadataValue.md(
                    "\n".join(f"- {e}" for e in entry["erreurs"]) or "aucune"),
                    "avertissements": MetadataValue.md(
                        "\n".join(f"- {e}" for e in entry["avertissements"]) or "aucun"),
                    "data_docs": MetadataValue.path(str(out["index"]))})

    return _check


GE_CHECKS = [*(build_ge_check("staging", [p]) for p in CHECKED["staging"]), build_ge_check("marts", CHECKED["marts"])]
