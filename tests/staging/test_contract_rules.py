"""Every contract rule, one small bad file each: a valid row (spreadsheet row 2) beside a row that breaks
exactly one rule (row 3). The valid row must stay clean; the bad row must be quarantined for that rule, at that
column."""

from __future__ import annotations

import pytest

from core.familles.family import attach_provenance, parse_file, validate_set
from core.familles.registry import FAMILIES
from tests.conftest import write_csv


def luhn_siret(prefix13: str) -> str:
    """Independent Luhn: find the last digit that makes the 14-digit number valid."""
    for last in "0123456789":
        digits = [int(c) for c in prefix13 + last]
        total = 0
        for i, d in enumerate(reversed(digits)):
            if i % 2 == 1:
                d *= 2
                if d > 9:
                    d -= 9
            total += d
        if total % 10 == 0:
            return prefix13 + last
    raise AssertionError


VALID_SIRET = luhn_siret("7828291520001")
INVALID_SIRET = VALID_SIRET[:-1] + str((int(VALID_SIRET[-1]) + 1) % 10)

BASE = {
    "engagements": {
        "partenaire": "CPAM Lille-Douai", "type_partenaire": "operateur_etat", "annee": "2025",
        "code_objectif": "OG.3.1", "engagement": "Bilans de santé précarité", "indicateur": "bilans réalisés",
        "unite": "nombre", "valeur_cible": "1800", "valeur_realisee": "1650", "code_qpv": "QN05934M",
        "montant_droit_commun": "12000", "commentaire": "",
    },
    "programmation": {
        "numero_dossier": "2025-00001", "annee": "2025", "porteur": "CS le Phare", "siret": VALID_SIRET,
        "intitule_action": "Atelier emploi", "code_objectif": "OG.1.1", "qpv_cibles": "QN05934M",
        "mode_financement": "AAP", "reference_cpo": "", "cpo_annee_debut": "", "cpo_annee_fin": "",
        "financeur": "etat_bop147", "nature_credit": "specifique", "montant_demande": "10000",
        "montant_accorde": "8000", "statut": "accorde", "cout_total_action": "30000",
    },
    "bilans_actions": {
        "numero_dossier": "2024-00001", "annee_action": "2024", "realisation": "realisee",
        "beneficiaires_total": "40", "beneficiaires_femmes": "22", "beneficiaires_hommes": "18",
        "beneficiaires_residents_qpv": "30", "beneficiaires_moins_26_ans": "12", "depenses_realisees": "9500",
        "commentaire": "",
    },
    "indicateurs": {
        "code_indicateur": "taux_pauvrete", "libelle_indicateur": "", "niveau_geo": "qpv", "code_geo": "QN05934M",
        "millesime": "2020", "valeur": "40.0", "numerateur": "1400", "denominateur": "3500", "unite": "pourcentage",
        "source": "INSEE Filosofi 2020", "secret": "",
    },
    "cohortes": {
        "reference_cpo": "CPO-CCCO-2024-01", "identifiant_beneficiaire": "ML-24-0001", "date_entree": "2025-02-03",
        "jalon": "entree", "date_observation": "2025-02-03", "situation": "recherche_emploi", "sexe": "F",
        "annee_naissance": "2001", "code_qpv": "QN05936M",
    },
    "tfpb_actions": {
        "bailleur": "Maisons et Cités", "code_qpv": "QN05934M", "annee": "2025", "axe": "sur_entretien",
        "intitule_action": "Nettoyage renforcé des parties communes", "montant_valorise": "45000",
        "cofinancement": "",
    },
    "tfpb_patrimoine": {
        "bailleur": "Maisons et Cités", "code_qpv": "QN05934M", "annee": "2025", "nb_logements": "250",
        "montant_abattement": "47000",
    },
}

