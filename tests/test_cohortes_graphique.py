"""The cohort chart: the follow-up jalons as a line, the exit (a smaller self-selected group) apart, never joined."""

from __future__ import annotations

import pandas as pd

from reports import charts

ORDER = ["6 mois", "12 mois", "24 mois"]


def _frame() -> pd.DataFrame:
    rows = [("Mission locale (cohorte 2023)", j, t) for j, t in (("6 mois", 40.0), ("12 mois", 52.0),
                                                                  ("24 mois", 61.0), ("Sortie", 80.0))]
    rows += [("AFPA (cohorte 2024)", j, t) for j, t in (("6 mois", 30.0), ("Sortie", 70.0))]
    return pd.DataFrame(rows, columns=["serie", "jalon", "taux"])


def _datasets(spec: dict, view: dict) -> list[dict]:
    return spec["datasets"][view["data"]["name"]]


def test_the_exit_is_drawn_apart_from_the_follow_up_line():
    spec = charts.cohort_rates_chart(_frame(), "Sorties positives", "test", ORDER, sortie="Sortie").to_dict()
    jalons, exits = spec["hconcat"]
    assert jalons["mark"]["type"] == "line"
    assert {r["jalon"] for r in _datasets(spec, jalons)} == {"6 mois", "12 mois", "24 mois"}
    assert jalons["encoding"]["x"]["sort"] == ORDER
    assert exits["mark"]["type"] == "point"                     # dots: no path joins two CPO's exits either
    assert {r["jalon"] for r in _datasets(spec, exits)} == {"Sortie"}
    assert len(_datasets(spec, exits)) == 2
    assert charts.cohort_rates(_frame(), "Sorties positives", "test", ORDER, sortie="Sortie").startswith("<svg")


def test_without_exits_one_line_chart():
    frame = _frame()
    spec = charts.cohort_rates_chart(frame[frame["jalon"] != "Sortie"], "t", "s", ORDER, sortie="Sortie").to_dict()
    assert "hconcat" not in spec and spec["mark"]["type"] == "line"


def test_expected_never_contradicts_observed():
    from reports.sections.cohortes import NO_DUE_DATE, NOT_DUE, attendus

    assert attendus("< 5", "41", "12_mois", "sortie") == NOT_DUE          # hidden expected beside a shown observed
    assert attendus("8", "41", "12_mois", "sortie") == NOT_DUE            # observed before the due date
    assert attendus("45", "41", "12_mois", "sortie") == "45"
    assert attendus("< 5", "< 5", "12_mois", "sortie") == "< 5"           # both under secrecy: as published
    assert attendus("12", "secret statistique", "6_mois", "sortie") == "12"
    assert attendus("< 5", "30", "sortie", "sortie") == NO_DUE_DATE


def test_rate_by_sex_shows_secrecy():
    from reports.sections.cohortes import by_sex

    rows = pd.DataFrame({"reference_cpo": ["CPO-1"] * 3, "cohorte": [2023] * 3, "dimension": ["sexe"] * 3,
                         "modalite": ["F", "M", "NR"], "observes": ["24", "19", "< 5"],
                         "taux_sortie_positive": [62.5, 47.368, None]})
    out = by_sex(rows, {"F": "Femmes", "M": "Hommes", "NR": "Non renseigné"}, {"CPO-1": "Mission locale"},
                 "secret statistique")
    assert [(r["cpo"], r["sexe"], r["observes"], r["taux"]) for r in out] == [
        ("Mission locale", "Femmes", "24", "62\u00a0%"), ("Mission locale", "Hommes", "19", "47\u00a0%"),
        ("Mission locale", "Non renseigné", "< 5", "secret statistique")]


def test_the_demo_bilan_shows_expected_consistent_with_observed(demo_run_partage):
    import re

    html = (demo_run_partage.sortie / "2025" / "ccco" / "bilan_ccco_2025.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="cohortes"'):]
    section = section[:section.index("</section>")]
    rows = re.findall(r'<tr><td>([^<]+)</td><td class="n">([^<]+)</td><td class="n">([^<]+)</td>', section)
    assert len(rows) > 5
    for jalon, expected, observed in rows:
        if observed.isdigit():
            assert expected in ("non échu", "sans objet") or expected.isdigit() and int(expected) >= int(observed), (
                jalon, expected, observed)
    assert "Sorties positives à 12 mois, par sexe" in section


def test_the_demo_chart_says_how_many_rates_secrecy_left_out(demo_run_partage):
    """Issue 30: the demo's chart has four points because most cells are under secrecy; its source says so, with
    the counts of the published table (a rate after entry, for each cohort and jalon it reached)."""
    import html

    import duckdb

    with duckdb.connect(str(demo_run_partage.parametres.warehouse_path), read_only=True) as con:
        followed, published = con.execute(
            "SELECT count(*), count(taux_sortie_positive) FROM publication.cohortes_jalons WHERE annee = 2025 AND "
            "territoire = 'ccco' AND dimension = 'ensemble' AND jalon <> 'entree'").fetchone()
    assert 0 < published < followed
    bilan = html.unescape((demo_run_partage.sortie / "2025" / "ccco" / "bilan_ccco_2025.html").read_text("utf-8"))
    assert (f"{published} taux publiés sur {followed}, les autres couverts par le secret statistique (voir "
            "« Méthode »)") in bilan
