"""Two runs of the same inbox publish the same thing: every `publication.*` table, the annex workbook's sheets and
the bilan's HTML, charts included, are equal, run id and dates aside (floating-point noise rounded at writing, exports
ordered, chart ids named after the chart)."""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pandas as pd

from core.warehouse import SIGNIFICANT_DIGITS, round_frame, round_significant

# what legitimately differs between two runs: the run, the clock, the output folder. The content fingerprint does
# not: it covers what the bilan shows, and the date its data stop at is the files' deposit (`depose_le`)
RUN_COLUMNS = {"run_id", "publie_le", "envoye_le", "dossier", "fichiers"}
RUN_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")


def test_round_significant_erases_summation_noise():
    noisy = np.array([149017.38312680184, 149017.38312680178, 3429.92125984252, 3429.921259842519])
    rounded = round_significant(noisy)
    assert rounded[0] == rounded[1] == 149017.383127 and rounded[2] == rounded[3] == 3429.92125984
    assert round_significant(np.array([12500.5, 0.1, -0.0, np.nan, 1e-3]))[[0, 1, 4]].tolist() == [12500.5, 0.1, 1e-3]
    assert np.isnan(round_significant(np.array([np.nan]))[0])
    frame = round_frame(pd.DataFrame({"v": pd.array([772899.9999999991, None], dtype="Float64"), "n": [1, 2]}))
    assert frame["v"].dtype == "Float64" and frame["v"].tolist()[0] == 772900.0 and frame["v"].isna().tolist()[1]
    assert SIGNIFICANT_DIGITS == 12


def test_a_chart_renders_the_same_svg_twice_in_one_process():
    """vl-convert numbers gradients and clip paths by a process-wide counter: the chart names them after itself."""
    import altair as alt

    from reports import charts

    # a continuous colour legend is drawn with an SVG gradient
    chart = alt.Chart(pd.DataFrame({"x": ["a", "b"], "v": [1.0, 2.0]})).mark_rect().encode(x="x:N", color="v:Q")
    first, second = (charts.svg(chart) for _ in range(2))
    assert "gradient_" in first and first == second
    square = [[[3.0, 50.0], [3.1, 50.0], [3.1, 50.1], [3.0, 50.0]]]
    features = [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": square},
                 "properties": {"code": "QN05936M", "nom": "Quartier", "v": 12.5}}]
    commune = [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[2.9, 49.9], [3.2, 49.9],
                                                                                  [3.2, 50.2], [2.9, 49.9]]]},
                "properties": {"code": "59008", "nom": "Aniche"}}]
    # one QPV's page: the map is clipped at its frame
    first_map, second_map = (charts.qpv_map(features, "Carte", "test", highlight="QN05936M", communes=commune)
                             for _ in range(2))
    assert "clip-path" in first_map and first_map == second_map


def _publication(sortie) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(sortie / "entrepot.duckdb"), read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                             "'publication' ORDER BY 1").fetchall()]
        frames = {t: con.execute(f"SELECT * FROM publication.{t}").df() for t in tables}
    # a column ending in _le says when the run did something (evaluated, published, first saw a file): it differs;
    # not when a file was deposited
    return {t: f.drop(columns=[c for c in f.columns if c in RUN_COLUMNS or c.endswith("_le") and c != "depose_le"])
            for t, f in frames.items()}


def _annex(sortie) -> dict[str, pd.DataFrame]:
    return pd.read_excel(sortie / "2025" / "ccco" / "bilan_ccco_2025_annexe.xlsx", sheet_name=None)


def _html(sortie) -> str:
    """The bilan as a reader's browser gets it, charts and maps included, the run id and dates aside."""
    html = (sortie / "2025" / "ccco" / "bilan_ccco_2025.html").read_text(encoding="utf-8")
    return DATE.sub("JJ/MM/AAAA", RUN_ID.sub("RUN", html))


def test_two_runs_of_the_demo_publish_the_same_tables_annex_and_html(demo_run_partage, demo_run_second):
    sortie = demo_run_second.sortie
    first, second = demo_run_partage.sortie, sortie

    tables_1, tables_2 = _publication(first), _publication(second)
    assert set(tables_1) == set(tables_2)
    assert {"referentiel", "cohortes_jalons", "mesures", "bilans_publies", "controles"} <= set(tables_1)
    for name in tables_1:
        # same rows in the same order, to the last bit
        pd.testing.assert_frame_equal(tables_1[name], tables_2[name], check_exact=True, obj=f"publication.{name}")

    annex_1, annex_2 = _annex(first), _annex(second)
    assert list(annex_1) == list(annex_2)
    for sheet in annex_1:
        pd.testing.assert_frame_equal(annex_1[sheet], annex_2[sheet], check_exact=True, obj=f"annexe « {sheet} »")

    html_1, html_2 = _html(first), _html(second)
    assert "RUN" in html_1 and html_1.count("<svg") > 10 and html_1 == html_2


def test_check_details_do_not_depend_on_the_order_rows_are_stored_in(marts_run_2025, tmp_path):
    """A mart built by a parallel GROUP BY comes out in another order at each run: the failing rows a check lists
    (and so the bilan's content and its fingerprint) must not follow it."""
    from checks.controles import REGISTRE
    from checks.expectations import run_suites

    with duckdb.connect(str(marts_run_2025.parametres.warehouse_path), read_only=True) as con:
        tfpb = con.execute("SELECT * FROM marts.tfpb WHERE annee = 2025").df()
    # more landlords, every landlord-QPV pair under its full coverage: a long detail
    tfpb = pd.concat([tfpb.assign(bailleur=f"Bailleur {c}") for c in "ABCDEF"], ignore_index=True)
    tfpb["taux_couverture"] = 50.0
    outcomes = []
    for i, rows in enumerate((tfpb, tfpb.iloc[::-1])):
        con = duckdb.connect()
        con.execute("CREATE SCHEMA marts")
        con.register("_rows", rows)
        con.execute("CREATE TABLE marts.tfpb AS SELECT * FROM _rows")
        out = run_suites(con, REGISTRE, marts_run_2025.parametres.config.vocabulaire, tmp_path / str(i), 2025,
                         "marts", ["marts/tfpb"])
        outcomes.append(out["resultats"]["couverture_sous_100"])
    (problems, _), _ = outcomes
    assert len(problems["ccco"][1].split(" ; ")) == len(tfpb)
    assert outcomes[0] == outcomes[1]
