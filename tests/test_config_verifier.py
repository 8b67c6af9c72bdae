"""`bilan config verifier` (issue 31, items 1 and 3): every territory checked against the national references —
Etalab's « découpage administratif » (EPCI, SIREN, member communes) and the 2024 QPV layer — without running
anything. A second territory, La Porte du Hainaut, is written the way a steward would, with the mistakes the issue
found; each gets its French message naming the file, the key and the nearest valid value."""

from __future__ import annotations

import pytest

from core.config.base import ConfigurationError
from core.config.projet import ProjectConfig
from core.config_check import A_VERIFIER, ERREUR, check_configuration
from core.decoupage import load_decoupage
from pipelines.cli import main
from tests.conftest import config_copy

CAPH = """\
code: caph
nom: Communauté d'agglomération de la Porte du Hainaut
nom_court: CAPH
siren_epci: "{siren}"
departement: "59"
contrat: {{intitule: "Contrat de ville « Engagements Quartiers 2030 »", annee_debut: 2024, annee_fin: 2030}}
referentiel: ccco
catalogue_indicateurs: compas_qpv
communes:
  - {{code_insee: "59172", nom: Denain, population: 19000}}
  - {{code_insee: "59205", nom: Escaudain, population: 9300}}
  - {{code_insee: "59361", nom: Lourches, population: 3800}}
  - {{code_insee: "59504", nom: Rœulx, population: 3500}}
  - {{code_insee: "{wallers}", nom: Wallers, population: 5500}}
qpv:
  - {{code: QN05950M, nom: Denain, communes: ["59172"], population: 5200}}
  - {{code: QN05952M, nom: Schneider, communes: {schneider}, population: 2100}}
  - {{code: {typo}, nom: Couture Savonnerie, communes: ["59205"], population: 1500}}
"""


def _config(tmp_path, siren="200042190", wallers="59632", schneider='["59205", "59361", "59504"]',
            typo="QN05953M") -> ProjectConfig:
    config = config_copy(tmp_path)
    text = CAPH.format(siren=siren, wallers=wallers, schneider=schneider, typo=typo)
    (config.dir / "territoires" / "caph.yaml").write_text(text, encoding="utf-8")
    return ProjectConfig(config.dir)


def _errors(config: ProjectConfig, territoire: str = "caph") -> list[str]:
    found, missing = check_configuration(config, [territoire])
    assert missing == []
    return [f"{f.cle} : {f.message}" for f in found if f.gravite == ERREUR]


def test_the_references_give_an_epci_its_siren_and_communes(config):
    decoupage = load_decoupage(config)
    assert decoupage is not None and decoupage.millesime == 2026
    caph = decoupage.epci["200042190"]
    assert caph.nom == "CA de la Porte du Hainaut" and len(caph.membres) == 47
    assert [e.siren for e in decoupage.search("porte du hainaut")] == ["200042190"]
    assert decoupage.communes["59172"].nom == "Denain"


def test_a_territory_right_by_the_references_has_no_error(tmp_path):
    config = _config(tmp_path)
    assert _errors(config) == []
    found, _ = check_configuration(config, ["caph"])
    # the points to check are said: 43 communes of the EPCI not listed (those without a QPV may stay out)
    assert [f.cle for f in found if f.gravite == A_VERIFIER] == ["communes"]


def test_the_demo_territory_has_no_error_and_says_what_to_check(config):
    found, missing = check_configuration(config)
    assert missing == [] and [f for f in found if f.gravite == ERREUR] == []
    keys = {f.cle for f in found}
    # the EPCI became a communauté d'agglomération; Émerchicourt is declared out of it by the references, and why
    assert {"nom", "communes.4"} <= keys


def test_a_wrong_siren_names_the_epci_of_the_communes(tmp_path):
    errors = _errors(_config(tmp_path, siren="245900410"))
    assert errors == ["siren_epci : SIREN « 245900410 » inconnu du découpage administratif 2026 (EPCI à fiscalité "
                      "propre) ; ses communes sont dans CA de la Porte du Hainaut (SIREN 200042190)"]