# (file prefix, changes to the base row, column, rule). Changes also alter a key field so that a bad row never
# collides with the valid one unless the case is about keys.
CASES = [
    ("engagements", {"annee": "2024", "indicateur": "x"}, "annee", "annee_boite"),
    ("engagements", {"code_objectif": "OG.5.1", "indicateur": "x"}, "code_objectif", "objectif_inconnu"),
    ("engagements", {"code_qpv": "QM05936M"}, "code_qpv", "qpv_inconnu"),
    ("engagements", {"unite": "pourcentage", "valeur_cible": "80", "valeur_realisee": "112", "indicateur": "x"},
     "valeur_realisee",
     "valeur_maximale"),
    ("engagements", {"valeur_cible": "-1", "indicateur": "x"}, "valeur_cible", "valeur_minimale"),
    ("engagements", {"montant_droit_commun": "-5", "indicateur": "x"}, "montant_droit_commun", "valeur_minimale"),
    ("engagements", {"valeur_cible": "beaucoup", "indicateur": "x"}, "valeur_cible", "type_nombre"),
    ("engagements", {"unite": "kg", "indicateur": "x"}, "unite", "valeur_autorisee"),
    ("engagements", {"type_partenaire": "banque", "indicateur": "x"}, "type_partenaire", "valeur_autorisee"),
    ("engagements", {"engagement": ""}, "engagement", "valeur_obligatoire"),
    ("engagements", {}, "partenaire", "cle_dupliquee"),
    ("programmation", {"numero_dossier": "2025-00002", "siret": INVALID_SIRET}, "siret", "siret_invalide"),
    ("programmation", {"numero_dossier": "2025-00002", "code_objectif": "3"}, "code_objectif", "objectif_inconnu"),
    ("programmation", {"numero_dossier": "2025-00002", "qpv_cibles": "QN05934M;QN05999X"}, "qpv_cibles",
     "qpv_inconnu"),
    ("programmation", {"numero_dossier": "2025-00002", "mode_financement": "CPO", "cpo_annee_debut": "2024",
                       "cpo_annee_fin": "2026"}, "reference_cpo", "cpo_incomplet"),
    ("programmation", {"numero_dossier": "2025-00002", "mode_financement": "CPO", "reference_cpo": "CPO-X",
                       "cpo_annee_debut": "2024", "cpo_annee_fin": "2030"}, "cpo_annee_fin", "cpo_periode"),
    ("programmation", {"numero_dossier": "2025-00002", "mode_financement": "CPO", "reference_cpo": "CPO-X",
                       "cpo_annee_debut": "2026", "cpo_annee_fin": "2027"}, "cpo_annee_fin", "cpo_periode"),
    ("programmation", {"numero_dossier": "2025-00002", "nature_credit": "droit_commun"}, "nature_credit",
     "bop147_specifique"),
    ("programmation", {"numero_dossier": "2025-00002", "statut": "refuse"}, "montant_accorde", "statut_montant"),
    ("programmation", {"numero_dossier": "2025-00002", "cout_total_action": "5000"}, "cout_total_action",
     "cout_total"),
    ("programmation", {"numero_dossier": "2025-00002", "cout_total_action": "0"}, "cout_total_action",
     "valeur_minimale"),
    ("programmation", {"numero_dossier": "2025-00002", "annee": "2025,5"}, "annee", "type_entier"),
    ("programmation", {"numero_dossier": "2025-00002", "statut": "vote"}, "statut", "valeur_autorisee"),
    ("programmation", {"numero_dossier": "2025-00002", "montant_demande": ""}, "montant_demande",
     "valeur_obligatoire"),
    ("programmation", {}, "numero_dossier", "cle_dupliquee"),
    ("bilans_actions", {"numero_dossier": "2024-00077"}, "numero_dossier", "dossier_inconnu"),
    ("bilans_actions", {"annee_action": "2026"}, "annee_action", "annee_action"),
    ("bilans_actions", {"annee_action": "2025", "numero_dossier": "2025-00001", "beneficiaires_femmes": "41"},
     "beneficiaires_femmes", "beneficiaires_incoherents"),
    ("bilans_actions", {"annee_action": "2025", "numero_dossier": "2025-00001", "beneficiaires_hommes": "19"},
     "beneficiaires_hommes", "beneficiaires_incoherents"),
    ("bilans_actions", {"annee_action": "2025", "numero_dossier": "2025-00001",
                        "beneficiaires_residents_qpv": "41"}, "beneficiaires_residents_qpv",
     "beneficiaires_incoherents"),
    ("bilans_actions", {"annee_action": "2025", "numero_dossier": "2025-00001", "realisation": "en_cours"},
     "realisation", "valeur_autorisee"),
    ("bilans_actions", {}, "numero_dossier", "cle_dupliquee"),
    ("indicateurs", {"code_indicateur": "taux_bonheur"}, "code_indicateur", "indicateur_inconnu"),
    ("indicateurs", {"niveau_geo": "epci", "code_geo": "2459011", "numerateur": "", "denominateur": ""},
     "code_geo", "code_geo_invalide"),
    ("indicateurs", {"code_geo": "QN05935M", "valeur": "45.0"}, "valeur", "ratio_incoherent"),
    # another territory's rows are never taken for this one's (SIREN, department, commune)
    ("indicateurs", {"niveau_geo": "qpv_epci", "code_geo": "200041234", "numerateur": "", "denominateur": ""},
     "code_geo", "hors_territoire"),
    ("indicateurs", {"niveau_geo": "epci", "code_geo": "200041234", "numerateur": "", "denominateur": ""},
     "code_geo", "hors_territoire"),
    ("indicateurs", {"niveau_geo": "qpv_departement", "code_geo": "62", "numerateur": "", "denominateur": ""},
     "code_geo", "hors_territoire"),
    ("indicateurs", {"niveau_geo": "commune", "code_geo": "62041", "numerateur": "", "denominateur": ""},
     "code_geo", "hors_territoire"),
    ("indicateurs", {"code_geo": "QN05935M", "secret": "oui", "numerateur": "", "denominateur": ""}, "valeur",
     "secret_avec_valeur"),
    ("indicateurs", {"code_geo": "QN05935M", "valeur": "120", "numerateur": "", "denominateur": ""}, "valeur",
     "valeur_maximale"),
    ("indicateurs", {"millesime": "2026"}, "millesime", "valeur_maximale"),
    ("indicateurs", {"millesime": "1999"}, "millesime", "valeur_minimale"),
    ("indicateurs", {"code_geo": "QN05999X"}, "code_geo", "qpv_inconnu"),
    ("indicateurs", {"code_geo": "QN05935M", "secret": "peut-être"}, "secret", "type_booleen"),
    ("indicateurs", {}, "code_indicateur", "cle_dupliquee"),
    ("cohortes", {"identifiant_beneficiaire": "ML-24-0002", "reference_cpo": "CPO-INCONNUE"}, "reference_cpo",
     "cpo_inconnue"),
    ("cohortes", {"identifiant_beneficiaire": "ML-24-0002", "date_observation": "2025-01-15"},
     "date_observation", "date_observation"),
    ("cohortes", {"identifiant_beneficiaire": "ML-24-0002", "date_observation": "2026-01-15"},
     "date_observation", "date_observation"),
    ("cohortes", {"identifiant_beneficiaire": "ML-24-0002", "annee_naissance": "2015"}, "annee_naissance",
     "age_entree"),
    ("cohortes", {"identifiant_beneficiaire": "ML-24-0002", "jalon": "3_mois"}, "jalon", "valeur_autorisee"),
    ("cohortes", {"identifiant_beneficiaire": "ML-24-0002", "date_entree": "31/02/2025"}, "date_entree",
     "type_date"),
    ("cohortes", {"identifiant_beneficiaire": "ML-24-0002", "code_qpv": "QN05999X"}, "code_qpv", "qpv_inconnu"),
    ("cohortes", {"identifiant_beneficiaire": "ML-24-0002", "situation": "chomage"}, "situation",
     "valeur_autorisee"),
    ("cohortes", {}, "reference_cpo", "cle_dupliquee"),
    ("tfpb_actions", {"code_qpv": "QN05939M"}, "code_qpv", "patrimoine_absent"),
    ("tfpb_actions", {"axe": "videosurveillance"}, "axe", "valeur_autorisee"),
    ("tfpb_actions", {"montant_valorise": "-100"}, "montant_valorise", "valeur_minimale"),
    ("tfpb_patrimoine", {"code_qpv": "QN05935M", "nb_logements": "0"}, "nb_logements", "valeur_minimale"),
    ("tfpb_patrimoine", {"code_qpv": "QN05935M", "annee": "2024"}, "annee", "annee_boite"),
    ("tfpb_patrimoine", {}, "bailleur", "cle_dupliquee"),
]


