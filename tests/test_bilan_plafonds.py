"""Every valid input within the limits gives a bilan (issue 28, item 1): the bilan's body never grows with the number
of rows the partners sent. Past a cap (config/settings.yaml, `rendu`), a chart gets its first items only, a table
its first rows, and a line « … et N autres (voir l'annexe XLSX) » says how many more the annex carries."""

from __future__ import annotations

import html as html_lib
import re
import shutil

import duckdb
import openpyxl
import pandas as pd
import pytest
from dagster import DagsterInstance, materialize

from bench.fichier_limite import NOM, ecrire
from core.config.projet import ProjectConfig
from core.resources import BilanSettings, warehouse
from pipelines.definitions import ALL_ASSETS
from reports.data import BilanData
from reports.plafonds import et_autres, plafonner, plafonner_texte
from reports.sections import Geography, droit_commun, section_of

NNBSP = "\u202f"
ROWS = 6_000  # past Altair's 5 000 rows, far under the 500 000 rows of `limites.lignes`


def _bars(svg: str) -> int:
    """The bars of a bar chart: the paths of its rect marks' group (Vega draws one path a bar)."""
    group = svg[svg.index('<g class="mark-rect'):]
    return group[:group.index("</g>")].count("<path ")


# --- the helper ---------------------------------------------------------------------------------------


def test_a_list_is_capped_and_says_how_many_more_in_french():
    cap = 3
    for n, autres, line in [(0, 0, ""), (1, 0, ""), (cap, 0, ""),
                            (cap + 1, 1, "… et 1 autre (voir l'annexe XLSX)"),
                            (cap + 2, 2, "… et 2 autres (voir l'annexe XLSX)")]:
        kept = plafonner(list(range(n)), cap)
        assert kept.elements == list(range(min(n, cap))) and kept.autres == autres and kept.ligne == line, n
        assert kept.resume("engagements", "les plus bas") == (None if not autres else {
            "choix": f"Sur {n} engagements, les {cap} les plus bas :", "autres": line})
    assert et_autres(5_056) == f"… et 5{NNBSP}056 autres (voir l'annexe XLSX)"
    # the first items by priority, kept in their own order: a reader still finds a partner alphabetically
    assert plafonner(["d", "a", "c", "b"], 2, priorite=lambda x: -ord(x)).elements == ["d", "c"]
    frame = pd.DataFrame({"nom": list("abcde"), "taux": [50, 10, 90, 20, 5]}, index=[7, 7, 3, 1, 0])
    kept = plafonner(frame, 3, lambda f: f.sort_values("taux"))
    assert list(kept.elements["nom"]) == ["b", "d", "e"] and kept.autres == 2   # 10, 20 and 5 %
    # a list written out by another layer: cut at the cap; one that is already cut keeps its own count
    assert plafonner_texte("a ; b ; c ; d", 2) == "a ; b ; … et 2 autres (voir l'annexe XLSX)"
    assert plafonner_texte("a ; b", 2) == "a ; b" and plafonner_texte("", 2) == ""
    assert plafonner_texte("a ; b ; … (40 de plus, voir les Data Docs)", 2, total=42) == \
        "a ; b ; … (40 de plus, voir les Data Docs)"
    assert plafonner_texte("a ; b ; c ; … (40 de plus, voir les Data Docs)", 2, total=43) == \
        "a ; b ; … et 41 autres (voir l'annexe XLSX)"


# --- the section, from a published frame of many commitments ---------------------------------------------


def _engagements(n: int) -> pd.DataFrame:
    cible = pd.Series([100.0] * n)
    realise = pd.Series([float(i % 150) for i in range(n)])
    return pd.DataFrame({
        "partenaire": [f"Partenaire {i % 40:02d}" for i in range(n)], "engagement": [f"action {i}" for i in range(n)],
        "indicateur": [f"indicateur {i}" for i in range(n)], "cle": [f"p.indicateur_{i}" for i in range(n)],
        "unite": "nombre", "perimetre": "territoire", "valeur_cible": cible, "valeur_realisee": realise,
        "taux_realisation": 100 * realise / cible, "non_renseigne": False, "agregat": "ligne", "partiel": False,
        "qpv_engages": None, "qpv_renseignes": None, "montant_droit_commun": None})


