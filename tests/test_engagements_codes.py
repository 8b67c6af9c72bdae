"""Partners' commitments are matched to the referential by stable codes (config/referentiels/ccco.yaml
`partenaires`, with the spellings partners really use), never by free text; a commitment given QPV by QPV without a
territory line has a territory value where it adds up (counts, euros: « partiel : 2 QPV sur 3 ») and none for a
rate, which is then never « non renseigné ». A hand-made inbox: every figure below is computed in the comments."""

from __future__ import annotations

import re
import shutil

import duckdb
import pytest
import yaml
from dagster import DagsterInstance, materialize

from core.config.base import PROJECT_ROOT, ConfigurationError
from core.config.projet import ProjectConfig
from core.resources import BilanSettings, warehouse
from pipelines.definitions import ALL_ASSETS, WITHOUT_BILAN

# What partners wrote: other spellings of the referential's names (accents, case, an alias), per QPV lines.
HEADER = ("partenaire,type_partenaire,annee,code_objectif,engagement,indicateur,unite,valeur_cible,valeur_realisee,"
          "code_qpv,montant_droit_commun,commentaire")
PASS_SPORT = "Part des jeunes éligibles des QPV bénéficiaires du pass sport"
ROWS = [  # partenaire, indicateur, unite, cible, réalisé, QPV
    ("Pôle emploi", "DE QPV accompagnés", "nombre", "100", "90", "QN05934M"),
    ("Pôle emploi", "DE QPV accompagnés", "nombre", "50", "", "QN05935M"),
    ("Pôle emploi", "DE QPV accompagnés", "nombre", "40", "44", "QN05936M"),
    ("PREFECTURE DU NORD", PASS_SPORT, "pourcentage", "100", "40", "QN05934M"),
    ("PREFECTURE DU NORD", PASS_SPORT, "pourcentage", "100", "", "QN05935M"),
    ("PREFECTURE DU NORD", PASS_SPORT, "pourcentage", "100", "50", "QN05936M"),
    ("CPAM de Lille-Douai", "bilans de santé EPICE réalisés", "nombre", "350", "314", ""),
    ("Amicale des locataires", "fêtes organisées", "nombre", "2", "2", ""),
]
ENGAGEMENTS = "\n".join([HEADER] + [f"{p},association,2025,OG.1.1,engagement,{i},{u},{c},{r},{q},,"
                                     for p, i, u, c, r, q in ROWS])

SELECTION = WITHOUT_BILAN  # every mart: the measures read them all


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root = tmp_path_factory.mktemp("engagements_codes")
    inbox = root / "inbox" / "ccco" / "2025"
    inbox.mkdir(parents=True)
    (inbox / "engagements_2025_partenaires.csv").write_text(ENGAGEMENTS, encoding="utf-8")
    parametres = BilanSettings(racine_donnees=str(root), sortie=str(root / "sortie"))
    result = materialize(ALL_ASSETS, partition_key="2025", instance=DagsterInstance.ephemeral(), selection=SELECTION,
                         resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)})
    assert result.success
    connection = duckdb.connect(str(parametres.warehouse_path), read_only=True)
    yield connection
    connection.close()


def _measure(con, code, cle, perimetre="territoire"):
    rows = con.execute("SELECT valeur FROM referentiel.mesures WHERE annee = 2025 AND code_mesure = ? AND cle = ? "
                       "AND perimetre = ?", [code, cle, perimetre]).fetchall()
    return rows[0][0] if rows else None


def _indicator(con, code):
    return con.execute("SELECT valeur, statut, raison FROM referentiel.indicateurs WHERE annee = 2025 "
                       "AND code_indicateur = ?", [code]).fetchone()


def test_aliases_and_spellings_match_the_referential_codes(con):
    rows = dict(con.execute("SELECT cle, partenaire FROM marts.engagements WHERE annee = 2025 "
                            "AND perimetre = 'territoire'").fetchall())
    # « Pôle emploi » is an alias of France Travail, « CPAM de Lille-Douai » of the CPAM, « PREFECTURE DU NORD » its
    # name in capitals: each gets its code and the referential's name
    assert rows["france_travail.de_accompagnes"] == "France Travail"
    assert rows["cpam_lille_douai.bilans_epice"] == "CPAM Lille-Douai"
    # I3.4 reads the CPAM's commitment through its code: 314 bilans, not « absent des fichiers »
    assert _indicator(con, "I3.4")[0] == 314
    # a partner the referential does not declare is kept under its normalised name, cited by no indicator
    undeclared = con.execute("SELECT cle, declare FROM marts.engagements WHERE annee = 2025 "
                             "AND partenaire = 'Amicale des locataires'").fetchall()
    assert undeclared == [("amicale_des_locataires.fetes_organisees", False)]


