"""Rejected rows are visible where they change a figure: each measure carries the quarantined rows (and money) that
would have fed it, the bilan says so beside the figure and on the alerts they cause, and each partner's feedback
lists, for each rejected row, the figure it would have changed — and, with no problem, what was used."""

from __future__ import annotations

import openpyxl
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from core.config.projet import ProjectConfig
from core.resources import BilanSettings, warehouse
from pipelines.definitions import ALL_ASSETS, GRAPH
from tests.conftest import write_csv

ENGAGEMENT = {"partenaire": "Département du Nord", "type_partenaire": "departement", "annee": "2025",
              "code_objectif": "OG.4.2", "engagement": "Prévention spécialisée dans les quartiers",
              "indicateur": "jeunes suivis", "unite": "nombre", "valeur_cible": "150", "valeur_realisee": "144",
              "code_qpv": "", "montant_droit_commun": "", "commentaire": ""}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One landlord (stock clean, two action rows rejected: one in a known QPV, one in an unknown QPV) and one
    partner whose second commitment is rejected (unknown objective) with 244 800 € of common-law money."""
    root = tmp_path_factory.mktemp("rejets")
    inbox = root / "donnees" / "inbox" / "ccco" / "2025"
    inbox.mkdir(parents=True)
    write_csv(inbox / "tfpb_patrimoine_sigh.csv", [
        {"bailleur": "SIGH", "code_qpv": "QN05934M", "annee": "2025", "nb_logements": "100",
         "montant_abattement": "10000"}], sep=";")
    action = {"bailleur": "SIGH", "code_qpv": "QN05934M", "annee": "2025", "axe": "lien_social",
              "intitule_action": "Fête de quartier", "montant_valorise": "8000", "cofinancement": ""}
    write_csv(inbox / "tfpb_actions_sigh.csv", [
        action,
        {**action, "intitule_action": "", "montant_valorise": "2 034,00 €"},            # line 3: no title
        {**action, "code_qpv": "QX99999Z", "intitule_action": "Jardins", "montant_valorise": "500"},  # line 4
    ], sep=";")
    write_csv(inbox / "engagements_2025_departement_du_nord.csv", [
        ENGAGEMENT,
        {**ENGAGEMENT, "code_objectif": "OG.9.9", "indicateur": "jeunes suivis par la prévention spécialisée",
         "montant_droit_commun": "244 800,00 €"},
    ], sep=";")
    parametres = BilanSettings(racine_donnees=str(root / "donnees"), sortie=str(root / "sortie"))
    selection = [AssetKey([layer, f]) for f in ("programmation", "tfpb", "engagements")
                 for layer in ("sources", "staging", "marts")]
    selection += [AssetKey(["staging", "rapport_qualite"]), AssetKey(["marts", "mesures_rejets"]),
                  AssetKey(["referentiel", "mesures"]), AssetKey(["referentiel", "referentiel"]),
                  AssetKey(["publication", "tableaux"])]  # every output reads the publication layer
    result = materialize(ALL_ASSETS, selection=selection,
                         partition_key="2025", instance=DagsterInstance.ephemeral(), raise_on_error=False,
                         resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)})
    assert result.success
    return parametres


def _impact(parametres, code: str, perimetre: str, cle: str | None):
    with warehouse(parametres.warehouse_path).get_connection() as con:
        return con.execute("SELECT lignes_rejetees, montant_rejete FROM marts.mesures_rejets WHERE annee = 2025 "
                           "AND territoire = 'ccco' AND code_mesure = ? AND perimetre = ? AND cle IS NOT DISTINCT "
                           "FROM ?", [code, perimetre, cle]).fetchall()


def test_quarantined_amount_row_flags_the_measures_it_would_have_fed(run):
    # the row of a known QPV feeds that QPV and the territory; the unknown QPV's only the territory
    assert _impact(run, "tfpb.valorise", "QN05934M", "SIGH") == [(1, 2034.0)]
    assert _impact(run, "tfpb.valorise", "QN05934M", None) == [(1, 2034.0)]
    assert _impact(run, "tfpb.valorise", "territoire", None) == [(2, 2534.0)]
    assert _impact(run, "tfpb.taux_couverture", "territoire", "SIGH") == [(2, 2534.0)]
    assert _impact(run, "tfpb.valorise_axe", "territoire", "lien_social") == [(2, 2534.0)]
    assert _impact(run, "tfpb.alertes_couverture", "territoire", None) == [(2, None)]  # a count: no money
    # an action row feeds neither the stock nor the abatement
    assert _impact(run, "tfpb.logements", "territoire", None) == []
    assert _impact(run, "tfpb.abattement", "territoire", None) == []
    # the rejected commitment: its own figures, its partner's common-law money, the territory's totals
    cle = "Département du Nord — jeunes suivis par la prévention spécialisée"
    assert _impact(run, "engagement.realise", "territoire", cle) == [(1, None)]
    assert _impact(run, "engagements.montant_droit_commun", "territoire", "Département du Nord") == [(1, 244800.0)]
    assert _impact(run, "engagements.nombre", "territoire", None) == [(1, None)]
    assert _impact(run, "engagement.realise", "territoire", "Département du Nord — jeunes suivis") == []


def test_bilan_shows_rejected_rows_beside_the_figures_and_the_alerts_they_cause(run):
    from reports.data import load_bilan_data
    from reports.render import build_context, render_html

    config = ProjectConfig()
    territoire = config.territoire("ccco")
    with warehouse(run.warehouse_path).get_connection() as con:
        data = load_bilan_data(con, config, territoire, 2025, "test")
    context = build_context(data, None, {}, None)
    row = next(r for r in context["tfpb"]["lignes"] if r["bailleur"] == "SIGH")
    # 8 000 € cover 80 % of 10 000 €; the rejected 2 034 € would have covered the gap
    assert row["alerte"] and row["provisoire"].startswith("alerte due à une ligne rejetée (2\u202f034\u00a0€")
    assert "dont 1 dû à des lignes rejetées" in context["tfpb"]["alertes_rejets"]   # the pairs: masculine
    absent = context["droit_commun"]["absents_rejetes"]
    assert [a["engagement"] for a in absent] == ["Département du Nord — jeunes suivis par la prévention spécialisée"]
    assert "244\u202f800\u00a0€" in absent[0]["note"]
    html = render_html(context, section_templates=tuple(config.section_templates))
    assert "alerte due à une ligne rejetée" in html
    # beside the section's totals: both rejected rows, the unknown QPV's too
    assert "contreparties valorisées — provisoire : 2 lignes rejetées, 2\u202f534\u00a0€" in html
    assert "Engagements absents du tableau parce que leur ligne a été rejetée" in html


def _sheet(book, name: str) -> list[tuple]:
    return list(book[name].iter_rows(values_only=True))


def test_feedback_lists_the_figure_each_rejected_row_would_have_changed(run):
    from assets.retours import write_feedback

    with warehouse(run.warehouse_path).get_connection() as con:
        write_feedback(con, run, 2025, GRAPH.families)
    folder = run.output_dir / "2025" / "retours" / "ccco"
    book = openpyxl.load_workbook(folder / "retour_tfpb_actions_sigh.csv.xlsx", read_only=True)
    problems = _sheet(book, "Problèmes")
    assert problems[0][-1] == "Chiffres que la ligne aurait modifiés"
    line3 = next(r for r in problems[1:] if r[0] == 3)
    assert "contreparties valorisées (" in line3[-1] and "Quartier Prioritaire d'Aniche (QN05934M), SIGH" in line3[-1]
    assert "couverture de l'abattement" in line3[-1]
    line4 = next(r for r in problems[1:] if r[0] == 4)
    assert "QN05934M" not in line4[-1] and "territoire (CCCO)" in line4[-1]
    changed = _sheet(book, "Chiffres concernés")
    assert ("contreparties valorisées", "tfpb.valorise", "Quartier Prioritaire d'Aniche (QN05934M)", "SIGH", 1) \
        in changed
    engagements = openpyxl.load_workbook(folder / "retour_engagements_2025_departement_du_nord.csv.xlsx",
                                         read_only=True)
    line3 = next(r for r in _sheet(engagements, "Problèmes")[1:] if r[0] == 3)
    assert "droit commun mobilisé déclaré par les partenaires (" in line3[-1]
    assert "territoire (CCCO), Département du Nord)" in line3[-1]


def test_a_partner_without_problem_is_told_what_was_received_and_used(run):
    from assets.retours import write_feedback

    with warehouse(run.warehouse_path).get_connection() as con:
        write_feedback(con, run, 2025, GRAPH.families)
    book = openpyxl.load_workbook(run.output_dir / "2025" / "retours" / "ccco" / "retour_tfpb_patrimoine_sigh.csv.xlsx",
                                  read_only=True)
    message = _sheet(book, "Problèmes")[1][6]
    assert message.startswith("Aucun problème : la ligne reçue a été retenue et alimente")
    used = _sheet(book, "Données utilisées")
    assert ("abattement de TFPB", "tfpb.abattement", "Quartier Prioritaire d'Aniche (QN05934M)", None, 1) in used
    assert ("logements sociaux des bailleurs en QPV", "tfpb.logements", "territoire (CCCO)", "SIGH", 1) in used
    summary = dict(_sheet(book, "Résumé")[1:])
    assert summary["Lignes retenues"] == 1 and summary["Chiffres du bilan alimentés par les lignes retenues"] > 0


def test_an_unchanged_workbook_is_not_written_again(run):
    """What a workbook says is fingerprinted: the same content is left as it is, a missing one is written again."""
    from assets.retours import write_feedback

    with warehouse(run.warehouse_path).get_connection() as con:
        write_feedback(con, run, 2025, GRAPH.families)
        again = write_feedback(con, run, 2025, GRAPH.families)
        assert again["inchanges"] == len(again["fichiers"]) == 3
        removed = run.output_dir / "2025" / "retours" / "ccco" / "retour_tfpb_patrimoine_sigh.csv.xlsx"
        removed.unlink()
        after = write_feedback(con, run, 2025, GRAPH.families)
    assert after["inchanges"] == len(after["fichiers"]) - 1
    assert removed.is_file()
