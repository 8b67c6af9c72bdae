"""One fact, one value: every figure the bilan, its commune bilans and the XLSX annex show with its measure equals
that measure. The HTML marks the element holding a formatted figure with `data-mesure` (code), `data-cle` and
`data-qpv` (absent: the territory) — reports/templates/_mesure.html.j2; the test reads each one back, parses the
French number and compares it with the measures table the report reads (referentiel.mesures: there is no published
copy of it on this branch), within half a unit of the last digit shown."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import duckdb
import pandas as pd
import pytest

from reports.annexe import unit_format

NOT_A_FIGURE = {"", "—", "-", "non renseigné", "secret", "s"}


class _Figures(HTMLParser):
    """(attributes, text) of every element carrying data-mesure; its text includes its children's."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict | None, list[str]]] = []
        self.found: list[tuple[dict, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "meta", "img", "hr", "input", "link"):
            return
        marked = dict(attrs) if any(k == "data-mesure" for k, _ in attrs) else None
        self.stack.append((tag, marked, []))

    def handle_endtag(self, tag):
        while self.stack:
            name, marked, text = self.stack.pop()
            if marked is not None:
                self.found.append((marked, "".join(text)))
            if self.stack:
                self.stack[-1][2].extend(text)
            if name == tag:
                break

    def handle_data(self, data):
        if self.stack:
            self.stack[-1][2].append(data)


def shown_figures(html: str) -> list[dict]:
    parser = _Figures()
    parser.feed(html)
    return [{"mesure": a["data-mesure"], "cle": a.get("data-cle"), "perimetre": a.get("data-qpv", "territoire"),
             "texte": " ".join(t.split())} for a, t in parser.found]


def french_number(text: str) -> tuple[float, float] | None:
    """« 12 700 » → (12700, 0.5); « 93,8 % » → (93.8, 0.05); « 1 234 € » → (1234, 0.5): the value and half a unit of
    its last digit. None for what is not a figure (« — », « non renseigné »)."""
    cleaned = text.replace("\u202f", " ").replace("\xa0", " ").strip()
    if cleaned.lower() in NOT_A_FIGURE:
        return None
    match = re.fullmatch(r"([+−-]?)\s*(\d{1,3}(?: \d{3})*|\d+)(?:,(\d+))?\s*(?:%|€|pts?|points?)?", cleaned)
    if not match:
        raise AssertionError(f"« {text} » n'est pas un nombre écrit à la française")
    sign, whole, decimals = match.groups()
    value = float(whole.replace(" ", "") + ("." + decimals if decimals else ""))
    return (-value if sign in ("−", "-") else value), 0.5 * 10 ** -(len(decimals) if decimals else 0)


def mismatches(figures: list[dict], measures: pd.DataFrame) -> list[str]:
    index = {(r.code_mesure, r.perimetre, None if pd.isna(r.cle) else r.cle): float(r.valeur)
             for r in measures.itertuples()}
    problems = []
    for f in figures:
        parsed = french_number(f["texte"])
        if parsed is None:
            continue
        shown, tolerance = parsed
        where = f"{f['mesure']} ({f['perimetre']}, {f['cle'] or 'sans clé'}) : « {f['texte']} »"
        published = index.get((f["mesure"], f["perimetre"], f["cle"]))
        if published is None:
            problems.append(f"{where} : aucune mesure publiée")
        elif abs(shown - published) > tolerance + 1e-9 * max(1.0, abs(published)):
            problems.append(f"{where} ≠ {published}")
    return problems


# --- the parsing, on hand-made HTML (fast) ---------------------------------------------------------


def test_figures_are_read_back_from_their_element_with_their_keys():
    html = ('<p><span data-mesure="prog.population">12\u202f700</span> habitants ; '
            '<td data-mesure="engagement.realise" data-cle="france_travail.de_accompagnes"><span>534</span></td>'
            '<strong data-mesure="prog.montant_accorde" data-qpv="QN05934M">1\u202f234\xa0€</strong>'
            '<td data-mesure="engagement.realise" data-cle="prefecture_nord.pass_sport">non renseigné</td></p>')
    figures = shown_figures(html)
    assert [(f["mesure"], f["cle"], f["perimetre"], f["texte"]) for f in figures] == [
        ("prog.population", None, "territoire", "12 700"),     # spaces read as plain spaces
        ("engagement.realise", "france_travail.de_accompagnes", "territoire", "534"),
        ("prog.montant_accorde", None, "QN05934M", "1 234 €"),
        ("engagement.realise", "prefecture_nord.pass_sport", "territoire", "non renseigné")]
    measures = pd.DataFrame([
        {"code_mesure": "prog.population", "perimetre": "territoire", "cle": None, "valeur": 12109.0},
        {"code_mesure": "engagement.realise", "perimetre": "territoire", "cle": "france_travail.de_accompagnes",
         "valeur": 534.0},
        {"code_mesure": "prog.montant_accorde", "perimetre": "QN05934M", "cle": None, "valeur": 1234.4}])
    # 12 700 shown for a published 12 109: the contradiction the test is there to catch
    assert mismatches(figures, measures) == [
        "prog.population (territoire, sans clé) : « 12 700 » ≠ 12109.0"]


@pytest.mark.parametrize("text,expected", [
    ("93,8\xa0%", (93.8, 0.05)), ("12\u202f700", (12700.0, 0.5)), ("1\u202f650,50\xa0€", (1650.5, 0.005)),
    ("−2,4\xa0pt", (-2.4, 0.05)), ("—", None), ("non renseigné", None)])
def test_french_numbers(text, expected):
    assert french_number(text) == expected


# --- the demo bilan ------------------------------------------------------------------------------------


def _demo_measures_2025(run) -> pd.DataFrame:
    with duckdb.connect(str(run.parametres.warehouse_path), read_only=True) as con:
        return con.execute("SELECT code_mesure, perimetre, cle, valeur FROM referentiel.mesures "
                           "WHERE territoire = 'ccco' AND annee = 2025").df()


def test_every_figure_shown_with_its_measure_equals_the_measure(demo_run_partage):
    folder = demo_run_partage.sortie / "2025" / "ccco"
    measures = _demo_measures_2025(demo_run_partage)
    pages = [folder / "bilan_ccco_2025.html", *sorted((folder / "communes").glob("*.html"))]
    assert len(pages) > 1
    for page in pages:
        figures = shown_figures(page.read_text(encoding="utf-8"))
        codes = {f["mesure"] for f in figures}
        if page.name == "bilan_ccco_2025.html":  # the whole bilan: every part shows its measures
            assert {"prog.population", "prog.montant_accorde", "engagement.realise", "engagement.qpv_renseignes",
                    "tfpb.taux_couverture", "engagements.taux_realisation_moyen"} <= codes
        else:
            assert {"prog.population", "prog.montant_accorde"} <= codes, page.name
        assert mismatches(figures, measures) == [], page.name


def test_one_population_per_perimeter(demo_run_partage):
    """12 700 on the cover and 12 109 in the tables was one population in two sources: the contract's (seed 001 III.2,
    Filosofi 2019 re-estimated on the 2024 QPV) is the one published (prog.population) and shown."""
    html = (demo_run_partage.sortie / "2025" / "ccco" / "bilan_ccco_2025.html").read_text(encoding="utf-8")
    population = [f for f in shown_figures(html) if f["mesure"] == "prog.population"]
    shown = {(f["perimetre"], french_number(f["texte"])[0]) for f in population}  # type: ignore[index]
    assert ("territoire", 12700.0) in shown and ("QN05934M", 3500.0) in shown
    assert len({p for p, _ in shown}) == len(shown)          # one value per perimeter, wherever it is shown
    assert "12\u202f109" not in html and "3\u202f377" not in html


def test_the_annex_gives_the_same_values_as_the_measures(demo_run_partage):
    """The XLSX annex: each referential value and each commitment row (by its code) equals its measure."""
    folder = demo_run_partage.sortie / "2025" / "ccco"
    measures = _demo_measures_2025(demo_run_partage)
    index = {(r.code_mesure, r.perimetre, None if pd.isna(r.cle) else r.cle): r.valeur for r in measures.itertuples()}
    referentiel = pd.read_excel(folder / "bilan_ccco_2025_annexe.xlsx", sheet_name="Référentiel")
    shown = referentiel[referentiel["Valeur"].notna()]
    assert len(shown) > 20
    for _, r in shown.iterrows():
        cle = None if pd.isna(r["Clé"]) else r["Clé"]
        measure = index[(r["Code de mesure"], r["Périmètre"], cle)]
        # the annex rounds to the unit's decimals (reports/annexe.py)
        assert r.Valeur == pytest.approx(round(measure, unit_format(measure, r["Unité"])[0])), r.Indicateur
    engagements = pd.read_excel(folder / "bilan_ccco_2025_annexe.xlsx", sheet_name="Engagements")
    code = "Code (clé des mesures engagement.*)"
    for column, mesure in (("Réalisé", "engagement.realise"), ("Cible", "engagement.cible"),
                           ("Taux de réalisation (%)", "engagement.taux_realisation")):
        rows = engagements[engagements[column].notna()]
        assert len(rows) > 10
        for _, r in rows.iterrows():
            measure = index[(mesure, r["Périmètre"], r[code])]
            decimals = 1 if mesure == "engagement.taux_realisation" else unit_format(measure, r["Unité"])[0]
            assert r[column] == pytest.approx(round(measure, decimals)), (r[code], column)
    france_travail = engagements[(engagements[code] == "france_travail.de_accompagnes")
                                 & (engagements["Périmètre"] == "territoire")].iloc[0]
    assert (france_travail["Réalisé"], france_travail["QPV renseignés (somme)"],
            france_travail["QPV engagés (somme)"]) == (534, 7, 8)