def test_a_commune_outside_the_epci_is_refused_with_the_nearest_member(tmp_path):
    errors = _errors(_config(tmp_path, wallers="59574"))   # Somain's code typed for Wallers
    assert errors == ["communes.4.code_insee : « 59574 » (Wallers) n'est pas une commune de CA de la Porte du "
                      "Hainaut : le découpage administratif la place dans CA Coeur d'Ostrevent — vouliez-vous "
                      "dire « 59632 » (Wallers) ? ; si la commune est au contrat malgré tout, dites pourquoi avec "
                      "`hors_epci`"]


def test_a_qpv_of_another_territory_is_refused(tmp_path):
    # QN05935M is a quartier of the CCCO (Auberchicourt, Écaillon, Masny), typed for Couture Savonnerie
    errors = _errors(_config(tmp_path, typo="QN05935M"))
    assert any(e.startswith("qpv.2.code : « QN05935M » (Quartier Prioritaire D'Auberchicourt Et Ecaillon) est un QPV "
                            "d'autres communes") and "vouliez-vous dire « QN05953M » ?" in e for e in errors), errors


def test_a_qpv_whose_communes_differ_from_the_layer_is_refused(tmp_path):
    errors = _errors(_config(tmp_path, schneider='["59205"]'))
    assert "qpv.1.communes : 59205 ; la couche nationale donne 59205, 59361, 59504 pour QN05952M" in errors


def test_a_qpv_claimed_by_two_territories_is_refused(tmp_path):
    config = _config(tmp_path, typo="QN05940M")   # Somain's QPV, a CCCO quartier
    errors = _errors(config)
    assert any(e.startswith("qpv.2.code : QN05940M est aussi déclaré par le territoire ccco") for e in errors)


def test_the_command_prints_in_french_and_exits_2_on_an_error(tmp_path, capsys):
    config = _config(tmp_path, typo="QN05935M")
    assert main(["config", "verifier", "--config", str(config.dir), "--territoire", "caph"]) == 2
    err = capsys.readouterr().err
    assert "Erreur : " in err and "caph.yaml : clé `qpv.2.code`" in err
    assert "Que faire : corrigez les clés nommées, puis relancez." in err
    assert main(["config", "verifier", "--territoire", "ccco"]) == 0
    assert "Aucune erreur : configuration conforme aux références nationales (ccco)." in capsys.readouterr().out


SHARED = """
  - {{code: QN05920M, nom: "Verrerie - Square République", communes: ["59014", "59491"], population: 2400{partage}}}
"""


def _with_shared(tmp_path, partage: str) -> ProjectConfig:
    config = _config(tmp_path)
    path = config.dir / "territoires" / "caph.yaml"
    text = path.read_text(encoding="utf-8").replace(
        '  - {code_insee: "59504", nom: Rœulx, population: 3500}\n',
        '  - {code_insee: "59504", nom: Rœulx, population: 3500}\n  - {code_insee: "59491", nom: Raismes, '
        'population: 12600}\n')
    path.write_text(text + SHARED.format(partage=partage).lstrip("\n"), encoding="utf-8")
    return ProjectConfig(config.dir)


def test_a_qpv_shared_with_another_epci_is_declared_as_such(tmp_path):
    # Verrerie spans Anzin (Valenciennes Métropole) and Raismes (CAPH): undeclared, Anzin is not the contract's
    with pytest.raises(ConfigurationError, match=r"qpv QN05920M : commune\(s\) 59014 absente\(s\) de la liste "
                                                 r"`communes` \(un QPV partagé avec un autre EPCI le déclare avec "
                                                 r"`partage`\)"):
        assert _with_shared(tmp_path / "a", "").territoires is None
    config = _with_shared(tmp_path / "b", ", partage: {avec: CA Valenciennes Métropole, part_population: 0.4}")
    found, _ = check_configuration(config, ["caph"])
    assert [f for f in found if f.gravite == ERREUR] == [] and not [f for f in found if f.cle == "qpv.3"]
    caph = config.territoire("caph")
    assert "59014" not in caph.communes_avec_qpv and "59491" in caph.communes_avec_qpv
    # declared shared while the layer puts it inside the EPCI: a point to check
    config = _config(tmp_path / "c", typo="QN05953M")
    path = config.dir / "territoires" / "caph.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'communes: ["59205"], population: 1500}', 'communes: ["59205"], population: 1500, partage: {avec: '
        'CA Valenciennes Métropole, part_population: 0.5}}'), encoding="utf-8")
    found, _ = check_configuration(ProjectConfig(config.dir), ["caph"])
    assert [f.cle for f in found if f.gravite == A_VERIFIER and "partagé" in f.message] == ["qpv.2.partage"]


