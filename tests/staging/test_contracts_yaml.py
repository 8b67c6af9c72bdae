"""Contracts as data: each family is its YAML (config/contrats/), validated when loaded; a family needs no Python
to stage; its code version follows its contract and code, and the read cache with it."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

from assets.staging.load import read_deposit
from core.common import code_version
from core.config.base import PROJECT_ROOT, ConfigurationError
from core.config.projet import ProjectConfig
from core.familles.family import Lot, attach_provenance, parse_file, validate_lot, validate_set, with_provenance
from core.familles.registry import FAMILIES, build_families
from tests.conftest import write_csv


def _config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    return target


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _column(data: dict, name: str, table: int = 0) -> dict:
    return next(c for c in data["tables"][table]["colonnes"] if c["nom"] == name)


# --- a family defined by YAML alone ---------------------------------------------------------------

TOY = {
    "description": "Ateliers de quartier (famille de test).",
    "tables": [{
        "table": "ateliers",
        "cle": ["atelier", "annee"],
        "colonnes": [
            {"nom": "atelier", "obligatoire": True, "casse": "majuscules"},
            {"nom": "annee", "type": "entier", "obligatoire": True, "annee_boite": True},
            {"nom": "code_qpv", "qpv": {}},
            {"nom": "public", "type": "choix", "domaine": "sexes"},
            {"nom": "participants", "type": "entier", "minimum": 0, "maximum": 50, "alias": ["inscrits"]},
        ],
    }],
}


@pytest.fixture
def toy_config(tmp_path) -> ProjectConfig:
    cfg_dir = _config_copy(tmp_path)
    _edit(cfg_dir / "vocabulaire.yaml", lambda d: d["familles"].append({"code": "ateliers", "libelle": "ateliers"}))
    (cfg_dir / "contrats" / "ateliers.yaml").write_text(yaml.safe_dump(TOY, allow_unicode=True), encoding="utf-8")
    return ProjectConfig(cfg_dir)


def test_a_family_defined_by_yaml_alone_stages_with_declared_rules(tmp_path, ctx, toy_config):
    families = build_families(toy_config)
    family = families["ateliers"]
    assert list(families)[-1] == "ateliers"   # the vocabulary's order
    assert (family.row_rules, family.set_rules, family.prepare) == (None, None, None)
    good = {"atelier": "Couture", "annee": "2025", "code_qpv": "QP059036", "public": "f", "inscrits": "12"}
    rows = [
        good,                                                  # line 2: clean (2015 code mapped, choice canonical)
        {**good, "atelier": "Cuisine", "annee": "2024"},       # 3: annee_boite
        {**good, "atelier": "Danse", "code_qpv": "QM05936M"},  # 4: qpv_inconnu
        {**good, "atelier": "Échecs", "inscrits": "60"},       # 5: valeur_maximale
        {**good, "atelier": "Jardin", "public": "X"},          # 6: valeur_autorisee
        {**good, "atelier": "couture"},                        # 7: cle_dupliquee (same key once in capitals)
        {**good, "atelier": ""},                               # 8: valeur_obligatoire
        {**good, "atelier": "Théâtre", "inscrits": "beaucoup"},  # 9: type_nombre
    ]
    path = write_csv(tmp_path / "ateliers_2025.csv", rows)
    assert families and FAMILIES.get("ateliers") is None
    parsed = attach_provenance(parse_file(family, path, ctx), "sha", 0)
    result = validate_set(family, [parsed], ctx)

    clean = result.clean["ateliers"]
    assert list(clean["_ligne"]) == [2]
    assert clean.iloc[0][["atelier", "code_qpv", "public", "participants"]].tolist() == ["COUTURE", "QN05936M", "F", 12]
    quarantine = result.quarantine["ateliers"].set_index("_ligne")["regles"].to_dict()
    assert quarantine == {3: "annee_boite", 4: "qpv_inconnu", 5: "valeur_maximale", 6: "valeur_autorisee",
                          7: "cle_dupliquee", 8: "valeur_obligatoire", 9: "type_nombre"}
    errors = result.errors.set_index("ligne")
    assert errors.loc[5, "message"] == "« 60 » : la valeur doit être inférieure ou égale à 50"
    assert "QN05936M ?" in errors.loc[4, "message"]
    assert set(result.errors["gravite"]) == {"erreur"}
    assert family.describe("annee_boite") == "l'année ne correspond pas à l'année de la boîte de dépôt"


def test_a_yaml_only_family_cannot_declare_a_rule_no_code_applies(toy_config):
    path = toy_config.dir / "contrats" / "ateliers.yaml"
    _edit(path, lambda d: d.update(regles={"atelier_complet": {"description": "atelier complet",
                                                              "que_faire": "Ouvrez un second groupe."}}))
    with pytest.raises(ConfigurationError) as err:
        build_families(ProjectConfig(toy_config.dir))
    assert str(path) in str(err.value) and "`regles.atelier_complet`" in str(err.value)
    assert "aucun module core/familles/ateliers.py" in str(err.value)


# --- descriptions, what to do and severity: said once, in the YAML ----------------------------------


def test_descriptions_and_what_to_do_come_from_the_contracts(config):
    shared = yaml.safe_load((config.dir / "contrats" / "_regles_communes.yaml").read_text(encoding="utf-8"))
    own = yaml.safe_load((config.dir / "contrats" / "programmation.yaml").read_text(encoding="utf-8"))
    family = FAMILIES["programmation"]
    assert family.describe("siret_invalide") == own["regles"]["siret_invalide"]["description"]
    assert family.que_faire("cle_dupliquee") == shared["regles"]["cle_dupliquee"]["que_faire"]
    assert family.que_faire("fichier_refuse") == shared["regles"]["fichier_refuse"]["que_faire"]
    # every family knows the shared rules; a family's own rule belongs to it alone
    assert all(f.que_faire("valeur_obligatoire") for f in FAMILIES.values())
    assert FAMILIES["engagements"].describe("siret_invalide") == "siret_invalide"
    assert family.description == own["description"]


def test_severity_is_the_contracts(tmp_path, ctx):
    cfg_dir = _config_copy(tmp_path)
    _edit(cfg_dir / "contrats" / "programmation.yaml",
          lambda d: d["regles"]["montant_superieur_demande"].update(gravite="erreur"))
    family = build_families(ProjectConfig(cfg_dir))["programmation"]
    from tests.staging.test_contract_rules import BASE

    path = write_csv(tmp_path / "programmation_2025.csv", [{**BASE["programmation"], "montant_accorde": "12000"}])
    result = validate_set(family, [attach_provenance(parse_file(family, path, ctx), "sha", 0)], ctx)
    assert result.clean["programmation"].empty      # the shipped contract keeps it with a warning
    assert list(result.quarantine["programmation"]["regles"]) == ["montant_superieur_demande"]


def test_montant_verse_above_montant_accorde_is_an_error(tmp_path, ctx):
    from tests.staging.test_contract_rules import BASE

    family = FAMILIES["programmation"]
    rows = [{**BASE["programmation"], "montant_verse": "8000"},
            {**BASE["programmation"], "numero_dossier": "2025-00002", "montant_verse": "8 500,00 €"},
            {**BASE["programmation"], "numero_dossier": "2025-00003", "montant_verse": ""}]
    result = validate_set(family, [attach_provenance(parse_file(family, write_csv(
        tmp_path / "programmation_2025.csv", rows), ctx), "sha", 0)], ctx)
    assert list(result.clean["programmation"]["_ligne"]) == [2, 4]
    assert result.clean["programmation"]["montant_verse"].isna().iloc[1]   # empty = not known, never 0
    bad = result.errors[result.errors["ligne"] == 3]
    assert list(bad[["colonne", "regle"]].itertuples(index=False, name=None)) == [
        ("montant_verse", "versement_superieur_accorde")]


# --- validated when loaded ------------------------------------------------------------------------


def _add_column(column: dict):
    return lambda d: d["tables"][0]["colonnes"].append(column)


@pytest.mark.parametrize("family,change,message", [
    ("engagements", _add_column({"nom": "public", "type": "choix", "domaine": "publics"}),
     "domaine « publics » absent de vocabulaire.yaml"),
    ("engagements", _add_column({"nom": "public", "type": "choix"}), "un `choix` a un `domaine`"),
    ("engagements", _add_column({"nom": "unite2", "type": "choix", "domaine": "unites", "valeurs": ["kg"]}),
     "valeur(s) hors du domaine `unites` de vocabulaire.yaml : kg"),
    ("engagements", _add_column({"nom": "partenaire", "type": "texte"}), "colonne(s) en double : partenaire"),
    ("engagements", _add_column({"nom": "autre", "alias": ["cible"]}), "nom ou alias cité deux fois : cible"),
    ("engagements", lambda d: d["tables"][0]["cle"].append("quartier"),
     "colonne(s) de la clé absente(s) des colonnes : quartier"),
    ("engagements", _add_column({"nom": "note", "type": "texte", "maximum": 5}), "réservés aux nombres"),
    ("engagements", _add_column({"nom": "note", "type": "nombre", "couleur": "bleu"}), "clé inconnue"),
    ("tfpb", lambda d: d["regles"].update(valeur_obligatoire={"description": "x", "que_faire": "y"}),
     "règle déjà définie dans _regles_communes.yaml"),
    ("cohortes", lambda d: d["regles"].update(siret_invalide={"description": "x", "que_faire": "y"}),
     "règle déjà définie dans programmation.yaml"),
    ("indicateurs", lambda d: _column(d, "code_geo")["motifs_selon"]["motifs"].update(canton=r"^\d+$"),
     "valeur(s) hors de la liste de « niveau_geo » : canton"),
    ("bilans_actions", lambda d: d.update(depend_de=["subventions"]), "`depend_de.0`"),
])
def test_invalid_contract_is_refused_naming_file_and_key(tmp_path, family, change, message):
    cfg_dir = _config_copy(tmp_path)
    path = cfg_dir / "contrats" / f"{family}.yaml"
    _edit(path, change)
    with pytest.raises(ConfigurationError) as err:
        assert ProjectConfig(cfg_dir).contrats is None  # never reached: loading raises
    assert str(path) in str(err.value) and message in str(err.value), str(err.value)


def test_a_rule_the_code_uses_must_be_declared(tmp_path):
    cfg_dir = _config_copy(tmp_path)
    _edit(cfg_dir / "contrats" / "programmation.yaml", lambda d: d["regles"].pop("siret_invalide"))
    with pytest.raises(ConfigurationError) as err:
        build_families(ProjectConfig(cfg_dir))
    text = str(err.value)
    assert "programmation.py, ligne" in text and "« siret_invalide »" in text and "programmation.yaml" in text


def test_a_contract_without_a_family_is_refused(tmp_path):
    cfg_dir = _config_copy(tmp_path)
    (cfg_dir / "contrats" / "subventions.yaml").write_text(yaml.safe_dump(TOY), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="subventions.yaml"):
        assert ProjectConfig(cfg_dir).contrats is None  # never reached: loading raises


# --- code version and read cache ------------------------------------------------------------------


def test_staging_assets_carry_the_family_code_version():
    from pipelines.definitions import ALL_ASSETS

    for asset in [a for a in ALL_ASSETS if a.key.path[0] == "staging" and a.key.path[-1] in FAMILIES]:
        (key, version), = asset.code_versions_by_key.items()
        assert version == FAMILIES[key.path[-1]].version
    assert len({f.version for f in FAMILIES.values()}) == len(FAMILIES)


def test_code_version_follows_the_code_its_rules_run(tmp_path):
    source = tmp_path / "regles.py"
    source.write_text("LIMIT = 100\n")
    before = code_version(source, payload={"a": 1})
    assert code_version(source, payload={"a": 1}) == before
    source.write_text("LIMIT = 90\n")
    assert code_version(source, payload={"a": 1}) != before
    assert code_version(source, payload={"a": 2}) != code_version(source, payload={"a": 1})


def test_a_comment_in_the_contract_does_not_change_the_version(tmp_path):
    cfg_dir = _config_copy(tmp_path)
    path = cfg_dir / "contrats" / "engagements.yaml"
    path.write_text("# relu en comité technique\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert build_families(ProjectConfig(cfg_dir))["engagements"].version == FAMILIES["engagements"].version


def test_an_edited_rule_is_not_served_from_the_read_cache(tmp_path, ctx):
    from tests.staging.test_contract_rules import BASE

    path = write_csv(tmp_path / "engagements_cpam.csv", [BASE["engagements"]])   # valeur_cible 1800
    deposit = {"territoire": "ccco", "nom_fichier": path.name, "version": 1, "chemin_archive": str(path),
               "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    cache = tmp_path / "cache"
    family = FAMILIES["engagements"]
    def errors(fam, outcome):
        result = validate_lot(fam, [with_provenance(outcome.parsed, "ccco", deposit["sha256"], 0)], Lot.of(ctx))
        return result.errors

    first = read_deposit(family, deposit, ctx, cache)
    again = read_deposit(family, deposit, ctx, cache)
    assert (first.from_cache, again.from_cache) == (False, True)
    assert errors(family, again).empty

    cfg_dir = _config_copy(tmp_path)
    _edit(cfg_dir / "contrats" / "engagements.yaml", lambda d: _column(d, "valeur_cible").update(maximum=1000))
    edited = build_families(ProjectConfig(cfg_dir))["engagements"]
    assert edited.version != family.version
    after = read_deposit(edited, deposit, ctx, cache)
    assert not after.from_cache
    found = errors(edited, after)
    assert list(found[["ligne", "colonne", "regle"]].itertuples(index=False, name=None)) == [
        (2, "valeur_cible", "valeur_maximale")]
    assert read_deposit(edited, deposit, ctx, cache).from_cache       # and the new result is cached in turn
