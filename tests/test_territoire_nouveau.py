"""`bilan territoire nouveau` (issue 31, item 2): La Porte du Hainaut scaffolded from its SIREN — its name, its 47
communes, the QPV of those communes (an intercommunal one flagged), the national priorities — leaving only what no
reference gives. Until those are written the files do not load, in French; once written, `bilan config verifier`
finds no error."""

from __future__ import annotations

import re

import pytest

from core.config.base import ConfigurationError
from core.config.projet import ProjectConfig
from core.config_check import ERREUR, check_configuration
from pipelines.cli import main
from tests.conftest import config_copy


@pytest.fixture
def config_dir(tmp_path):
    return config_copy(tmp_path).dir


def _fill(path, populations: int = 1500, target: int = 100_000) -> None:
    """What the steward writes: the QPV populations and the targets."""
    text = path.read_text(encoding="utf-8")
    text = text.replace("part_population: À RENSEIGNER", "part_population: 0.5")
    text = text.replace("population: À RENSEIGNER", f"population: {populations}")
    text = text.replace("valeur: À RENSEIGNER", f"valeur: {target}")
    path.write_text(text, encoding="utf-8")


def test_the_porte_du_hainaut_from_its_siren(config_dir, capsys):
    assert main(["territoire", "nouveau", "--siren", "200042190", "--config", str(config_dir)]) == 0
    out = capsys.readouterr().out
    assert "CA de la Porte du Hainaut (SIREN 200042190, 47 communes)" in out
    territory = (config_dir / "territoires" / "caph.yaml").read_text(encoding="utf-8")
    assert 'siren_epci: "200042190"' in territory and "nom_court: CAPH" in territory
    assert len(re.findall(r'^  - \{code_insee: "\d{5}"', territory, re.M)) >= 47
    assert '{code_insee: "59172", nom: "Denain"' in territory
    # the QPV of its communes, Denain's among them; those spanning Valenciennes Métropole are declared shared with
    # it, the share of their population in the contract left to write; the other EPCI's communes are not the
    # contract's
    assert '{code: QN05950M, nom: "Denain", communes: ["59172"], population: À RENSEIGNER}' in territory
    assert "# QPV intercommunal : s'étend aussi sur 59014 (CA Valenciennes Métropole)" in territory
    assert ('partage: {avec: "CA Valenciennes Métropole", part_population: À RENSEIGNER}' in territory)
    assert '{code_insee: "59014"' not in territory and "hors_epci" not in territory
    # until the steward writes the populations, the territory does not load — in French, naming the key
    with pytest.raises(ConfigurationError, match=r"caph\.yaml : configuration invalide\n  - clé `qpv\.0\.population` "
                                                 r": nombre entier attendu : « À RENSEIGNER »"):
        assert ProjectConfig(config_dir).territoires is None
    _fill(config_dir / "territoires" / "caph.yaml")
    with pytest.raises(ConfigurationError, match=r"referentiels/caph\.yaml : configuration invalide\n  - clé "
                                                 r"`questions\.0\.indicateurs\.0\.cibles\.0\.valeur` : nombre attendu"):
        assert ProjectConfig(config_dir).territoires is None
    _fill(config_dir / "referentiels" / "caph.yaml")
    config = ProjectConfig(config_dir)
    assert set(config.territoires) == {"ccco", "caph"}
    assert [a.code for a in config.referentiel("caph").axes] == ["1", "2", "3", "4"]
    found, missing = check_configuration(config, ["caph"])
    assert missing == [] and [str(f) for f in found if f.gravite == ERREUR] == []
    # the shared QPV are declared: no point to check about them; the commune bilans keep to the contract's communes
    assert not [f for f in found if "intercommunal" in f.message]
    caph = config.territoire("caph")
    assert "59014" not in caph.communes_avec_qpv and "59491" in caph.communes_avec_qpv
    assert main(["config", "verifier", "--config", str(config_dir), "--territoire", "caph"]) == 0


def test_an_epci_by_its_name_and_the_mistakes_refused(config_dir, capsys):
    assert main(["territoire", "nouveau", "--epci", "porte", "--config", str(config_dir)]) == 2
    assert "« porte » désigne 29 EPCI" in capsys.readouterr().err
    assert main(["territoire", "nouveau", "--siren", "200042191", "--config", str(config_dir)]) == 2
    assert "SIREN « 200042191 » inconnu du découpage administratif 2026" in capsys.readouterr().err
    assert main(["territoire", "nouveau", "--epci", "coeur d'ostrevent", "--code", "ccco", "--config",
                 str(config_dir)]) == 2
    assert "Fichier(s) déjà présent(s)" in capsys.readouterr().err   # never over the demo's own files
