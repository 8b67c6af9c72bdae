"""The inbox sensor: a file dropped or changed starts the run of its year — once the file has stopped changing,
and never twice for the same set of files."""

from __future__ import annotations

import hashlib
import json
import time

from dagster import RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from assets.sources import inbox_files
from core.config_check import ERREUR, check_configuration
from core.partitions import annee_partitions
from core.resources import BilanSettings
from pipelines.jobs import bilan_annuel


def scan(parametres: BilanSettings, cursor: dict, now: float) -> tuple[list[RunRequest], dict, list[str]]:
    """Pure function of the inbox, the previous cursor and the clock, so tests drive it tick by tick."""
    stability = parametres.config.settings.planification.stabilite_fichier_s
    seen_before = cursor.get("vus", {})
    requested = cursor.get("demandes", {})
    seen: dict[str, list[int]] = {}
    waiting: list[str] = []
    by_year: dict[str, list[tuple]] = {}
    for annee in annee_partitions.get_partition_keys():
        for territoire in parametres.config.territoires:
            for path in inbox_files(parametres.data_root, territoire, int(annee)):
                stat = path.stat()
                state = [stat.st_size, stat.st_mtime_ns]
                key = str(path)
                seen[key] = state
                settled = seen_before.get(key) == state and now - stat.st_mtime >= stability
                if not settled:
                    waiting.append(f"{territoire}/{annee}/{path.name}")
                by_year.setdefault(annee, []).append((path, settled))
    requests = []
    for annee, files in sorted(by_year.items()):
        if not all(settled for _, settled in files):
            continue  # a file still being written: wait for the whole year's set to settle
        digest = hashlib.sha256()
        for path, _ in sorted(files):
            digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        fingerprint = digest.hexdigest()
        if requested.get(annee) == fingerprint:
            continue
        requested[annee] = fingerprint
        requests.append(RunRequest(partition_key=annee, run_key=f"boite-{annee}-{fingerprint[:16]}",
                                   tags={"bilan/declencheur": "boite_de_depot"}))
    return requests, {"vus": seen, "demandes": requested}, waiting


@sensor(job=bilan_annuel, minimum_interval_seconds=60,
        description="Surveille inbox/<territoire>/<annee>/ : quand un fichier arrive ou change et n'a plus bougé "
                    "depuis `stabilite_fichier_s` secondes, lance le run de son année ; un même ensemble de "
                    "fichiers ne déclenche jamais deux runs.")
def boite_de_depot(context: SensorEvaluationContext, parametres: BilanSettings):
    cursor = json.loads(context.cursor) if context.cursor else {}
    requests, new_cursor, waiting = scan(parametres, cursor, time.time())
    if requests:
        # the checks of `bilan config verifier` first: a configuration contradicting the national references
        # launches nothing (the cursor is kept, the files are asked for again once it is corrected)
        errors = [f for f in check_configuration(parametres.config)[0] if f.gravite == ERREUR]
        if errors:
            return SkipReason(f"configuration en contradiction avec les références nationales ({len(errors)} "
                              f"erreur(s), `bilan config verifier`) : {errors[0]}")
        return SensorResult(run_requests=requests, cursor=json.dumps(new_cursor))
    reason = (f"en attente de fichiers stables : {', '.join(waiting[:5])}" if waiting
              else "aucun fichier nouveau ou modifié")
    return SensorResult(skip_reason=SkipReason(reason), cursor=json.dumps(new_cursor))
