"""Progress messages go both to Dagster's event log (the UI) and to the `bilan` logger (the CLI's console)."""

import logging

progress_logger = logging.getLogger("bilan")


def say(context, message: str) -> None:
    if context is not None:
        context.log.info(message)
    progress_logger.info(message)
