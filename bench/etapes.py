"""The Dagster runs of an instance, with each step's time: what `make bench` reads after a `bilan run` it measured as
a user types it (the command prints no step times).

    python bench/etapes.py DAGSTER_HOME  → JSON on stdout: {run_id: {job, annee, territoires, statut, secondes,
                                                                      etapes: {step_key: secondes}}}
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline import step_times


def main() -> int:
    from dagster import DagsterInstance, RunsFilter

    instance = DagsterInstance.from_config(sys.argv[1])
    out = {}
    for record in instance.get_run_records(RunsFilter()):
        run = record.dagster_run
        out[run.run_id] = {"job": run.job_name, "annee": run.tags.get("dagster/partition"),
                           "territoires": run.tags.get("bilan/territoires", ""), "statut": run.status.value,
                           "secondes": (record.end_time or 0) - (record.start_time or 0),
                           "etapes": step_times(instance, run.run_id)}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
