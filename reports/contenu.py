"""The content a COPIL expects (issue 12, item 5), from the published tables only: each function formats what
BilanData read from `publication.*`; figures come from published measures."""

from __future__ import annotations

import pandas as pd

from reports.data import BilanData


def arrete_au(sources: pd.DataFrame, annee: int) -> str | None:
    """The date the bilan's data stop at: the day the last file of the year's box was received (its first sight in
    the archive), not the day the bilan was produced, so two runs on the same files show the same date."""
    if sources.empty:
        return None
    recus = sources.loc[sources["annee"] == annee, "premier_vu_le"].dropna()
    return None if recus.empty else pd.Timestamp(recus.max()).strftime("%d/%m/%Y")


def couverture(data: BilanData) -> dict:
    return {"arrete_au": arrete_au(data.sources, data.annee)}