def test_the_commitments_section_of_thousands_of_rows_shows_the_lowest_rates_and_how_many_more(config):
    from tests.test_synthese import make_data

    data: BilanData = make_data(config, engagements=_engagements(ROWS))
    data.families_present = {"engagements": True}
    cap = config.settings.rendu
    section = droit_commun.build(data, section_of(data, "droit_commun"), Geography())
    assert _bars(section["graphique"]) == cap.elements_par_graphique
    assert f"des {cap.elements_par_graphique} engagements les moins réalisés, sur 6{NNBSP}000" in section["graphique"]
    assert section["graphique_autres"] == et_autres(ROWS - cap.elements_par_graphique)
    # the table: the lowest rates (0 %, then 1 %…), in the order of the published frame
    assert len(section["lignes"]) == cap.lignes_par_tableau
    assert {r["taux"] for r in section["lignes"]} <= {f"{i}\u00a0%" for i in range(cap.lignes_par_tableau)}
    order = [int(r["engagement"].split()[-1]) for r in section["lignes"]]
    assert order == sorted(order)
    plafond = section["lignes_plafond"]
    assert plafond["autres"] == f"… et 5{NNBSP}940 autres (voir l'annexe XLSX)"
    assert plafond["choix"].startswith(f"Sur 6{NNBSP}000 engagements, les {cap.lignes_par_tableau} au taux")


def test_the_annex_carries_every_row_past_the_rows_of_an_excel_sheet(config, monkeypatch):
    import io

    from reports import annexe
    from tests.test_synthese import _measures, make_data

    # an Excel sheet holds 1 048 575 rows under its header: the measures of a file at the row limit need more
    monkeypatch.setattr(annexe, "EXCEL_DATA_ROWS", 3)
    data = make_data(config, measures=_measures([("engagement.cible", "territoire", f"p.i_{i}", float(i), "nombre")
                                                 for i in range(7)]))
    book = openpyxl.load_workbook(io.BytesIO(annexe.render_xlsx(data)), read_only=True)
    parts = [n for n in book.sheetnames if n.startswith("Mesures")]
    assert parts == ["Mesures", "Mesures (2)", "Mesures (3)"]
    cells = [row for n in parts for row in book[n].iter_rows(min_row=1, values_only=True)]
    assert sum(1 for row in cells if row[0] == "Code de mesure") == 3               # a header on each sheet
    assert sorted(row[4] for row in cells if row[0] == "engagement.cible") == list(range(7))


# --- end to end: the demo with a valid engagements file of thousands of rows ---------------------------------


@pytest.fixture(scope="module")
def bilan_engagements_nombreux(demo_run_partage, tmp_path_factory):
    """The shared demo run again for 2025, its inbox with a valid engagements file of 6 000 rows added: what was
    already done is reused, the commitments and everything after them are done again (without the PDF)."""
    from tests.conftest import DEMO_DATA, copy_of

    root = tmp_path_factory.mktemp("plafonds")
    sortie = copy_of(demo_run_partage, root / "sortie")
    donnees = root / "donnees"
    shutil.copytree(DEMO_DATA, donnees)
    ecrire(donnees / "inbox" / "ccco" / "2025" / NOM, ROWS)
    parametres = BilanSettings(racine_donnees=str(donnees), sortie=str(sortie), pdf=False)
    result = materialize(ALL_ASSETS, partition_key="2025", instance=DagsterInstance.ephemeral(),
                         resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)})
    assert result.success
    return sortie


def test_a_valid_file_of_thousands_of_commitments_gives_a_bilan_that_says_how_many_more(bilan_engagements_nombreux):
    sortie = bilan_engagements_nombreux
    with duckdb.connect(str(sortie / "entrepot.duckdb"), read_only=True) as con:
        lues, retenues = con.execute("SELECT lignes_lues, lignes_retenues FROM publication.qualite_fichiers "
                                     "WHERE annee_boite = 2025 AND fichier = ?", [NOM]).fetchone()
        engagements = con.execute("SELECT count(*) FROM publication.engagements WHERE annee = 2025 "
                                  "AND territoire = 'ccco' AND perimetre = 'territoire'").fetchone()[0]
    assert lues == retenues == ROWS                              # every row valid
    folder = sortie / "2025" / "ccco"
    text = html_lib.unescape((folder / "bilan_ccco_2025.html").read_text(encoding="utf-8"))
    cap = ProjectConfig().settings.rendu
    section = text[text.index('<section id="droit-commun">'):text.index('<section id="tfpb">')]
    shown = cap.lignes_par_tableau
    assert f"… et {engagements - shown:,} autres (voir l'annexe XLSX)".replace(",", NNBSP) in section
    assert len(re.findall(r'data-mesure="engagement\.taux_realisation"', section)) == shown
    chart = section[section.index("<svg"):section.index("</svg>")]
    assert _bars(chart) == cap.elements_par_graphique
    # the annex carries every commitment
    rows = openpyxl.load_workbook(folder / "bilan_ccco_2025_annexe.xlsx", read_only=True)["Engagements"].iter_rows(
        values_only=True)
    perimetre = next(rows).index("Périmètre")
    assert sum(1 for row in rows if row[perimetre] == "territoire") == engagements
