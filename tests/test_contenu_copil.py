"""Issue 12 item 5, the content a COPIL expects: rules of reports/render.py and reports/sections/ on small frames,
and what the demo bilan shows against the published tables."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from reports.render import arrete_au
from tests.conftest import DEMO_DATA


def test_arrete_au_is_the_last_file_of_the_year_received():
    seen = pd.to_datetime(["2026-01-30 09:00", "2026-02-03 10:00", "2026-02-11 08:15"])
    sources = pd.DataFrame({"annee": [2024, 2025, 2025], "depose_le": seen})
    assert arrete_au(sources, 2025) == "11/02/2026"   # not the 2024 box's file, nor the run's date
    assert arrete_au(sources, 2024) == "30/01/2026"
    assert arrete_au(sources, 2023) is None
    assert arrete_au(pd.DataFrame(), 2025) is None


@pytest.fixture(scope="module")
def demo(demo_run_partage):
    con = duckdb.connect(str(demo_run_partage.parametres.warehouse_path), read_only=True)
    html = (demo_run_partage.sortie / "2025" / "ccco" / "bilan_ccco_2025.html").read_text(encoding="utf-8")
    yield con, html
    con.close()


def test_cover_gives_the_copil_date_and_the_date_data_stop_at(demo):
    con, html = demo
    # the day the last file of the 2025 box was put there, as the inbox says (not the day a run saw it)
    inbox = DEMO_DATA / "inbox" / "ccco" / "2025"
    last = dt.datetime.fromtimestamp(max(p.stat().st_mtime for p in inbox.iterdir()))
    assert con.execute("SELECT max(depose_le) FROM publication.sources WHERE territoire = 'ccco' AND annee = 2025 "
                       "AND actif").fetchone()[0] == last
    cover = html.split('<nav class="toc">')[0]
    assert f"Données arrêtées au {last:%d/%m/%Y}" in cover
    # config/territoires/ccco.yaml, annee_bilan 2025: a bilan made after its COPIL says it is an updated version
    if dt.date.today() > dt.date(2026, 3, 19):
        assert (f"Version du {dt.date.today():%d/%m/%Y}, mise à jour après le comité de pilotage du 19/03/2026."
                in cover) and "Présenté au comité" not in cover
    else:
        assert "Présenté au comité de pilotage du 19/03/2026." in cover
    assert "Document produit par bilan-quartiers le" not in cover


def test_the_cover_says_presented_before_the_copil_and_updated_after_it():
    from reports.render import copil_mention

    copil = dt.date(2026, 3, 19)
    assert copil_mention(copil, dt.date(2026, 3, 1)) == {"date": "19/03/2026", "apres": False}
    assert copil_mention(copil, dt.date(2026, 3, 19)) == {"date": "19/03/2026", "apres": False}
    assert copil_mention(copil, dt.date(2026, 3, 20)) == {"date": "19/03/2026", "apres": True}
    assert copil_mention(None, dt.date(2026, 3, 20)) is None


def test_the_data_stop_at_the_last_accepted_file_not_a_refused_one():
    import pandas as pd

    from reports.render import arrete_au

    sources = pd.DataFrame({"annee": [2025, 2025, 2024], "nom_fichier": ["a.csv", "refuse.xlsx", "old.csv"],
                            "depose_le": pd.to_datetime(["2026-01-10", "2026-02-02", "2026-03-01"])})
    qualite = pd.DataFrame({"fichier": ["a.csv", "refuse.xlsx"], "statut": ["accepte", "refuse"]})
    assert arrete_au(sources, 2025, qualite) == "10/01/2026"
    assert arrete_au(sources, 2025) == "02/02/2026"


def test_evolution_since_last_year():
    from reports.sections.commun import evolution

    assert evolution(110.0, 100.0) == "+10,0\u00a0%"
    assert evolution(90.0, 100.0).endswith("10,0\u00a0%") and evolution(90.0, 100.0) != "+10,0\u00a0%"
    assert evolution(50.0, None) == "—" and evolution(50.0, 0.0) == "—" and evolution(None, 3.0) == "—"


def _published(con, code: str, annee: int = 2025) -> dict:
    return dict(con.execute("SELECT cle, valeur FROM publication.mesures WHERE territoire = 'ccco' AND annee = ? "
                            "AND perimetre = 'territoire' AND code_mesure = ? AND cle IS NOT NULL",
                            [annee, code]).fetchall())


def test_financeur_by_axe_table_with_subtotals_and_change(demo):
    from reports.format import euros

    con, html = demo
    table = html.split('<table class="financeurs-axes">')[1].split("</table>")[0]
    financeur = _published(con, "prog.montant_financeur")
    totals = {k: v for k, v in financeur.items() if " · axe " not in k}
    assert totals, "the demo programming has granted money by financeur"
    for code in totals:   # one row per financeur, each cell marked with its measure (tests/test_une_valeur.py)
        assert f'data-mesure="prog.montant_financeur" data-cle="{code}"' in table
    # the financeur × axe cells add up to each axe's published subtotal
    axes = _published(con, "prog.montant_accorde")
    for axe, subtotal in ((k, v) for k, v in axes.items() if k.startswith("axe ")):
        cells = sum(v for k, v in financeur.items() if k.endswith(f" · {axe}"))
        assert abs(cells - subtotal) < 0.01
        assert f'data-mesure="prog.montant_accorde" data-cle="{axe}"' in table
    # last year's column is the 2024 published measure
    before = _published(con, "prog.montant_financeur", 2024)
    shown = [v for k, v in before.items() if k in totals]
    assert shown, "the 2024 demo run published prog.montant_financeur"
    for value in shown:
        assert euros(value) in table
