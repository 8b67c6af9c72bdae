"""The inbox sensor: a file dropped or changed starts the run of its year and territory — once the file has
stopped changing, and never twice for the same set of files."""

from __future__ import annotations

import hashlib
import json
import time

from dagster import RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from assets.sources import inbox_files
from core.config_check import ERREUR, check_configuration
from core.partitions import annee_partitions
from core.portee import NATIONALE, parse
from core.resources import BilanSettings
from pipelines.jobs import bilan_annuel


def scan(parametres: BilanSettings, cursor: dict, now: float) -> tuple[list[RunRequest], dict, list[str]]:
    """Pure function of the inbox, the previous cursor and the clock, so tests drive it tick by tick. A year's run
    is asked for the territories whose set of files changed, once their files have settled: scoped to them
    (run tag `bilan/territoires`), or over every territory when all of them changed."""
    stability = parametres.config.settings.planification.stabilite_fichier_s
    seen_before = cursor.get("vus", {})
    # cursors written before scoped runs kept one fingerprint per year: those years are asked for once, nationally
    requested = {annee: dict(d) for annee, d in cursor.get("demandes", {}).items() if isinstance(d, dict)}
    seen: dict[str, list[int]] = {}
    waiting: list[str] = []
    territoires = list(parametres.config.territoires)
    requests = []
    for annee in annee_partitions.get_partition_keys():
        fingerprints: dict[str, str] = {}
        known = requested.setdefault(annee, {})
        for territoire in territoires:
            files, settled = [], True
            for path in inbox_files(parametres.data_root, territoire, int(annee)):
                stat = path.stat()
                state = [stat.st_size, stat.st_mtime_ns]
                seen[str(path)] = state
                if not (seen_before.get(str(path)) == state and now - stat.st_mtime >= stability):
                    waiting.append(f"{territoire}/{annee}/{path.name}")
                    settled = False
                files.append(path)
            if not settled:
                continue  # a file still being written: wait for the territory's whole set to settle
            if not files and territoire not in known:
                continue  # nothing ever deposited (an inbox emptied since its last run is a change)
            digest = hashlib.sha256()
            for path in sorted(files):
                digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
            fingerprints[territoire] = digest.hexdigest()
        changed = sorted(t for t, f in fingerprints.items() if known.get(t) != f)
        if not changed:
            continue
        known.update({t: fingerprints[t] for t in changed})
        portee = NATIONALE if len(changed) == len(territoires) else parse(changed)
        key = hashlib.sha256("|".join(f"{t}:{fingerprints[t]}" for t in changed).encode()).hexdigest()[:16]
        requests.append(RunRequest(partition_key=annee, run_key=f"boite-{annee}-{portee.key}-{key}",
                                   tags={"bilan/declencheur": "boite_de_depot", **portee.tags()}))
    return requests, {"vus": seen, "demandes": {a: d for a, d in requested.items() if d}}, waiting


@sensor(job=bilan_annuel, minimum_interval_seconds=60,
        description="Surveille inbox/<territoire>/<annee>/ : quand un fichier arrive ou change et n'a plus bougé "
                    "depuis `stabilite_fichier_s` secondes, lance le run de son année limité à son territoire "
                    "(étiquette bilan/territoires ; tous les territoires quand tous ont changé) ; un même ensemble "
                    "de fichiers ne déclenche jamais deux runs.")
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
