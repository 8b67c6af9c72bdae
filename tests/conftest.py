"""Shared fixtures: the demo territory's validation context and small files written by hand."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import socket
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from core.config.projet import ProjectConfig
from core.familles.family import Context
from core.pseudonymisation import Pseudonymiser

TEST_KEY = "cle-de-test-bilan-quartiers-0123456789abcdef"
DEMO_DATA = Path(__file__).resolve().parent.parent / "data" / "demo"


@pytest.fixture(autouse=True)
def _deployment_settings_left_as_found(monkeypatch):
    """`bilan run` hands its folders to the step processes it starts through the environment (BILAN_DONNEES…):
    a test calling it in this process must not leave them to the tests, or the commands they start, after it."""
    for name in ("BILAN_DONNEES", "BILAN_SORTIE", "BILAN_CONFIG", "BILAN_PDF"):
        monkeypatch.delenv(name, raising=False)


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


# the fixtures whose state several tests share, and the xdist group that keeps those tests on one worker: the session
# runs of the pipeline, and the deposit portal (tests/test_portail.py: a partner deposits a file, then a run publishes
# what it fed; spread over two workers, the second test met a portal with no deposit)
SHARED_RUNS = {"demo_run_partage": "demo", "demo_run_second": "demo", "marts_run_2025": "marts", "caph_run": "caph",
               "portail": "portail"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the group marks
def pytest_collection_modifyitems(config, items):
    """With pytest-xdist (`make test` runs `-n auto --dist loadgroup`), the tests reading a shared run go to one
    worker, so each shared run is built once; the other tests spread over the other workers."""
    for item in items:
        for fixture, group in SHARED_RUNS.items():
            if fixture in item.fixturenames:
                item.add_marker(pytest.mark.xdist_group(group))
                break


def pytest_collection_finish(session):
    """A pytest/xdist pair that ignores the groups would build each demo run once per worker, silently: say it."""
    if session.config.getvalue("dist") == "loadgroup" or getattr(session.config.option, "loadgroup", False):
        lost = [i.nodeid for i in session.items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid]
        if lost:
            raise pytest.UsageError(f"--dist loadgroup ignoré par cette version de pytest ({pytest.__version__}) : "
                                    f"{len(lost)} tests du groupe demo sans suffixe de groupe (pytest-xdist#1386)")


# --- one demo run shared by every test that only reads its outputs ----------------------------------------------


@dataclass
class DemoRun:
    sortie: Path
    parametres: object
    results: list       # the Dagster results of 2024 (without the bilan) and 2025 (with it)


@pytest.fixture(scope="session")
def demo_run_partage(tmp_path_factory) -> DemoRun:
    """The committed demo inbox through the whole graph once per test session: 2024 without the bilan (the earlier
    year other years refer to), then 2025 with it. Tests read it; a test that must change it works on a copy."""
    return _run_demo(tmp_path_factory.mktemp("demo_partage"), pdf=True)


def _run_demo(sortie: Path, pdf: bool) -> DemoRun:
    import os

    from dagster import DagsterInstance, materialize

    from core.resources import BilanSettings, warehouse
    from pipelines.definitions import ALL_ASSETS, WITHOUT_BILAN

    os.environ["BILAN_CLE_PSEUDONYMISATION"] = TEST_KEY
    parametres = BilanSettings(racine_donnees=str(DEMO_DATA), sortie=str(sortie), pdf=pdf)
    instance = DagsterInstance.ephemeral()
    results = []
    for annee in (2024, 2025):
        selection = None if annee == 2025 else WITHOUT_BILAN
        result = materialize(ALL_ASSETS, partition_key=str(annee), instance=instance, selection=selection,
                             resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)})
        assert result.success
        results.append(result)
    return DemoRun(sortie=sortie, parametres=parametres, results=results)


@pytest.fixture(scope="session")
def demo_run_second(tmp_path_factory) -> DemoRun:
    """A second run of the demo from scratch (2025's bilan without PDF), to compare with the shared one: what a run
    publishes must not depend on the run."""
    return _run_demo(tmp_path_factory.mktemp("demo_second"), pdf=False)


def copy_of(run: DemoRun, target: Path) -> Path:
    """A copy of the shared demo output, for a test that runs the pipeline again on it (links kept as links)."""
    import shutil

    shutil.copytree(run.sortie, target, symlinks=True)
    return target


@dataclass
class MartsRun:
    parametres: object
    result: object      # the Dagster result of 2025, checks included


@pytest.fixture(scope="session")
def marts_run_2025(tmp_path_factory) -> MartsRun:
    """The hand-written fixtures of tests/fixtures/marts through the whole graph and its checks for 2025 (the bilan
    without PDF), once for the tests that read its checks, Data Docs and bilan."""
    import os

    from dagster import DagsterInstance, materialize

    from core.resources import BilanSettings, warehouse
    from pipelines.definitions import ALL_ASSETS, ALL_CHECKS

    os.environ["BILAN_CLE_PSEUDONYMISATION"] = TEST_KEY
    parametres = BilanSettings(racine_donnees=str(Path(__file__).parent / "fixtures" / "marts"),
                               sortie=str(tmp_path_factory.mktemp("marts_2025")), pdf=False)
    result = materialize([*ALL_ASSETS, *ALL_CHECKS], partition_key="2025", instance=DagsterInstance.ephemeral(),
                         raise_on_error=False,
                         resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)})
    return MartsRun(parametres=parametres, result=result)


def config_copy(tmp_path: Path, edits: dict[str, tuple[str, str]] | None = None):
    """The project's configuration copied into `tmp_path/config`, its settings pointing to the shared reference files
    (named relative to the project), with `edits`: document → (text found once, its replacement), as an evaluator
    edits a YAML file."""
    import shutil

    from core.config.base import PROJECT_ROOT
    from core.config.projet import ProjectConfig

    folder = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", folder)
    settings = folder / "settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        "../shared/", f"{PROJECT_ROOT.parent / 'shared'}/"), encoding="utf-8")
    for document, (old, new) in (edits or {}).items():
        path = folder / document
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new), encoding="utf-8")
    return ProjectConfig(folder)


# --- a real SMTP server on loopback (COPIL delivery, the portal's links and reminders) ----------------------


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    from assets.diffusion import Smtp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, Smtp(hote="127.0.0.1", port=port, starttls=False, expediteur="bilan@exemple.fr")
    controller.stop()
