"""One feedback workbook per deposited file, whatever the names (issue 28, item 4): two files whose names differ
only by their extension, or by what a slug erases, get two workbooks."""

from __future__ import annotations

import openpyxl
from dagster import AssetKey, DagsterInstance, materialize

from assets.retours import feedback_name
from core.resources import BilanSettings
from pipelines.definitions import ALL_ASSETS
from tests.conftest import write_csv, write_xlsx

ENGAGEMENT = {"partenaire": "CAF du Nord", "type_partenaire": "operateur_etat", "annee": "2025",
              "code_objectif": "OG.4.2", "engagement": "Soutien à la parentalité", "indicateur": "actions financées",
              "unite": "nombre", "valeur_cible": "12", "valeur_realisee": "10", "code_qpv": "",
              "montant_droit_commun": "", "commentaire": ""}


def test_every_name_gets_its_own_workbook_named_after_it():
    names = ["engagements_2025_doublees.csv", "engagements_2025_doublees.xlsx", "engagements_2025_a-b.csv",
             "engagements_2025_a_b.csv", "engagements 2025 a b.csv", "engagements_2025_été.csv",
             "engagements_2025_ete.csv", "engagements_2025_<x>.csv", "engagements_2025_x.csv.", "e" * 240 + ".csv",
             "e" * 240 + ".xlsx"]
    workbooks = [feedback_name(n) for n in names]
    assert len(set(workbooks)) == len(names)
    assert workbooks[0] == "retour_engagements_2025_doublees.csv.xlsx"      # the partner finds its file's name
    assert workbooks[1] == "retour_engagements_2025_doublees.xlsx.xlsx"
    assert all(len(w.encode()) <= 255 and "/" not in w and w.endswith(".xlsx") for w in workbooks)
    assert feedback_name("engagements_2025_été.csv") == feedback_name("engagements_2025_été.csv")   # stable


def test_a_csv_and_a_workbook_of_the_same_name_each_get_their_feedback(tmp_path):
    inbox = tmp_path / "donnees" / "inbox" / "ccco" / "2025"
    inbox.mkdir(parents=True)
    write_csv(inbox / "engagements_2025_doublees.csv", [ENGAGEMENT], sep=";")
    write_xlsx(inbox / "engagements_2025_doublees.xlsx",
               {"engagements": [{**ENGAGEMENT, "indicateur": "familles accompagnées", "code_objectif": "OG.9.9"}]})
    parametres = BilanSettings(racine_donnees=str(tmp_path / "donnees"), sortie=str(tmp_path / "sortie"), pdf=False)
    selection = [AssetKey([layer, f]) for f in ("programmation", "engagements") for layer in ("sources", "staging")]
    selection += [AssetKey(["staging", "rapport_qualite"]), AssetKey(["staging", "retours_partenaires"])]
    from core.resources import warehouse

    result = materialize(ALL_ASSETS, selection=selection, partition_key="2025", instance=DagsterInstance.ephemeral(),
                         resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)})
    assert result.success
    folder = tmp_path / "sortie" / "2025" / "retours" / "ccco"
    assert sorted(p.name for p in folder.glob("retour_*.xlsx")) == [
        "retour_engagements_2025_doublees.csv.xlsx", "retour_engagements_2025_doublees.xlsx.xlsx"]
    csv_rows = list(openpyxl.load_workbook(folder / "retour_engagements_2025_doublees.csv.xlsx", read_only=True)[
        "Problèmes"].iter_rows(values_only=True))
    xlsx_rows = list(openpyxl.load_workbook(folder / "retour_engagements_2025_doublees.xlsx.xlsx", read_only=True)[
        "Problèmes"].iter_rows(values_only=True))
    assert any("Aucun problème" in str(r) for r in csv_rows[1:])          # the CSV's row was kept
    assert any(r[4] and "objectif" in str(r) for r in xlsx_rows[1:])      # the workbook's row was not
