"""Configuration is data: validated when loaded, errors name the file and the key, a territory is a YAML file."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from pipelines.config import ConfigurationError, ProjectConfig, PROJECT_ROOT
from pipelines.resources import BilanSettings


def _copy_config(tmp_path):
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    settings = yaml.safe_load((target / "settings.yaml").read_text())
    settings["geographie_reference"]["fichier_local"] = str(PROJECT_ROOT.parent / "shared/reference/qpv-2024.geojson.gz")
    (target / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True))
    return target


def test_demo_territory_from_seed_001(config):
    t = config.territoire("ccco")
    assert t.siren_epci == "245901152" and len(t.communes) == 21
    assert t.codes_qpv == ["QN05934M", "QN05935M", "QN05936M", "QN05937M", "QN05938M", "QN05939M", "QN05940M",
                           "QN05994I"]
    assert sum(q.population for q in t.qpv) == 12700
    assert config.referentiel("ccco").codes_objectifs == [
        "OG.1.1", "OG.1.2", "OG.2.1", "OG.2.2", "OG.3.1", "OG.3.2", "OG.3.3", "OG.3.4", "OG.4.1", "OG.4.2", "OG.4.3"]


def test_all_territory_qpv_exist_in_the_national_layer(config):
    settings = BilanSettings()
    reference = settings.reference()
    assert reference is not None and len(reference.qpv) == 1584
    assert settings.territoires()[0].code == "ccco"
    assert reference.qpv["QN05940M"].communes == ("59501", "59574")


def test_error_names_file_and_key(tmp_path):
    cfg_dir = _copy_config(tmp_path)
    path = cfg_dir / "territoires" / "ccco.yaml"
    data = yaml.safe_load(path.read_text())
    del data["siren_epci"]
    data["qpv"][0]["population"] = -3
    data["couleur"] = "bleu"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(ConfigurationError) as err:
        ProjectConfig(cfg_dir).territoires
    text = str(err.value)
    assert str(path) in text
    assert "`siren_epci` : clé obligatoire absente" in text
    assert "`qpv.0.population`" in text and "`couleur` : clé inconnue" in text


def test_typo_in_a_qpv_code_is_refused_against_the_national_list(tmp_path):
    cfg_dir = _copy_config(tmp_path)
    path = cfg_dir / "territoires" / "ccco.yaml"
    data = yaml.safe_load(path.read_text())
    data["qpv"][7]["code"] = "QN05993M"  # seed 001's own typing error for Hornaing
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    settings = BilanSettings(dossier_config=str(cfg_dir))
    with pytest.raises(ConfigurationError, match="QN05993M") as err:
        settings.territoires()
    assert "QN05994I" in str(err.value) or "vouliez-vous dire" in str(err.value)


def test_without_the_national_list_the_run_goes_on_and_says_so(tmp_path):
    cfg_dir = _copy_config(tmp_path)
    settings_yaml = yaml.safe_load((cfg_dir / "settings.yaml").read_text())
    settings_yaml["geographie_reference"]["fichier_local"] = str(tmp_path / "absent.geojson.gz")
    (cfg_dir / "settings.yaml").write_text(yaml.safe_dump(settings_yaml, allow_unicode=True))
    messages = []
    territoires = BilanSettings(dossier_config=str(cfg_dir)).territoires(log=messages.append)
    assert [t.code for t in territoires] == ["ccco"]
    assert "indisponible" in messages[0]


def test_unknown_objective_in_referential_is_a_clear_error(tmp_path):
    cfg_dir = _copy_config(tmp_path)
    path = cfg_dir / "referentiels" / "ccco.yaml"
    data = yaml.safe_load(path.read_text())
    data["axes"][0]["objectifs"][1]["code"] = "OG.1.1"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(ConfigurationError, match="objectif.*en double : OG.1.1"):
        ProjectConfig(cfg_dir).referentiel("ccco")


def _edit_referential(tmp_path, change):
    cfg_dir = _copy_config(tmp_path)
    path = cfg_dir / "referentiels" / "ccco.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return cfg_dir, path


def test_referential_with_an_unknown_measure_is_refused_naming_the_key(tmp_path):
    cfg_dir, path = _edit_referential(
        tmp_path, lambda d: d["questions"][0]["indicateurs"][1].update(mesure="indicateur.taux_bonheur"))
    with pytest.raises(ConfigurationError) as err:
        BilanSettings(dossier_config=str(cfg_dir)).territoires()
    assert str(path) in str(err.value)
    assert "`questions.0.indicateurs.1.mesure` (I1.2) : mesure inconnue « indicateur.taux_bonheur »" in str(err.value)


@pytest.mark.parametrize("change,message", [
    (lambda d: d["questions"][1]["indicateurs"][0].update(code="I1.1"), "code(s) d'indicateur en double : I1.1"),
    (lambda d: d["questions"][0].update(objectifs=["OG.9.9"]), "objectif(s) inconnu(s) : OG.9.9"),
    (lambda d: d["questions"][0]["indicateurs"][0].update(sens="monter"), "questions.0.indicateurs.0.sens"),
    (lambda d: d["questions"][0]["indicateurs"][0].pop("cibles"), "questions.0.indicateurs.0.cibles"),
])
def test_referential_errors_are_clear(tmp_path, change, message):
    cfg_dir, _ = _edit_referential(tmp_path, change)
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        ProjectConfig(cfg_dir).referentiel("ccco")
