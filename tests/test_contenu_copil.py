"""Issue 12 item 5, the content a COPIL expects: rules of reports/contenu.py on small frames, and what the demo
bilan shows against the published tables."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from reports.contenu import arrete_au


def test_arrete_au_is_the_last_file_of_the_year_received():
    sources = pd.DataFrame({"annee": [2024, 2025, 2025],
                            "premier_vu_le": pd.to_datetime(["2026-01-30", "2026-02-03 10:00", "2026-02-11 08:15"])})
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
    last = con.execute("SELECT max(premier_vu_le) FROM publication.sources WHERE territoire = 'ccco' AND annee = 2025 "
                       "AND actif").fetchone()[0]
    cover = html.split('<nav class="toc">')[0]
    assert f"Données arrêtées au {last:%d/%m/%Y}" in cover
    assert "Présenté au comité de pilotage du 19/03/2026." in cover   # config/territoires/ccco.yaml, annee_bilan 2025
    assert "Document produit par bilan-quartiers le" not in cover
