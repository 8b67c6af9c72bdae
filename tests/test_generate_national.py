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
    return gn.construire_territoires(gn.lire_qpv(COUCHE), {}, gn.references())


def test_every_qpv_in_exactly_one_territory(territoires):
    codes = [q["code"] for t in territoires for q in t.qpv]
    assert len(codes) == len(set(codes)) == len(gn.lire_qpv(COUCHE)) == 1584
    communes = [c["code_insee"] for t in territoires for c in t.communes]
    assert len(communes) == len(set(communes)), "a commune belongs to one territory"
    sirens = [t.siren for t in territoires]
    assert len(set(sirens)) == len(sirens) and all(gn.demo.luhn_ok(s) and len(s) == 9 for s in sirens)
    assert 600 <= len({b for t in territoires for b in t.bailleurs}) <= 750
    assert 4_000_000 < sum(t.population for t in territoires) < 7_000_000


def test_the_territories_are_the_real_epci_with_their_qpv(territoires):
    """Issue 31, item 8: QPV grouped by the EPCI of their communes, with the EPCI's real SIREN, name and members;
    the benchmark's metropolises are real ones."""
    real = [t for t in territoires if t.reel]
    assert len(real) == 344                                # the EPCI à fiscalité propre with a QPV (COG 2026)
    largest = max(territoires, key=lambda t: len(t.qpv))
    assert (largest.siren, largest.nom, len(largest.qpv)) == ("200054781", "Métropole du Grand Paris", 175)
    caph = next(t for t in territoires if t.siren == "200042190")
    assert caph.nom == "CA de la Porte du Hainaut" and len(caph.communes) == 47
    # Verrerie – Square République spans Anzin (Valenciennes Métropole) and Raismes (CAPH): shared, declared so
    shared = {q["code"]: q.get("partage") for t in territoires for q in t.qpv}
    assert shared["QN05920M"] == {"avec": "CA Valenciennes Métropole", "part_population": 0.5}
    ccco = next(t for t in territoires if t.siren == "245901152")
    assert sorted(q["code"] for q in ccco.qpv) == ["QN05934M", "QN05935M", "QN05936M", "QN05937M", "QN05938M",
                                                   "QN05939M", "QN05940M", "QN05994I"]
    # the QPV outside any EPCI à fiscalité propre (French Polynesia, Saint-Martin) are grouped per department
    assert {t.departement for t in territoires if not t.reel} == {"987", "978"}
    # a commune merged since the 2024 layer (Pierrefitte-sur-Seine, part of Saint-Denis since 2025) is read as its
    # new one: its quartiers are the Métropole du Grand Paris's, not a territory of their own
    joncherolles = next(q for q in largest.qpv if q["code"] == "QN09336I")
    assert joncherolles["communes"] == ["93066"]


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
