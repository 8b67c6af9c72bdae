"""Shared fixtures: the demo territory's validation context and small files written by hand."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from assets.staging.family import Context
from pipelines.pseudonymisation import Pseudonymiser
from pipelines.config import ProjectConfig

TEST_KEY = "cle-de-test-bilan-quartiers-0123456789abcdef"


@pytest.fixture(scope="session")
def config() -> ProjectConfig:
    return ProjectConfig()


@pytest.fixture
def ctx(config) -> Context:
    t = config.territoire("ccco")
    return Context(territoire=t, annee=2025, referentiel=config.referentiel(t.referentiel),
                   catalogue=config.catalogue(t.catalogue_indicateurs), tolerance_ratio=0.1,
                   pseudonymise=Pseudonymiser(key=TEST_KEY.encode(), is_demo=False),
                   programmation=pd.DataFrame({"numero_dossier": ["2024-00001", "2025-00001"], "annee": [2024, 2025],
                                               "reference_cpo": ["CPO-CCCO-2024-01", None]}))


def write_csv(path: Path, rows: list[dict], sep: str = ",", encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter=sep, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[dict]]) -> Path:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, rows in sheets.items():
            pd.DataFrame(rows).to_excel(writer, sheet_name=name, index=False)
    return path
