"""The national synthetic dataset (tools/generate_national.py): real QPV grouped into territories the loader
accepts, deterministic files."""

import hashlib
import sys
from pathlib import Path

import pytest

from core.config.projet import ProjectConfig
from core.resources import BilanSettings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import generate_national as gn  # noqa: E402

COUCHE = gn.REFERENCE / "qpv-2024.geojson.gz"


@pytest.fixture(scope="module")
def territoires():
    return gn.construire_territoires(gn.lire_qpv(COUCHE), {})


def test_every_qpv_in_exactly_one_territory(territoires):
    codes = [q["code"] for t in territoires for q in t.qpv]
    assert len(territoires) == gn.NB_TERRITOIRES
    assert len(codes) == len(set(codes)) == len(gn.lire_qpv(COUCHE)) == 1584
    communes = [c["code_insee"] for t in territoires for c in t.communes]
    assert len(communes) == len(set(communes)), "a commune belongs to one territory"
    sirens = [t.siren for t in territoires]
    assert len(set(sirens)) == len(sirens) and all(gn.demo.luhn_ok(s) and len(s) == 9 for s in sirens)
    assert 650 <= len({b for t in territoires for b in t.bailleurs}) <= 750
    assert 4_000_000 < sum(t.population for t in territoires) < 7_000_000


def _empreintes(racine: Path) -> dict[str, str]:
    return {str(p.relative_to(racine)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(racine.rglob("*")) if p.is_file() and p.name != "comptes.json"}


def test_two_territories_load_and_regenerate_identically(tmp_path):
    gn.generer(tmp_path / "a", 2, log=lambda _: None)
    gn.generer(tmp_path / "b", 2, log=lambda _: None)
    assert _empreintes(tmp_path / "a") == _empreintes(tmp_path / "b")
    config = tmp_path / "a" / "config"
    assert len(ProjectConfig(config).territoires) == 2
    parametres = BilanSettings(racine_donnees=str(tmp_path / "a"), sortie=str(tmp_path / "out"),
                               dossier_config=str(config))
    assert len(parametres.territoires(log=lambda _: None)) == 2  # checked against the national QPV list
    for code in ProjectConfig(config).territoires:
        familles = {p.name.split("_")[0] for p in (tmp_path / "a" / "inbox" / code / "2025").iterdir()}
        assert familles == {"programmation", "bilans", "engagements", "tfpb", "indicateurs", "cohortes"}
