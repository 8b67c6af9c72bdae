"""A configuration mistake reads in French, with the value the steward wrote (issue 31: « Input should be a valid
string », « String should match pattern '^\\d$' » leaked from pydantic)."""

from __future__ import annotations

import pytest

from core.config.base import ConfigurationError
from tests.conftest import config_copy


@pytest.mark.parametrize("document, old, new, message", [
    ("territoires/ccco.yaml", 'siren_epci: "245901152"', "siren_epci: 245901152",
     r"clé `siren_epci` : texte attendu : « 245901152 » \(entre guillemets dans le YAML"),
    ("territoires/ccco.yaml", "population: 3500}", "population: À RENSEIGNER}",
     r"clé `qpv\.0\.population` : nombre entier attendu : « À RENSEIGNER »"),
    ("territoires/ccco.yaml", "population: 1300}", "population: 0}",
     r"clé `qpv\.1\.population` : valeur supérieure à 0 attendue : « 0 »"),
    ("territoires/ccco.yaml", "{date: 2026-03-19, annee_bilan: 2025}", "{date: mars 2026, annee_bilan: 2025}",
     r"clé `copil\.1\.date` : date attendue \(AAAA-MM-JJ\) : « mars 2026 »"),
    ("referentiels/ccco.yaml", '  - code: "1"\n', '  - code: "1a"\n',
     r"clé `axes\.0\.code` : forme inattendue : « 1a » \(motif attendu : \^\\d\$\)"),
    ("referentiels/ccco.yaml", "{indicateur: taux_pauvrete, sens: hausse}",
     "{indicateur: taux_pauvrete, sens: monter}",
     r"clé `orientations\.besoins\.0\.sens` : valeur attendue parmi 'hausse', 'baisse' : « monter »"),
])
def test_a_mistake_reads_in_french_with_the_value_written(tmp_path, document, old, new, message):
    config = config_copy(tmp_path, {document: (old, new)})
    with pytest.raises(ConfigurationError) as raised:
        assert config.territoires is None  # never reached: loading raises
    text = str(raised.value)
    assert "Input should" not in text and "String should" not in text
    assert __import__("re").search(message, text), text