def test_a_territory_whose_communes_are_in_no_epci_gets_its_siren_to_check_not_an_error():
    """Saint-Martin and the communes of French Polynesia belong to no EPCI à fiscalité propre: the contract's
    signatory is another body, which the EPCI list cannot confirm."""
    from types import SimpleNamespace

    from core.config_check import _epci
    from core.decoupage import CommuneCog, Decoupage

    decoupage = Decoupage(origine="essai", millesime=2026, epci={},
                          communes={"98735": CommuneCog("98735", "Papeete", "987", 26_000)})
    papeete = SimpleNamespace(siren_epci="248755324", nom="Papeete", communes=[SimpleNamespace(code_insee="98735")])
    (constat,) = _epci(papeete, "t987.yaml", decoupage)
    assert constat.gravite == A_VERIFIER and "non vérifiable" in constat.message
    unknown = SimpleNamespace(siren_epci="248755324", nom="X", communes=[SimpleNamespace(code_insee="93059")])
    (constat,) = _epci(unknown, "t093.yaml", decoupage)     # a commune the references no longer know
    assert constat.gravite == ERREUR and "inconnu du découpage administratif" in constat.message


def test_a_commune_merged_since_the_qpv_layer_is_read_as_its_new_commune(config):
    """The 2024 QPV layer names Pierrefitte-sur-Seine (93059), part of Saint-Denis (93066) since 1 January 2025
    (a « commune déléguée » of the COG 2026): a QPV declared on Saint-Denis is right, as is one that copies the
    layer; another commune is refused, and the message says which commune the layer's became."""
    from types import SimpleNamespace

    from core.config_check import _qpv
    from core.reference import load_reference

    decoupage, reference = load_decoupage(config), load_reference(config)
    assert decoupage.actuelle("93059") == "93066" and decoupage.actuelle("59008") == "59008"
    mgp = decoupage.epci["200054781"]

    def findings(communes: list[str]) -> list[str]:
        t = SimpleNamespace(siren_epci=mgp.siren, codes_qpv={"QN09336I"},
                            communes=[SimpleNamespace(code_insee=c) for c in sorted(mgp.codes_communes)],
                            qpv=[SimpleNamespace(code="QN09336I", nom="Joncherolles - Fauvettes", communes=communes,
                                                 partage=None)])
        return [f"{c.cle} : {c.message}" for c in _qpv(t, "mgp.yaml", reference, decoupage)]

    assert findings(["93066"]) == [] and findings(["93059"]) == []
    assert findings(["93072"]) == ["qpv.0.communes : 93072 ; la couche nationale donne 93059 pour QN09336I "
                                   "(93059, devenue 93066)"]


def test_a_run_of_one_territory_is_not_stopped_by_another_territorys_error(tmp_path, capsys, monkeypatch):
    """A steward's run of their own territory checks their territory; a national run checks them all."""
    import types
    from pathlib import Path

    import dagster

    import pipelines.cli as cli
    from tests.conftest import TEST_KEY

    config = _config(tmp_path, siren="245900410")
    assert _errors(config)
    monkeypatch.setenv("BILAN_CLE_PSEUDONYMISATION", TEST_KEY)
    monkeypatch.setattr(dagster, "materialize", lambda *args, **kwargs: types.SimpleNamespace(success=True,
                                                                                             run_id="run-1"))
    monkeypatch.setattr(cli, "_summary", lambda *args, **kwargs: None)
    demo = Path(__file__).resolve().parent.parent / "data" / "demo"
    argv = ["run", "--annee", "2025", "--donnees", str(demo), "--sortie", str(tmp_path / "sortie"),
            "--config", str(config.dir)]
    assert main([*argv, "--territoire", "ccco"]) == 0
    assert "Configuration en contradiction" not in capsys.readouterr().err
    assert main(argv) == 2
    assert "Configuration en contradiction avec les références nationales : 1 erreur(s)" in capsys.readouterr().err
