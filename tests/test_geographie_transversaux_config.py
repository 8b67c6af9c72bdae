"""Declaring complementary quartiers (territory YAML) and transversal axes (referential YAML): what a steward gets
wrong reads in French, naming the key and the value (issue 31, items 6 and 7)."""

from __future__ import annotations

import re

import pytest

from core.config.base import ConfigurationError
from tests.conftest import config_copy

POCHE = ('quartiers_complementaires:\n'
         '  - {code: PP-LEWARDE, type: poche_pauvrete, nom: "Lewarde — Centre", communes: ["59345"], '
         'population: 600}\n')
ANCHOR = "niveaux_comparaison:\n"


def _with(tmp_path, document: str, old: str, new: str):
    config = config_copy(tmp_path, {document: (old, new)})
    with pytest.raises(ConfigurationError) as raised:
        assert config.territoires is None and config.referentiel("ccco") is None  # never reached
    return str(raised.value)


def test_a_declared_poche_is_read_with_its_vocabulary_label(tmp_path):
    config = config_copy(tmp_path, {"territoires/ccco.yaml": (ANCHOR, POCHE + ANCHOR)})
    poche = config.territoire("ccco").quartiers_complementaires[0]
    assert (poche.code, poche.type, poche.population) == ("PP-LEWARDE", "poche_pauvrete", 600)
    assert config.territoire("ccco").codes_complementaires == ["PP-LEWARDE"]


@pytest.mark.parametrize("old, new, message", [
    ("code: PP-LEWARDE", "code: QN05999M",
     r"quartiers_complementaires\.0\.code.*« QN05999M » a la forme d'un code QPV"),
    ("code: PP-LEWARDE", "code: QN05934M",
     r"« QN05934M » a la forme d'un code QPV"),
    ("code: PP-LEWARDE", "code: pp lewarde",
     r"« pp lewarde » : un code local est fait de majuscules, chiffres et tirets"),
    ("type: poche_pauvrete", "type: poche",
     r"« poche » n'est pas dans la liste `types_quartier_complementaire`"),
    ('communes: ["59345"]', 'communes: ["59999"]',
     r"quartiers_complementaires PP-LEWARDE : commune\(s\) 59999 absente\(s\) de la liste `communes`"),
    ("population: 600", "population: 0", r"population.*valeur supérieure à 0 attendue"),
])
def test_a_wrong_complementary_quartier_reads_in_french(tmp_path, old, new, message):
    text = _with(tmp_path, "territoires/ccco.yaml", ANCHOR, POCHE.replace(old, new) + ANCHOR)
    assert re.search(message, text), text


def test_a_local_code_cannot_be_cited_twice(tmp_path):
    twice = POCHE + POCHE.split("\n", 1)[1]
    text = _with(tmp_path, "territoires/ccco.yaml", ANCHOR, twice + ANCHOR)
    assert "code(s) PP-LEWARDE en double" in text


TRANSVERSAL = "axes_transversaux:\n  - {code: T1, intitule: Encourager la participation citoyenne}\nquestions:\n"


def test_transversal_axes_are_declared_and_cited_by_objectives(tmp_path):
    config = config_copy(tmp_path, {"referentiels/ccco.yaml": ("questions:\n", TRANSVERSAL)})
    assert config.referentiel("ccco").codes_transversaux == ["T1"]


@pytest.mark.parametrize("declared, message", [
    ("  - {code: T1, intitule: Participation}\n  - {code: T1, intitule: Numérique}\n",
     r"axes_transversaux : code\(s\) en double : T1"),
    ("  - {code: X1, intitule: Participation}\n", r"forme inattendue : « X1 »"),
])
def test_a_wrong_transversal_axis_reads_in_french(tmp_path, declared, message):
    text = _with(tmp_path, "referentiels/ccco.yaml", "questions:\n", f"axes_transversaux:\n{declared}questions:\n")
    assert re.search(message, text), text


def test_an_objective_citing_an_undeclared_transversal_axis_is_named(tmp_path):
    text = _with(tmp_path, "referentiels/ccco.yaml", "      - code: OG.1.2\n",
                 "      - code: OG.1.2\n        transversaux: [T3]\n")
    assert "objectif OG.1.2 : axe(s) transversal(aux) inconnu(s) : T3 (déclarés : aucun)" in text
