"""The acronyms a COPIL reader meets (config/glossaire.yaml)."""

from __future__ import annotations

from core.config.bilan import Section
from reports.data import BilanData


def build(data: BilanData, section: Section, geography) -> dict:
    return {"sigles": data.glossaire}
