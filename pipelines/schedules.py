"""When the bilan runs by itself: once a year, and before each COPIL of each territory (configured dates)."""

from __future__ import annotations

import datetime as dt

from dagster import RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from core.config.projet import ProjectConfig
from core.partitions import annee_partitions
from core.resources import BilanSettings
from pipelines.jobs import bilan_annuel


def copil_run_requests(config: ProjectConfig, today: dt.date) -> list[RunRequest]:
    """Runs due today: `jours_avant_copil` days before a COPIL, and again the day before it."""
    before = config.settings.planification.jours_avant_copil
    due: dict[int, list[str]] = {}
    for territoire in config.territoires.values():
        for copil in territoire.copil:
            for offset, moment in ((before, "preparation"), (1, "veille")):
                if copil.date - dt.timedelta(days=offset) == today:
                    due.setdefault(copil.annee_bilan, []).append(f"{territoire.code}:{copil.date}:{moment}")
    requests = []
    for annee, reasons in sorted(due.items()):
        if str(annee) not in annee_partitions.get_partition_keys():
            continue
        requests.append(RunRequest(partition_key=str(annee), run_key=f"copil-{annee}-{today.isoformat()}",
                                   tags={"bilan/declencheur": "copil", "bilan/copil": ", ".join(reasons)}))
    return requests


@schedule(job=bilan_annuel, cron_schedule="0 6 * * *", execution_timezone="Europe/Paris",
          description="Chaque matin : lance le bilan de l'année concernée quand un COPIL d'un territoire tombe dans "
                      "`jours_avant_copil` jours (config/settings.yaml), puis la veille du COPIL.")
def bilan_avant_copil(context: ScheduleEvaluationContext, parametres: BilanSettings):
    today = context.scheduled_execution_time.date()
    requests = copil_run_requests(parametres.config, today)
    return requests or SkipReason(f"aucun COPIL à préparer le {today:%d/%m/%Y}")


@schedule(job=bilan_annuel, cron_schedule="0 6 * * *", execution_timezone="Europe/Paris",
          description="Le bilan annuel de l'année écoulée, à la date `date_bilan_annuel` (config/settings.yaml).")
def bilan_annuel_planifie(context: ScheduleEvaluationContext, parametres: BilanSettings):
    today = context.scheduled_execution_time.date()
    if today.strftime("%m-%d") != parametres.config.settings.planification.date_bilan_annuel:
        return SkipReason(f"le bilan annuel n'est pas prévu le {today:%d/%m}")
    annee = str(today.year - 1)
    if annee not in annee_partitions.get_partition_keys():
        return SkipReason(f"{annee} n'est pas une année du contrat")
    return RunRequest(partition_key=annee, run_key=f"annuel-{annee}", tags={"bilan/declencheur": "annuel"})
