"""DuckDB within bounds (issue 32, item 5): the warehouse and the render snapshots take their memory limit and
threads from config/settings.yaml (`entrepot`), and a wrong value is refused in French."""

from __future__ import annotations

import re

import pytest

from assets.publication.instantane import open_snapshot
from core.config.base import ConfigurationError
from core.resources import warehouse
from tests.conftest import config_copy


def _settings(con) -> tuple[str, int]:
    return con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()


def test_the_warehouse_and_the_snapshots_take_the_configured_memory_and_threads(tmp_path):
    config = config_copy(tmp_path, {"settings.yaml": ("  memoire_max: 4GB\n  fils: null\n",
                                                      "  memoire_max: 512MB\n  fils: 1\n")})
    resource = warehouse(tmp_path / "sortie" / "entrepot.duckdb", config=config)
    with resource.get_connection() as con:
        memory, threads = _settings(con)
    assert memory in ("488.2 MiB", "488.2MiB") and int(threads) == 1
    (tmp_path / "instantane").mkdir()
    snapshot = open_snapshot(tmp_path / "instantane", None, config.settings.entrepot.duckdb())
    assert _settings(snapshot) == (memory, threads)


def test_the_project_default_is_4_gb(config):
    assert config.settings.entrepot.duckdb() == {"memory_limit": "4GB"}


@pytest.mark.parametrize("value, message", [
    ("4 gigas", r"entrepot\.memoire_max"), ("0", r"entrepot\.fils"),
])
def test_a_wrong_setting_reads_in_french(tmp_path, value, message):
    old = "  memoire_max: 4GB\n  fils: null\n"
    new = f"  memoire_max: {value}\n  fils: null\n" if "gigas" in value else f"  memoire_max: 4GB\n  fils: {value}\n"
    config = config_copy(tmp_path, {"settings.yaml": (old, new)})
    with pytest.raises(ConfigurationError) as raised:
        assert config.settings is None
    assert re.search(message, str(raised.value)), str(raised.value)
