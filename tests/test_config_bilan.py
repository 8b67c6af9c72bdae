"""config/bilan.yaml, the bilan's sections and annex sheets as data: the project's loads, and each mistake an
evaluator may make is refused at load time, in French, naming the file and the key."""

from __future__ import annotations

import pytest

from core.config.base import ConfigurationError
from tests.conftest import config_copy


def test_the_project_bilan_lists_its_sections_in_reading_order(config):
    codes = [s.code for s in config.bilan.sections]
    # the follow-up of the last COPIL's decisions opens the bilan, before its synthesis
    assert codes[:4] == ["decisions", "depuis_copil", "synthese", "orientations"] and codes[-1] == "annexe"
    assert "droit_commun" in codes and codes.index("avis") == len(codes) - 2
    assert next(s for s in config.bilan.sections if s.code == "droit_commun").ancre == "droit-commun"
    assert [s.code for s in config.bilan.sections if s.communes] == ["synthese", "quartiers", "glossaire", "annexe"]
    # every published table a section reads, once, and every annex sheet shows a table a bilan reads
    assert set(config.bilan.tables()) == {"programmation", "engagements", "tfpb", "indicateurs", "cohortes_jalons"}
    assert config.bilan.presente_avec("cohortes") == ["cohortes_jalons"]


@pytest.mark.parametrize("old, new, message", [
    ("gabarit: tfpb.html.j2", "gabarit: tfpb_ancien.html.j2",
     r"bilan\.yaml : configuration invalide\n  - clé `sections\.8\.gabarit` : « tfpb_ancien\.html\.j2 » introuvable"),
    ("famille: tfpb\n", "famille: bailleurs\n", r"clé `sections\.8\.famille` : famille « bailleurs » inconnue"),
    ("presente_avec: [cohortes_jalons]", "presente_avec: [cohortes]",
     r"clé `sections\.10` : presente_avec : cohortes n'est pas dans `tables`"),
    ("  - code: methode\n", "  - code: qualite\n",
     r"partie\(s\) citée\(s\) deux fois : qualite"),
    ("    table: tfpb\n", "    table: tfpb_axes\n",
     r"annexe : tfpb_axes n'est lue par aucune partie"),
    ('      alerte_couverture: ["Alerte", b]', '      alerte_couverture: ["Alerte", x]',
     r"clé `annexe\.4\.colonnes` : nature de colonne inconnue : alerte_couverture \(x\)"),
    ("  - code: referentiel\n", "  - code: Référentiel\n", r"clé `sections\.4\.code` : "),
])
def test_a_mistake_in_bilan_yaml_is_refused_in_french(tmp_path, old, new, message):
    with pytest.raises(ConfigurationError, match=message):
        assert config_copy(tmp_path, {"bilan.yaml": (old, new)}).bilan is None  # never reached: loading raises