def test_counts_given_per_qpv_add_up_to_a_partial_territory_value(con):
    key = "france_travail.de_accompagnes"
    assert _measure(con, "engagement.realise", key) == 90 + 44        # the two QPV that reported
    assert _measure(con, "engagement.cible", key) == 100 + 50 + 40     # the whole commitment
    # achievement against the target of the same two QPV: 134 / 140
    assert _measure(con, "engagement.taux_realisation", key) == pytest.approx(100 * 134 / 140)
    assert (_measure(con, "engagement.qpv_renseignes", key), _measure(con, "engagement.qpv_engages", key)) == (2, 3)
    row = con.execute("SELECT partiel, non_renseigne, agregat FROM marts.engagements WHERE annee = 2025 AND cle = ? "
                      "AND perimetre = 'territoire'", [key]).fetchone()
    assert row == (True, False, "somme")
    value, status, reason = _indicator(con, "I1.3")                    # France Travail's commitment in the referential
    assert value == 134 and status != "non renseigné", reason
    # nothing here is « non renseigné »: France Travail reported 2 QPV of 3, the CPAM and the Amicale their total
    assert con.execute("SELECT valeur FROM referentiel.mesures WHERE annee = 2025 AND code_mesure = "
                       "'engagements.non_renseignes'").fetchone()[0] == 0


def test_a_rate_given_per_qpv_has_no_territory_value_and_is_not_non_renseigne(con):
    key = "prefecture_nord.pass_sport"
    assert _measure(con, "engagement.realise", key) is None            # 40 % and 50 % are never added
    assert _measure(con, "engagement.realise", key, "QN05934M") == 40
    value, status, reason = _indicator(con, "I4.1")
    assert value is None and status == "détail par QPV"
    assert reason.startswith("taux donné QPV par QPV (40,0 % à 50,0 %, 2 QPV sur 3)")


def _edit_referential(tmp_path, change):
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    path = target / "referentiels" / "ccco.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target, path


def _partner(data, code):
    return next(p for p in data["partenaires"] if p["code"] == code)


@pytest.mark.parametrize("change,message", [
    (lambda d: _partner(d, "caf_nord")["alias"].append("Pôle Emploi"),
     "partenaires.2 (caf_nord) : « Pôle Emploi » désigne déjà le partenaire « france_travail »"),
    (lambda d: _partner(d, "france_travail")["indicateurs"][1].update(alias=["DEMANDEURS D'EMPLOI QPV ACCOMPAGNÉS"]),
     "« DEMANDEURS D'EMPLOI QPV ACCOMPAGNÉS » désigne déjà l'indicateur « de_accompagnes »"),
    (lambda d: _partner(d, "cpam_lille_douai").update(code="CPAM"), "partenaires.3.code"),
])
def test_partner_codes_and_aliases_are_validated_when_loaded(tmp_path, change, message):
    cfg_dir, path = _edit_referential(tmp_path, change)
    with pytest.raises(ConfigurationError) as err:
        ProjectConfig(cfg_dir).referentiel("ccco")
    assert str(path) in str(err.value) and message in str(err.value)


def test_an_indicator_citing_an_undeclared_commitment_is_refused_with_a_hint(tmp_path):
    def change(data):
        data["questions"][0]["indicateurs"][2]["cle"] = "france_travail.de_accompagne"
    cfg_dir, path = _edit_referential(tmp_path, change)
    with pytest.raises(ConfigurationError, match=re.escape(
            "`questions.0.indicateurs.2.cle` (I1.3) : engagement « france_travail.de_accompagne » non déclaré dans "
            "`partenaires` (code_partenaire.code_indicateur) — vouliez-vous dire « france_travail.de_accompagnes » ?")):
        _ = ProjectConfig(cfg_dir).territoires


def test_free_text_keys_are_refused_by_the_catalogue():
    config = ProjectConfig()
    kind = config.mesures.cle("engagement")
    assert kind.accepts("france_travail.de_accompagnes", config.vocabulaire)
    assert not kind.accepts("France Travail — demandeurs d'emploi QPV accompagnés", config.vocabulaire)
