"""Since the last COPIL, figure by figure (issue 30, item 2): what a published bilan showed is recorded when it is
published (publication.bilans_montres); the next year's bilan compares with the version published by that COPIL's
day — statuses changed, figures moved beyond their threshold, last year's figures revised since, commitments new
or ended, partners silent or back."""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import pandas as pd

from reports.sections import Geography, section_of
from reports.sections.depuis_copil import build
from tests.test_synthese import _ref, make_data


def _shown(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["nature", "code", "libelle", "unite", "valeur", "statut", "seuil",
                                       "annee_donnees"])


def test_the_bilan_compares_with_what_the_last_copil_was_shown(config):
    now = _ref([
        {"code_indicateur": "I1", "libelle": "Part des CPO", "valeur": 41.0, "statut": "en bonne voie",
         "cible": 50.0, "seuil_significativite": 1.0},
        {"code_indicateur": "I2", "libelle": "Taux de couverture TFPB", "valeur": 96.4, "statut": "en retard",
         "cible": 100.0, "seuil_significativite": 1.0},
        {"code_indicateur": "I3", "libelle": "Crédits de la priorité 1", "valeur": 212_000.0, "unite": "euros",
         "statut": "atteint", "cible": 200_000.0, "seuil_significativite": 0.0}])
    before_now = _ref([{"code_indicateur": "I2", "libelle": "Taux de couverture TFPB", "valeur": 97.1,
                        "statut": "en retard", "cible": 100.0}])
    engagements = pd.DataFrame([
        {"partenaire": "CAF du Nord", "indicateur": "places AVIP", "perimetre": "territoire", "valeur_realisee": 12.0},
        {"partenaire": "France Travail", "indicateur": "CEJ", "perimetre": "territoire", "valeur_realisee": None},
        {"partenaire": "Région", "indicateur": "formations", "perimetre": "territoire", "valeur_realisee": 40.0}])
    data = make_data(config, referentiel=now, engagements=engagements)
    data = dataclasses.replace(
        data, copil_precedent=dt.date(2025, 3, 20), montre_le="10/03/2025", referentiel_avant=before_now,
        montre_au_copil=_shown([
            ("indicateur", "I1", "Part des CPO", "pourcentage", 34.4, "en retard", 1.0, 2024),
            ("indicateur", "I2", "Taux de couverture TFPB", "pourcentage", 96.0, "en retard", 1.0, 2024),
            ("indicateur", "I3", "Crédits de la priorité 1", "euros", 209_000.0, "atteint", 0.0, 2024),
            ("engagement", "CAF du Nord — places AVIP", "AVIP", "nombre", 10.0, "renseigné", None, 2024),
            ("engagement", "France Travail — CEJ", "CEJ", "nombre", 300.0, "renseigné", None, 2024),
            ("engagement", "ARS — bilans de santé", "santé", "nombre", 50.0, "renseigné", None, 2024)]))
    out = build(data, section_of(data, "depuis_copil"), Geography())
    assert out["titre_valeurs"] == {"copil": "20/03/2025"}
    assert out["statuts"] == [{"libelle": "Part des CPO", "avant": "en retard", "apres": "en bonne voie"}]
    # 34,4 → 41,0 % moved beyond its 1-point threshold; 96,0 → 96,4 % did not; 209 000 → 212 000 € is 1,4 %,
    # under the 5 % a figure in euros must move
    assert out["chiffres"] == ["Part des CPO : 34,4\u00a0% → 41,0\u00a0%"]
    # the coverage the COPIL saw for 2024, 96,0 %, is 97,1 % now that late files came in
    assert out["revises"] == ["Taux de couverture TFPB 2024 : 96,0\u00a0% montré au COPIL, 97,1\u00a0% aujourd'hui "
                              "(révisé)"]
    assert out["nouveaux"] == ["Région — formations"] and out["termines"] == ["ARS — bilans de santé"]
    assert out["silencieux"] == ["France Travail"] and out["revenus"] == []


def test_nothing_is_compared_when_no_bilan_was_published_by_that_copil(config):
    data = make_data(config)
    assert build(dataclasses.replace(data, copil_precedent=dt.date(2025, 3, 20)), section_of(data, "depuis_copil"),
                 Geography()) == {"hors_bilan": True}


def test_a_published_bilan_records_what_it_showed(demo_run_partage):
    with duckdb.connect(str(demo_run_partage.parametres.warehouse_path), read_only=True) as con:
        published = con.execute("SELECT empreinte_contenu FROM publication.bilans_publies WHERE territoire = 'ccco' "
                                "AND annee = 2025").fetchall()
        shown = con.execute("SELECT nature, count(*), count(DISTINCT empreinte_contenu), any_value(empreinte_contenu) "
                            "FROM publication.bilans_montres WHERE territoire = 'ccco' AND annee = 2025 GROUP BY 1 "
                            "ORDER BY 1").fetchall()
        indicators = con.execute("SELECT count(*) FROM publication.referentiel WHERE territoire = 'ccco' AND "
                                 "annee = 2025").fetchone()[0]
    assert [n for n, *_ in shown] == ["engagement", "indicateur"]
    assert dict((n, c) for n, c, *_ in shown)["indicateur"] == indicators
    assert {fp for *_, fp in shown} == {published[-1][0]}


def test_the_version_shown_is_the_last_published_by_the_copil_day(demo_run_partage, tmp_path, config):
    """The 2024 bilan as if published twice around the COPIL of 20/03/2025: the 2025 bilan compares with the
    version of 10/03/2025, not the one published after the COPIL."""
    import shutil

    from reports.data import load_bilan_data

    warehouse = tmp_path / "entrepot.duckdb"
    shutil.copy(demo_run_partage.parametres.warehouse_path, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        for fingerprint, day, shift in (("avant", "2025-03-10", 0.0), ("apres", "2025-04-02", 5.0)):
            con.execute(f"""INSERT INTO publication.bilans_montres
                SELECT territoire, annee, '{fingerprint}', TIMESTAMP '{day} 09:00', 'indicateur', code_indicateur,
                       libelle, unite, valeur + {shift}, statut, seuil_significativite, annee_donnees
                FROM publication.referentiel WHERE territoire = 'ccco' AND annee = 2024""")
        data = load_bilan_data(con, config, config.territoire("ccco"), 2025, "t")
        shown_2024 = dict(con.execute("SELECT code_indicateur, valeur FROM publication.referentiel WHERE "
                                      "territoire = 'ccco' AND annee = 2024").fetchall())
    assert data.copil_precedent == dt.date(2025, 3, 20) and data.montre_le == "10/03/2025"
    shown = dict(zip(data.montre_au_copil["code"], data.montre_au_copil["valeur"]))
    assert {k: None if pd.isna(v) else v for k, v in shown.items()} == {
        k: None if v is None or pd.isna(v) else v for k, v in shown_2024.items()}
    out = build(data, section_of(data, "depuis_copil"), Geography())
    assert out["titre_valeurs"] == {"copil": "20/03/2025"} and out["montre_le"] == "10/03/2025"
    assert out["revises"] == []   # the 2024 figures shown are those published now
    assert out["statuts"] or out["chiffres"]