def _family(prefix: str):
    return FAMILIES["tfpb" if prefix.startswith("tfpb") else prefix]


def _validate(tmp_path, ctx, prefix: str, rows: list[dict], extra_files: list = ()):
    family = _family(prefix)
    path = write_csv(tmp_path / f"{prefix}_test.csv", rows)
    parsed = [attach_provenance(parse_file(family, path, ctx), "sha", 0)]
    if prefix == "tfpb_actions":  # an action needs its landlord's patrimoine file beside it
        pat = write_csv(tmp_path / "tfpb_patrimoine_test.csv", [BASE["tfpb_patrimoine"]])
        parsed.append(attach_provenance(parse_file(family, pat, ctx), "sha2", 1))
    return validate_set(family, parsed, ctx)


@pytest.mark.parametrize("prefix,changes,column,rule", CASES,
                         ids=[f"{c[0]}-{c[3]}-{c[2]}" for c in CASES])
def test_rule_quarantines_the_bad_row_only(tmp_path, ctx, prefix, changes, column, rule):
    bad = {**BASE[prefix], **changes}
    result = _validate(tmp_path, ctx, prefix, [BASE[prefix], bad])
    table = prefix if prefix.startswith("tfpb") else _family(prefix).tables[0].name
    errors = result.errors[result.errors["fichier"] == f"{prefix}_test.csv"]
    hits = errors[(errors["ligne"] == 3) & (errors["regle"] == rule)]
    assert list(hits["colonne"]) == [column], errors.to_string()
    assert all(hits["message"].str.len() > 10)
    quarantined = result.quarantine[table]
    assert list(quarantined["_ligne"]) == [3], errors.to_string()
    assert rule in quarantined["regles"].iloc[0]
    assert list(result.clean[table]["_ligne"]) == [2]


