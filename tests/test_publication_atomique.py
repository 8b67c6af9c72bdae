"""A territory's bilan files are published together: a run killed while it writes them leaves the previous complete
set in place, and the next run publishes a complete new one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.common import VERSIONS, folder_to_publish

ROOT = Path(__file__).resolve().parent.parent


def _publish(published: Path, content: str) -> None:
    with folder_to_publish(published) as folder:
        (folder / "bilan.html").write_text(content)
        (folder / "communes").mkdir()
        (folder / "communes" / "aniche.html").write_text(content)


def _contents(published: Path) -> dict[str, str]:
    return {str(p.relative_to(published)): p.read_text() for p in sorted(published.rglob("*")) if p.is_file()}


def test_a_published_set_replaces_the_previous_one_whole(tmp_path):
    published = tmp_path / "2025" / "ccco"
    _publish(published, "v1")
    assert published.is_symlink() and _contents(published) == {"bilan.html": "v1", "communes/aniche.html": "v1"}
    _publish(published, "v2")
    assert _contents(published) == {"bilan.html": "v2", "communes/aniche.html": "v2"}
    assert len(list((published.parent / VERSIONS).iterdir())) == 1     # older versions are removed


def test_a_failed_build_leaves_the_previous_set(tmp_path):
    published = tmp_path / "ccco"
    _publish(published, "v1")
    with pytest.raises(RuntimeError), folder_to_publish(published) as folder:
        (folder / "bilan.html").write_text("à moitié")
        raise RuntimeError("rendu interrompu")
    assert _contents(published) == {"bilan.html": "v1", "communes/aniche.html": "v1"}


def test_a_folder_from_before_versioning_is_replaced(tmp_path):
    published = tmp_path / "ccco"
    published.mkdir()
    (published / "bilan.html").write_text("ancien")
    _publish(published, "v2")
    assert _contents(published) == {"bilan.html": "v2", "communes/aniche.html": "v2"}


def test_a_process_killed_while_writing_leaves_the_previous_complete_set(tmp_path):
    published = tmp_path / "ccco"
    _publish(published, "v1")
    started = tmp_path / "rendu_commence"
    writer = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from core.common import folder_to_publish
        with folder_to_publish(Path({str(published)!r})) as folder:
            (folder / "bilan.html").write_text("v2")
            Path({str(started)!r}).touch()
            time.sleep(60)  # killed here, before the commune bilans are written
            (folder / "communes").mkdir()
    """)
    process = subprocess.Popen([sys.executable, "-c", writer], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert _contents(published) == {"bilan.html": "v1", "communes/aniche.html": "v1"}
    _publish(published, "v3")                                      # the next run publishes and cleans up
    assert _contents(published) == {"bilan.html": "v3", "communes/aniche.html": "v3"}
    assert len(list((published.parent / VERSIONS).iterdir())) == 1


def test_a_real_run_killed_while_rendering_leaves_the_previous_bilan(demo_run_second, tmp_path):
    """`dagster asset materialize` of the bilan, killed once it has started writing the new set: the published
    folder is still the previous complete set; the next run publishes a complete new one. Without the PDFs (the
    demo run this starts from has none): what is published together is the same, the run is three times shorter."""
    import duckdb

    from tests.conftest import copy_of

    sortie = copy_of(demo_run_second, tmp_path / "sortie")
    published = sortie / "2025" / "ccco"
    before = _contents_bytes(published)
    assert {"bilan_ccco_2025.html", "bilan_ccco_2025_annexe.xlsx"} <= set(before)
    assert len([n for n in before if n.startswith("communes/")]) == 9   # one HTML per commune hosting a QPV
    with duckdb.connect(str(sortie / "entrepot.duckdb")) as con:
        con.execute("DELETE FROM publication.bilans_publies")   # as if the content had changed: render again
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "deploiement" / "dagster.sqlite.yaml").read_text())
    env = {**os.environ, "DAGSTER_HOME": str(home), "BILAN_SORTIE": str(sortie), "BILAN_PDF": "non"}
    command = [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m", "pipelines.definitions",
               "--select", "bilan/bilan", "--partition", "2025"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    versions = published.parent / VERSIONS
    current = os.readlink(published)
    try:
        deadline = time.monotonic() + 240
        while not any((p / "bilan_ccco_2025.html").exists() for p in versions.glob("ccco-*")
                      if Path(VERSIONS) / p.name != Path(current)):
            assert time.monotonic() < deadline and process.poll() is None, "le rendu n'a pas commencé"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)                   # killed while the annex and communes are written
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert os.readlink(published) == current and _contents_bytes(published) == before
    # the next run, in this process (the same asset, without the command's start-up)
    from dagster import AssetKey, DagsterInstance, materialize

    from core.resources import BilanSettings, warehouse
    from pipelines.definitions import ALL_ASSETS

    parametres = BilanSettings(racine_donnees=demo_run_second.parametres.racine_donnees, sortie=str(sortie), pdf=False)
    assert materialize(ALL_ASSETS, selection=[AssetKey(["bilan", "bilan"])], partition_key="2025",
                       instance=DagsterInstance.ephemeral(),
                       resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)}).success
    after = _contents_bytes(published)
    assert os.readlink(published) != current and set(after) == set(before)
    assert [p.name for p in versions.iterdir()] == [Path(os.readlink(published)).name]


def _contents_bytes(published: Path) -> dict[str, bytes]:
    return {str(p.relative_to(published)): p.read_bytes() for p in sorted(published.rglob("*")) if p.is_file()}
