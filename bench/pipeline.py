"""One measured pipeline run, as `bilan run --annee` does it but with any config folder: earlier inbox years first
(everything but the bilan), then the year asked. Writes a JSON report: wall time, import time, each step's time
(from the Dagster run's STEP_START / STEP_SUCCESS events) and whether it succeeded.

    python bench/pipeline.py --donnees D --sortie S --config C --annee 2025 --rapport out.json
        [--sans-bilan] [--seulement marts] [--processus N]

`--processus N`: the year's bilans as `bilan run --processus N` renders them, on Dagster's multiprocess executor (job
`bilans_en_parallele`, N render batches at once), after the data steps in-process.
`--seulement marts` materialises only the marts assets (their checks come with them) on a warehouse where staging
is already done: what the pipeline spends on marts, beside the bare SQL of bench/marts_sql.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

DEBUT = time.perf_counter()

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def step_times(instance, run_id: str) -> dict[str, float]:
    debuts, durees = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            debuts[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in debuts:
            durees[event.step_key] = durees.get(event.step_key, 0.0) + entry.timestamp - debuts[event.step_key]
    return durees


def _rendered(warehouse, run_ids: list[str]) -> list[str]:
    """The territories whose bilan these runs rendered (the ledger records a bilan when it is rendered)."""
    import duckdb

    if not run_ids or not Path(warehouse).is_file():
        return []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'publication' "
                           "AND table_name = 'bilans_publies'").fetchone()[0]:
            return []
        return [t for (t,) in con.execute("SELECT DISTINCT territoire FROM publication.bilans_publies "
                                          "WHERE run_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY 1",
                                          [run_ids]).fetchall()]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--donnees", required=True)
    parser.add_argument("--sortie", required=True)
    parser.add_argument("--config", default=str(ROOT / "config"))
    parser.add_argument("--annee", type=int, default=2025)
    parser.add_argument("--rapport", required=True)
    parser.add_argument("--sans-bilan", action="store_true")
    parser.add_argument("--seulement", choices=["marts"])
    parser.add_argument("--processus", type=int, default=1)
    parser.add_argument("--territoire", action="append", help="run limité à ce territoire (bilan/territoires)")
    args = parser.parse_args()
    # what the step processes of the multiprocess executor build their resources from (core/resources.py)
    os.environ.update(BILAN_DONNEES=str(Path(args.donnees).resolve()), BILAN_SORTIE=str(Path(args.sortie).resolve()),
                      BILAN_CONFIG=str(Path(args.config).resolve()))

    from dagster import DagsterInstance, materialize

    from core.portee import parse
    from core.resources import BilanSettings, warehouse
    from core.verrou import verrou_entrepot
    from pipelines.cli import run_bilans
    from pipelines.definitions import ALL_ASSETS, ALL_CHECKS

    import_s = time.perf_counter() - DEBUT
    parametres = BilanSettings(racine_donnees=str(Path(args.donnees).resolve()),
                               sortie=str(Path(args.sortie).resolve()),
                               dossier_config=str(Path(args.config).resolve()))
    entrepot = warehouse(parametres.warehouse_path)
    portee = parse(args.territoire, parametres.config.territoires)
    configured = parametres.config.settings.annees
    inbox = parametres.data_root / "inbox"
    earlier = sorted({int(p.name) for p in inbox.glob("*/*") if p.is_dir() and p.name.isdigit()
                      and int(p.name) < args.annee and int(p.name) in configured})
    instance = DagsterInstance.get()
    cles = [k for a in ALL_ASSETS for k in a.keys]
    sans_bilan = [k for k in cles if k.path[0] != "bilan"]
    runs = []
    succes = True
    annees = [args.annee] if args.seulement else [*earlier, args.annee]
    parallel = args.processus > 1 and not args.sans_bilan and not args.seulement
    for annee in annees:
        if args.seulement == "marts":
            selection = [k for k in cles if k.path[0] == "marts"]
        elif annee != args.annee or args.sans_bilan or parallel:
            selection = sans_bilan
        else:
            selection = None
        t0 = time.perf_counter()
        # held across the year's runs, as `bilan run` does: the bilans' step processes work under it
        with verrou_entrepot(parametres.warehouse_path, 0):
            results = [materialize([*ALL_ASSETS, *ALL_CHECKS], partition_key=str(annee), instance=instance,
                                   selection=selection, resources={"parametres": parametres, "entrepot": entrepot},
                                   run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
                                   raise_on_error=False, tags=portee.tags())]
            if annee == args.annee and parallel and results[0].success:
                results.append(run_bilans(parametres, entrepot, annee, args.processus, instance, portee))
        duree = time.perf_counter() - t0
        echecs = [e.step_key for r in results for e in r.all_events if e.is_step_failure]
        for r in results:
            for event in r.all_events:
                if event.is_step_failure:
                    print(event.step_failure_data.error.to_string(), file=sys.stderr)
        ok = all(r.success for r in results)
        etapes: dict[str, float] = {}
        for r in results:
            etapes.update(step_times(instance, r.run_id))
        runs.append({"annee": annee, "secondes": duree, "succes": ok, "echecs": echecs, "etapes": etapes,
                     "processus": args.processus if annee == args.annee and parallel else 1,
                     "run_ids": [r.run_id for r in results]})
        succes &= ok
        if not ok:
            break
    rapport = {"succes": succes, "import_s": import_s, "total_s": time.perf_counter() - DEBUT, "runs": runs,
               "bilans_rendus": _rendered(parametres.warehouse_path,
                                          [r for run in runs for r in run.get("run_ids", [])])}
    Path(args.rapport).write_text(json.dumps(rapport, indent=1), encoding="utf-8")
    return 0 if succes else 1


if __name__ == "__main__":
    sys.exit(main())