def test_dossier_whose_rows_disagree_goes_to_quarantine_whole(tmp_path, ctx):
    base = BASE["programmation"]
    rows = [base, {**base, "financeur": "epci", "nature_credit": "specifique", "porteur": "CS Jean Moulin"}]
    result = _validate(tmp_path, ctx, "programmation", rows)
    assert result.clean["programmation"].empty
    assert sorted(result.quarantine["programmation"]["_ligne"]) == [2, 3]
    assert set(result.errors["regle"]) == {"dossier_incoherent"}


def test_granted_above_asked_is_kept_with_a_warning(tmp_path, ctx):
    result = _validate(tmp_path, ctx, "programmation", [{**BASE["programmation"], "montant_accorde": "12000"}])
    assert len(result.clean["programmation"]) == 1
    warning = result.errors[result.errors["regle"] == "montant_superieur_demande"]
    assert list(warning["gravite"]) == ["avertissement"]


def test_refused_dossier_may_have_empty_or_zero_amount(tmp_path, ctx):
    rows = [{**BASE["programmation"], "statut": "refuse", "montant_accorde": ""},
            {**BASE["programmation"], "numero_dossier": "2025-00002", "statut": "abandonne", "montant_accorde": "0"}]
    result = _validate(tmp_path, ctx, "programmation", rows)
    assert len(result.clean["programmation"]) == 2, result.errors.to_string()


def test_codes_are_normalised(tmp_path, ctx):
    rows = [{**BASE["engagements"], "code_objectif": "O.G.3.1", "code_qpv": "QP059036"},
            {**BASE["engagements"], "code_objectif": "3", "indicateur": "axe entier", "code_qpv": ""}]
    result = _validate(tmp_path, ctx, "engagements", rows)
    clean = result.clean["engagements"]
    assert list(clean["code_objectif"]) == ["OG.3.1", "3"]
    assert clean["code_qpv"].iloc[0] == "QN05936M"  # 2015 code mapped by the territory's configuration
    assert clean["code_qpv"].isna().iloc[1]         # empty = the whole territory


def test_qpv_suggestion_names_the_nearest_code(tmp_path, ctx):
    result = _validate(tmp_path, ctx, "engagements", [{**BASE["engagements"], "code_qpv": "QM05936M"}])
    assert "QN05936M ?" in result.errors["message"].iloc[0]


def test_qpv_cibles_tous_and_lists_are_canonical(tmp_path, ctx):
    base = BASE["programmation"]
    rows = [{**base, "qpv_cibles": "tous"},
            {**base, "numero_dossier": "2025-00002", "qpv_cibles": "QN05938M , qn05934m"}]
    clean = _validate(tmp_path, ctx, "programmation", rows).clean["programmation"]
    assert list(clean["qpv_cibles"]) == ["TOUS", "QN05934M;QN05938M"]


def test_later_file_replaces_earlier_row_of_same_key(tmp_path, ctx):
    family = FAMILIES["bilans_actions"]
    first = write_csv(tmp_path / "bilans_actions_a.csv", [BASE["bilans_actions"]])
    second = write_csv(tmp_path / "bilans_actions_b.csv", [{**BASE["bilans_actions"], "beneficiaires_total": "45"}])
    parsed = [attach_provenance(parse_file(family, p, ctx), f"h{i}", i) for i, p in enumerate([first, second])]
    result = validate_set(family, parsed, ctx)
    clean = result.clean["bilans_actions"]
    assert list(clean["beneficiaires_total"]) == [45]
    assert list(result.quarantine["bilans_actions"]["regles"]) == ["ligne_remplacee"]
    assert "bilans_actions_b.csv" in result.errors["message"].iloc[0]


