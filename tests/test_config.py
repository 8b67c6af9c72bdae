"""Configuration is data: validated when loaded, errors name the file and the key, a territory is a YAML file."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from core.config.base import PROJECT_ROOT, ConfigurationError
from core.config.projet import ProjectConfig
from core.resources import BilanSettings


def _copy_config(tmp_path):
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    settings = yaml.safe_load((target / "settings.yaml").read_text())
    national = PROJECT_ROOT.parent / "shared/reference/qpv-2024.geojson.gz"
    settings["geographie_reference"]["fichier_local"] = str(national)
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
        _ = ProjectConfig(cfg_dir).territoires
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


# --- the measure catalogue (config/mesures.yaml) ---------------------------------------------------


def test_measure_catalogue_expands_patterns_from_the_vocabulary_and_the_indicator_catalogue(config):
    declared = config.mesures.declarees(config.vocabulaire, config.catalogue("compas_qpv"))
    jalons = [j for j in config.vocabulaire.codes("jalons") if j != "entree"]
    assert {f"cohorte.taux_sortie_positive_{j}" for j in jalons} <= set(declared)
    assert "cohorte.observes_entree" not in declared
    for n in config.vocabulaire.codes("natures_credit"):
        assert declared[f"prog.montant_{n}"].unite == "euros" and declared[f"prog.part_{n}"].unite == "pourcentage"
    pauvrete = next(i for i in config.catalogue("compas_qpv").indicateurs if i.code == "taux_pauvrete")
    assert declared["indicateur.taux_pauvrete"].unite == pauvrete.unite == "pourcentage"
    assert declared["indicateur.taux_pauvrete.ecart_epci"].unite == "points"
    assert declared["indicateur.taux_pauvrete"].libelle == pauvrete.libelle
    assert declared["engagement.realise"].unite is None                  # the commitment's own unit
    assert declared["tfpb.abattement"].famille == "tfpb" and declared["bilans.part_femmes"].nature == "resultats"
    assert all(m.famille in config.vocabulaire.codes("familles") for m in declared.values())


def test_a_new_jalon_in_the_vocabulary_gives_its_cohort_measures(tmp_path):
    cfg_dir = _copy_config(tmp_path)
    path = cfg_dir / "vocabulaire.yaml"
    data = yaml.safe_load(path.read_text())
    data["jalons"].insert(4, {"code": "36_mois", "libelle": "36 mois", "mois": 36})
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    config = ProjectConfig(cfg_dir)
    declared = config.mesures.declarees(config.vocabulaire, config.catalogue("compas_qpv"))
    assert declared["cohortes_objectif.taux_emploi_durable_36_mois"].libelle == \
        "taux d'emploi durable au jalon « 36 mois », par objectif"


def _edit_measures(tmp_path, change):
    cfg_dir = _copy_config(tmp_path)
    path = cfg_dir / "mesures.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return cfg_dir, path


def _measure(data, code):
    return next(m for m in data["mesures"] if m["code"] == code)


@pytest.mark.parametrize("change,message", [
    (lambda d: _measure(d, "tfpb.logements").update(unite="logements"),
     "unité « logements » absente de la liste `unites`"),
    (lambda d: _measure(d, "tfpb.logements").update(cles=["immeuble"]), "sorte(s) de clé inconnue(s) : immeuble"),
    (lambda d: _measure(d, "tfpb.logements").update(famille="tfbp"), "« tfbp » n'est pas dans la liste `familles`"),
    (lambda d: _measure(d, "tfpb.logements").update(nature="effets"), "nature"),
    (lambda d: _measure(d, "prog.montant_{code}").update(pour_chaque="natures"), "`pour_chaque` « natures »"),
    (lambda d: _measure(d, "cohorte.observes_{code}").update(sauf=["entre"]), "`sauf` cite des termes absents"),
    (lambda d: _measure(d, "tfpb.logements").update(couleur="bleu"), "clé inconnue"),
    (lambda d: _measure(d, "tfpb.logements").update(base={"mesure": "tfpb.abattement", "masse": "montant"}),
     "`base` ne se déclare que pour une part (unite: pourcentage)"),
    (lambda d: _measure(d, "prog.part_cpo_montant").update(base={"mesure": "prog.montant_acorde", "masse": "montant"}),
     "`base.mesure` « prog.montant_acorde » n'est pas une mesure du catalogue"),
    (lambda d: _measure(d, "prog.part_cpo_montant").update(base={"mesure": "prog.montant_accorde", "masse": "euros"}),
     "masse"),
    (lambda d: _measure(d, "tfpb.taux_couverture")["base"].update(numerateur="tfpb.valorisee"),
     "`base.numerateur` « tfpb.valorisee » n'est pas une mesure du catalogue"),
])
def test_measure_catalogue_errors_name_the_file_and_the_key(tmp_path, change, message):
    cfg_dir, path = _edit_measures(tmp_path, change)
    with pytest.raises(ConfigurationError) as err:
        _ = ProjectConfig(cfg_dir).mesures
    assert str(path) in str(err.value) and "clé `mesures" in str(err.value)
    assert message in str(err.value)


@pytest.mark.parametrize("change,message", [
    (lambda d: d["questions"][0]["indicateurs"][0].update(mesure="prog.part_cpo_dossiers", cle="OG.1.1",
                                                          unite="pourcentage"),
     "mesure « prog.part_cpo_dossiers » : clé « OG.1.1 » non acceptée (accepte : aucune)"),
    (lambda d: d["questions"][0]["indicateurs"][0].update(mesure="tfpb.alertes_couverture", unite="nombre",
                                                          cle=None, perimetre="QN05934M"),
     "mesure « tfpb.alertes_couverture » : périmètre « QN05934M » non accepté"),
    (lambda d: d["questions"][0]["indicateurs"][0].update(mesure="cohorte.taux_sortie_positive_12_mois", cle=None,
                                                          unite="pourcentage"),
     "mesure « cohorte.taux_sortie_positive_12_mois » : clé obligatoire (cpo)"),
    (lambda d: d["questions"][0]["indicateurs"][0].update(mesure="prog.effet_levier_bop147", cle=None,
                                                          unite="pourcentage"),
     "`questions.0.indicateurs.0.unite` (I1.1) : « pourcentage » alors que la mesure « prog.effet_levier_bop147 » "
     "est en « ratio »"),
])
def test_referential_is_checked_against_the_measure_catalogue_when_loaded(tmp_path, change, message):
    cfg_dir, path = _edit_referential(tmp_path, change)
    with pytest.raises(ConfigurationError) as err:
        _ = ProjectConfig(cfg_dir).territoires
    assert str(path) in str(err.value) and message in str(err.value)


def test_thresholds_of_the_bilan_are_validated_settings(tmp_path):
    cfg_dir = _copy_config(tmp_path)
    path = cfg_dir / "settings.yaml"
    data = yaml.safe_load(path.read_text())
    data["seuils"]["part_cpo_visee"] = 150
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(ConfigurationError, match=re.escape("`seuils.part_cpo_visee`")):
        _ = ProjectConfig(cfg_dir).settings
