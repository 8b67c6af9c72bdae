"""The opinions on the draft annual report (décret n° 2015-1118, art. 2: the conseils citoyens and the municipal
councils have at least a month to give theirs; they are annexed to the final report with the follow-up given to
each). Left out of the bilan when the territory declares no annual report for the year."""

from __future__ import annotations

from core.config.bilan import Section
from reports.data import BilanData


def build(data: BilanData, section: Section, geography) -> dict:
    rapport = data.rapport_annuel
    if rapport is None:
        return {"hors_bilan": True}
    return {"version": rapport.version, "definitif": rapport.version == "definitif",
            "soumis_le": rapport.soumis_le.strftime("%d/%m/%Y"),
            "avis_jusqu_au": rapport.avis_jusqu_au.strftime("%d/%m/%Y"),
            "contributions": data.contributions,
            "sans_suite": [c["auteur"] for c in data.contributions if not c["suite"]]}
