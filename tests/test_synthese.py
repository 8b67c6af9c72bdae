"""The written synthesis (reports/synthese_ecrite.py) on hand-made data: its rules, its figures, its French agreement;
the French formats it writes with (reports/format.py); the glossary it ends with (config/glossaire.yaml)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from core.config.base import PROJECT_ROOT, ConfigurationError
from core.config.projet import ProjectConfig
from core.config.territoire import Qpv
from reports.data import BilanData
from reports.format import compte, liste, nombre, pct, pluriel, points, signe, texte_chiffres
from reports.synthese_ecrite import synthese_ecrite

A, B = "QN05934M", "QN05935M"


def _measures(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["code_mesure", "perimetre", "cle", "valeur", "unite"])


def _ref(rows: list[dict]) -> pd.DataFrame:
    base = {"question": "Q1", "objectifs": "OG.1.1, OG.1.2", "cle": None, "unite": "pourcentage",
            "valeur_precedente": None, "annee_donnees_precedente": None, "annee_cible": 2027, "mesure": "x.y"}
    return pd.DataFrame([{**base, **r} for r in rows])


def make_data(config: ProjectConfig, *, measures=None, before=None, referentiel=None, tfpb=None, engagements=None,
              manquants=None, programmation=None) -> BilanData:
    territoire = config.territoire("ccco").model_copy(update={"qpv": [
        Qpv(code=A, nom="Les Argales", communes=["59008"], population=1000),
        Qpv(code=B, nom="Le Bruille", communes=["59024"], population=3000)]})
    referentiel_config = config.referentiel("ccco")
    axes = [{"code": ax.code, "intitule": ax.intitule,
             "objectifs": [{"code": o.code, "intitule": o.intitule} for o in ax.objectifs]}
            for ax in referentiel_config.axes]
    empty = pd.DataFrame()
    return BilanData(
        territoire=territoire, annee=2025, referentiel_version="t", run_id="r", genere_le="01/01/2026",
        families_present={}, measures=measures if measures is not None else _measures([]),
        measures_before=before if before is not None else _measures([]),
        referentiel=referentiel if referentiel is not None else empty, axes=axes,
        tables={"programmation": programmation if programmation is not None else empty,
                "engagements": engagements if engagements is not None else empty,
                "tfpb": tfpb if tfpb is not None else empty, "indicateurs": empty, "cohortes_jalons": empty},
        qualite=empty, erreurs_par_regle=empty, fichiers_manquants=manquants or [], sources=empty,
        qpv=pd.DataFrame([{"code_qpv": q.code, "nom_qpv": q.nom, "population": q.population,
                           "communes": q.communes} for q in territoire.qpv]),
        vocabulaire=config.vocabulaire, seuils=config.settings.seuils.model_dump(),
        sections=list(config.bilan.sections), annexe=list(config.bilan.annexe),
    )


def _tfpb(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["bailleur", "code_qpv", "montant_abattement", "montant_valorise"])
    return frame.assign(taux_couverture=100 * frame["montant_valorise"] / frame["montant_abattement"],
                        alerte_couverture=lambda f: f["taux_couverture"] < 100)


# --- French formats and agreement ---------------------------------------------------------------------


def test_agreement_of_nouns():
    assert compte(1, "quartier") == "1 quartier"
    assert compte(2, "quartier") == "2 quartiers"
    assert compte(0, "alerte", feminin=True) == "aucune alerte"
    assert compte(0, "fichier attendu", "fichiers attendus") == "aucun fichier attendu"
    assert compte(3, "quartier prioritaire") == "3 quartiers prioritaires"
    assert compte(2, "couple bailleur-quartier", "couples bailleur-quartier") == "2 couples bailleur-quartier"
    assert compte(1250, "dossier") == "1\u202f250 dossiers"
    assert pluriel(1, "est", "sont") == "est" and pluriel(5, "est", "sont") == "sont"
    assert liste(["a"]) == "a" and liste(["a", "b"]) == "a et b" and liste(["a", "b", "c"]) == "a, b et c"


def test_numbers_in_french_with_one_minus_sign():
    assert nombre(-1234.5, 1) == "\u22121\u202f234,5"
    assert nombre(-0.04, 1) == "0,0"  # rounds to zero: no sign
    assert points(-1.6) == "\u22121,6\u00a0pt" and points(2.4) == "+2,4\u00a0pt" and points(0.0) == "0,0\u00a0pt"
    assert signe(-0.1) == "\u22120,1"
    assert pct(98.04) == "98,0\u00a0%"
    assert texte_chiffres("SIGH / QN05934M : 97.9 %") == "SIGH / QN05934M : 97,9\u00a0%"


# --- the synthesis ------------------------------------------------------------------------------------


def test_nothing_wrong_gives_no_alert(config):
    data = make_data(config, measures=_measures([("prog.part_cpo_dossiers", "territoire", None, 55.0, "pourcentage")]),
                     tfpb=_tfpb([("Norévie", A, 1000.0, 1200.0)]))
    out = synthese_ecrite(data)
    assert out["alertes"] == [] and out["titre_alertes"] == "Aucune alerte"
    assert "aucun couple bailleur-quartier n'est sous 100\u00a0%" in out["annee"][-1]
    assert out["vigilance"] == []


def test_each_alert_with_its_figure_and_its_section(config):
    data = make_data(
        config,
        measures=_measures([("prog.part_cpo_dossiers", "territoire", None, 40.0, "pourcentage"),
                            ("prog.part_cpo_montant", "territoire", None, 45.5, "pourcentage")]),
        referentiel=_ref([{"code_indicateur": "I1.1", "libelle": "Taux d'emploi", "valeur": 41.0, "cible": 44.0,
                           "statut": "en retard"},
                          {"code_indicateur": "I1.2", "libelle": "Taux d'emploi des femmes", "valeur": 40.0,
                           "cible": 39.5, "statut": "atteint"}]),
        tfpb=_tfpb([("SIGH", A, 1000.0, 979.0), ("Norévie", B, 1000.0, 1500.0)]),
        engagements=pd.DataFrame([
            {"partenaire": "CAF du Nord", "perimetre": "territoire", "non_renseigne": True, "valeur_realisee": None},
            {"partenaire": "CAF du Nord", "perimetre": "territoire", "non_renseigne": True, "valeur_realisee": None},
            {"partenaire": "France Travail", "perimetre": "territoire", "non_renseigne": False,
             "valeur_realisee": 12.0}]),
        manquants=["engagements — ARS Hauts-de-France"])
    out = synthese_ecrite(data)
    assert out["titre_alertes"] == "5 alertes"
    by_anchor = {a["ancre"]: a for a in out["alertes"]}
    assert set(by_anchor) == {"referentiel", "droit-commun", "tfpb", "qualite", "programmation"}
    late = by_anchor["referentiel"]
    assert late["texte"] == "1 indicateur du référentiel est en retard sur sa trajectoire."
    assert late["details"] == ["Taux d'emploi : 41,0\u00a0% pour une cible de 44,0\u00a0% en 2027"]
    silent = by_anchor["droit-commun"]
    assert silent["texte"].startswith("2 partenaires sont restés silencieux")
    assert silent["details"] == ["ARS Hauts-de-France : fichier d'engagements non reçu",
                                 "CAF du Nord : 2 engagements sans valeur réalisée"]
    tfpb = by_anchor["tfpb"]
    assert tfpb["texte"].startswith("1 couple bailleur-quartier couvre moins de 100\u00a0%")
    assert tfpb["details"] == ["SIGH — Les Argales : 98\u00a0% (979\u00a0€ pour 1\u202f000\u00a0€)"]
    assert by_anchor["qualite"]["texte"] == "1 fichier attendu n'a pas été reçu."
    assert by_anchor["qualite"]["details"] == ["Engagements des partenaires — ARS Hauts-de-France"]
    assert "40,0\u00a0% des dossiers" in by_anchor["programmation"]["texte"]
    assert "au moins 50\u00a0%" in by_anchor["programmation"]["texte"]


def test_plural_alerts(config):
    late = [{"code_indicateur": f"I{i}", "libelle": f"Indicateur {i}", "valeur": 1.0, "cible": 2.0,
             "statut": "en retard", "unite": "nombre"} for i in range(3)]
    data = make_data(config, referentiel=_ref(late),
                     tfpb=_tfpb([("SIGH", A, 1000.0, 900.0), ("Norévie", B, 1000.0, 500.0)]),
                     manquants=["tfpb — SIGH", "engagements — CAF du Nord"])
    texts = [a["texte"] for a in synthese_ecrite(data)["alertes"]]
    assert "3 indicateurs du référentiel sont en retard sur leur trajectoire." in texts
    assert any(t.startswith("2 couples bailleur-quartier couvrent moins") for t in texts)
    assert "2 fichiers attendus n'ont pas été reçus." in texts


def test_year_in_sentences_with_its_change(config):
    data = make_data(
        config,
        measures=_measures([("prog.montant_accorde", "territoire", None, 110000.0, "euros"),
                            ("prog.dossiers_accordes", "territoire", None, 1.0, "nombre"),
                            ("prog.montant_bop147", "territoire", None, 50000.0, "euros"),
                            ("prog.effet_levier_bop147", "territoire", None, 1.2, "ratio"),
                            ("prog.part_cpo_dossiers", "territoire", None, 60.0, "pourcentage"),
                            ("prog.part_cpo_montant", "territoire", None, 65.0, "pourcentage")]),
        before=_measures([("prog.montant_accorde", "territoire", None, 100000.0, "euros")]),
        referentiel=_ref([{"code_indicateur": "I1", "libelle": "x", "valeur": 1.0, "cible": 2.0, "statut": "atteint"},
                          {"code_indicateur": "I2", "libelle": "y", "valeur": 1.0, "cible": 2.0,
                           "statut": "non renseigné"},
                          {"code_indicateur": "I3", "libelle": "z", "valeur": 1.0, "cible": 2.0,
                           "statut": "non renseigné"}]))
    sentences = synthese_ecrite(data)["annee"]
    assert 1 <= len(sentences) <= 5
    assert sentences[0] == "En 2025, 1 dossier accordé a reçu 110\u202f000\u00a0€ de crédits, en hausse de " \
                           "10,0\u00a0% sur 2024."
    assert "chaque euro du BOP 147 entraîne 1,20 € d'autres crédits" in sentences[1]
    assert "au-dessus de l'objectif national de 50\u00a0%" in sentences[2]
    assert sentences[3] == "Sur les 3 indicateurs du référentiel d'évaluation : 1 atteint et 2 non renseignés."
    data.referentiel = data.referentiel.iloc[:1]
    assert synthese_ecrite(data)["annee"][3] == "Sur l'indicateur du référentiel d'évaluation : 1 atteint."


def test_missing_programmation_is_said(config):
    sentences = synthese_ecrite(make_data(config))["annee"]
    assert sentences == ["Aucune programmation n'a été reçue pour 2025 : les crédits de l'année ne peuvent être "
                         "présentés."]


def test_vigilance_names_the_objective_and_what_was_funded(config):
    data = make_data(
        config,
        measures=_measures([("prog.montant_accorde", "territoire", "OG.1.1", 112600.0, "euros"),
                            ("prog.dossiers_accordes", "territoire", "OG.1.1", 7.0, "nombre")]),
        referentiel=_ref([{"code_indicateur": "I1.5", "libelle": "Sorties positives à 12 mois", "valeur": 49.4,
                           "cible": 50.0, "statut": "en retard", "cle": "OG.1.1"},
                          {"code_indicateur": "I2.1", "libelle": "Couverture", "valeur": 50.0, "cible": 100.0,
                           "statut": "en retard", "objectifs": "OG.2.2"}]))
    first, second = synthese_ecrite(data)["vigilance"]
    assert first["indicateur"] == "Sorties positives à 12 mois"
    assert first["ecart"] == "49,4\u00a0% pour une cible de 50,0\u00a0% en 2027"
    assert first["objectif"].startswith("« Contribuer au plein emploi")
    assert first["finance"] == "112\u202f600\u00a0€ accordés en 2025 (7 dossiers)"
    assert second["objectif"] == "« Promouvoir l'économie sociale et solidaire »"
    assert second["finance"] == "aucun crédit programmé"


def test_vigilance_of_a_cpo_indicator_reads_that_cpo(config):
    prog = pd.DataFrame([
        {"numero_dossier": "D1", "code_objectif": "OG.1.1", "reference_cpo": "CPO-1", "porteur": "PLIE du Douaisis",
         "statut": "accorde", "code_qpv": A, "montant_accorde": 3000.0},
        {"numero_dossier": "D1", "code_objectif": "OG.1.1", "reference_cpo": "CPO-1", "porteur": "PLIE du Douaisis",
         "statut": "accorde", "code_qpv": B, "montant_accorde": 9000.0},
        {"numero_dossier": "D2", "code_objectif": "OG.1.2", "reference_cpo": None, "porteur": "Autre",
         "statut": "accorde", "code_qpv": A, "montant_accorde": 500.0}])
    data = make_data(config, programmation=prog, referentiel=_ref([
        {"code_indicateur": "I7.4", "libelle": "Sorties du PLIE", "valeur": 40.0, "cible": 50.0,
         "statut": "en retard", "cle": "CPO-1"}]))
    (v,) = synthese_ecrite(data)["vigilance"]
    assert v["finance"] == "12\u202f000\u00a0€ accordés en 2025 à la CPO de PLIE du Douaisis (1 dossier)"
    (v,) = synthese_ecrite(data, qpv=[A], commune="Aniche")["vigilance"]
    assert v["finance"].startswith("3\u202f000\u00a0€ accordés en 2025")


def test_commune_synthesis_reads_its_own_quartiers(config):
    data = make_data(
        config,
        measures=_measures([("prog.montant_dossier", A, "D1", 3000.0, "euros"),
                            ("prog.montant_dossier", B, "D1", 9000.0, "euros"),
                            ("prog.montant_accorde", A, None, 3000.0, "euros"),
                            ("prog.montant_par_habitant", A, None, 3.0, "euros"),
                            ("prog.montant_tous_qpv", A, None, 1000.0, "euros"),
                            ("tfpb.taux_couverture", A, None, 90.0, "pourcentage"),
                            ("tfpb.taux_couverture", B, None, 50.0, "pourcentage"),
                            ("prog.part_cpo_dossiers", "territoire", None, 20.0, "pourcentage")]),
        programmation=pd.DataFrame([{"numero_dossier": "D1", "code_objectif": "OG.1.1", "reference_cpo": None,
                                     "porteur": "X", "statut": "accorde", "code_qpv": A, "montant_accorde": 3000.0}]),
        tfpb=_tfpb([("SIGH", A, 1000.0, 900.0), ("Norévie", B, 1000.0, 500.0)]))
    out = synthese_ecrite(data, qpv=[A], commune="Aniche")
    assert out["annee"] == [
        "En 2025, 1 action accordée vise le quartier prioritaire de la commune (Les Argales) pour 3\u202f000\u00a0€, "
        "soit 3,00\u00a0€ par habitant.",
        "Ce montant comprend 1\u202f000\u00a0€ au titre des actions menées pour tous les quartiers du contrat, "
        "réparties au prorata de la population.",
        "Les bailleurs sociaux ont valorisé leur abattement de TFPB à hauteur de 90,0\u00a0% (Les Argales) ; 1 couple "
        "bailleur-quartier reste sous 100\u00a0%."]
    (tfpb,) = out["alertes"]  # the commune's landlord line only; the contract's CPO share is not the commune's
    assert tfpb["texte"].startswith("1 couple bailleur-quartier") and tfpb["ancre"] == f"qpv-{A}"
    assert tfpb["details"] == ["SIGH — Les Argales : 90\u00a0% (900\u00a0€ pour 1\u202f000\u00a0€)"]
    late = synthese_ecrite(make_data(config, referentiel=_ref([
        {"code_indicateur": "I1", "libelle": "x", "valeur": 1.0, "cible": 2.0, "statut": "en retard"}])),
        qpv=[A], commune="Aniche")["alertes"][0]
    assert late["ancre"] is None and late["renvoi"] == "le bilan du territoire"  # no such section in its bilan
    assert out["axes"][0]["phrases"][0].startswith("3\u202f000\u00a0€ accordés à des actions qui visent la commune")


# --- glossary -----------------------------------------------------------------------------------------


def test_glossary_loads_sorted_with_the_acronyms_of_the_bilan(config):
    sigles = [s.sigle for s in config.glossaire.tries()]
    assert sigles == sorted(sigles)
    assert {"EPICE", "AVIP", "PEC", "CEJ", "ERBM", "PLIE", "GUP", "QPV", "CPO", "TFPB", "COPIL",
            "BOP 147"} <= set(sigles)


@pytest.mark.parametrize("entry, message", [
    ({"sigle": "QPV", "definition": "Quartier prioritaire encore"}, "en double"),
    ({"sigle": "XYZ", "definition": "une définition sans majuscule"}, "majuscule"),
    ({"sigle": "XYZ", "definition": "Courte", "autre": 1}, "clé inconnue"),
])
def test_glossary_is_validated_at_load(tmp_path, entry, message):
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    glossary = yaml.safe_load((target / "glossaire.yaml").read_text(encoding="utf-8"))
    glossary["sigles"].append(entry)
    (target / "glossaire.yaml").write_text(yaml.safe_dump(glossary, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message) as err:
        _ = ProjectConfig(target).glossaire
    assert "glossaire.yaml" in str(err.value)


def test_a_small_change_is_called_stable_by_the_settings_threshold(config):
    def first_sentence(now: float, seuils: dict | None = None) -> str:
        data = make_data(config,
                         measures=_measures([("prog.montant_accorde", "territoire", None, now, "euros"),
                                             ("prog.dossiers_accordes", "territoire", None, 2.0, "nombre")]),
                         before=_measures([("prog.montant_accorde", "territoire", None, 100000.0, "euros")]))
        data.seuils.update(seuils or {})
        return synthese_ecrite(data)["annee"][0]

    assert first_sentence(98000.0).endswith("stable par rapport à 2024 (\u22122,0\u00a0%).")
    assert first_sentence(98000.0, {"evolution_notable": 1}).endswith("en baisse de 2,0\u00a0% sur 2024.")