def test_cross_file_duplicate_keeps_the_first(tmp_path, ctx):
    family = FAMILIES["engagements"]
    a = write_csv(tmp_path / "engagements_a.csv", [BASE["engagements"]])
    b = write_csv(tmp_path / "engagements_b.csv", [BASE["engagements"]])
    parsed = [attach_provenance(parse_file(family, p, ctx), f"h{i}", i) for i, p in enumerate([a, b])]
    result = validate_set(family, parsed, ctx)
    assert list(result.clean["engagements"]["_fichier"]) == ["engagements_a.csv"]
    assert "engagements_a.csv" in result.errors["message"].iloc[0]


def test_la_poste_siret_is_accepted_without_luhn(tmp_path, ctx):
    # La Poste's establishments share SIREN 356000000; their SIRET do not follow the Luhn key
    rows = [{**BASE["programmation"], "siret": "35600000000049"},
            {**BASE["programmation"], "numero_dossier": "2025-00002", "siret": "356 000 000 12345"}]
    result = _validate(tmp_path, ctx, "programmation", rows)
    assert len(result.clean["programmation"]) == 2, result.errors.to_string()
    assert list(result.clean["programmation"]["siret"]) == ["35600000000049", "35600000012345"]


def test_another_territory_s_indicator_rows_name_the_expected_code(tmp_path, ctx):
    base = {**BASE["indicateurs"], "numerateur": "", "denominateur": ""}
    rows = [{**base, "niveau_geo": "qpv_epci", "code_geo": "245901152"},
            {**base, "niveau_geo": "qpv_epci", "code_geo": "245901125"},    # two digits swapped
            {**base, "niveau_geo": "commune", "code_geo": "59186"},        # not one of its communes
            {**base, "niveau_geo": "departement", "code_geo": "59"},
            {**base, "niveau_geo": "france", "code_geo": "FR"}]
    result = _validate(tmp_path, ctx, "indicateurs", rows)
    errors = result.errors[result.errors["regle"] == "hors_territoire"].set_index("ligne")
    assert sorted(errors.index) == [3, 4]
    assert errors.loc[3, "message"].startswith(
        "« 245901125 » n'est pas le SIREN de l'EPCI du territoire ccco (attendu : 245901152)")
    assert "n'est pas une commune du territoire ccco" in errors.loc[4, "message"]
    assert "(attendu : l'une de ses 21 communes ; la plus proche : 59185)" in errors.loc[4, "message"]
    assert list(result.clean["indicateurs"]["_ligne"]) == [2, 5, 6]


def test_a_cached_read_is_validated_against_the_territory_s_current_codes(tmp_path, ctx):
    # hors_territoire reads the territory's communes: the read cache holds the file as read, never its verdict,
    # so a commune taken out of the territory makes the next pass find the row outside it
    import hashlib

    from assets.staging.load import read_deposit
    from core.familles.family import Lot, validate_lot, with_provenance

    family = FAMILIES["indicateurs"]
    last = ctx.territoire.communes[-1].code_insee
    path = write_csv(tmp_path / "indicateurs_insee.csv", [{**BASE["indicateurs"], "numerateur": "", "denominateur": "",
                                                          "niveau_geo": "commune", "code_geo": last}])
    deposit = {"territoire": "ccco", "nom_fichier": path.name, "version": 1, "chemin_archive": str(path),
               "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    fewer = ctx.territoire.model_copy(update={"communes": ctx.territoire.communes[:-1]})
    other = type(ctx)(**{**ctx.__dict__, "territoire": fewer})
    assert other.fingerprint(family) == ctx.fingerprint(family)      # one read serves both

    def verdict(context):
        outcome = read_deposit(family, deposit, context, tmp_path / "cache")
        result = validate_lot(family, [with_provenance(outcome.parsed, "ccco", deposit["sha256"], 0)],
                              Lot({"ccco": context}))
        return outcome.from_cache, sorted(result.errors["regle"])

    assert verdict(ctx) == (False, [])
    assert verdict(other) == (True, ["hors_territoire"])
