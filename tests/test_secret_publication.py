"""Statistical secrecy of everything published, checked the way an attacker would: for every published table of
the demo and of small hand-made cases, build every linear relation that holds between published cells (a total and
its parts along each dimension, a rate × its denominator = its numerator, complements such as lost-from-view =
observed − the other situations, the same cell in two tables), substitute what is shown, and show that no hidden
cell can be recomputed nor bounded to a single value (a linear programme per connected group of hidden cells, with
what the display tells: « < 5 » is 0 to 4, « secret statistique » on a count was a visible count, so ≥ 5)."""

from __future__ import annotations

import math
from collections import defaultdict

import duckdb
import pandas as pd
import pytest

from assets.publication.colonnes_cohortes import RATES, CohortColumns
from assets.publication.secret import SECONDARY, suppress
from assets.publication.tables import published_tables, write_year
from core.config.projet import ProjectConfig
from pipelines.definitions import GRAPH

CONFIG = ProjectConfig()
SECRET = CONFIG.settings.secret_statistique
MIN, DENOM = SECRET.effectif_minimal, SECRET.denominateur_minimal
PRIMARY = f"< {MIN}"
COLUMNS = CohortColumns.of(CONFIG.vocabulaire)
ROW = ["territoire", "reference_cpo", "cohorte", "jalon", "dimension", "modalite"]
JALONS = [t.code for t in CONFIG.vocabulaire.termes("jalons")]


# --- the attacker ----------------------------------------------------------------------------------------------


class Reader:
    """What a reader knows: each published cell's value, or an unknown with the bounds its display gives; the
    true value of every cell (to keep only relations that hold), and the linear relations between cells."""

    def __init__(self):
        self.known: dict = {}
        self.bounds: dict = {}
        self.truth: dict = {}
        self.sensitive: set = set()        # unknowns that must stay unpinned
        self.relations: list[dict] = []     # {cell: coef}, Σ coef × cell = 0

    def cell(self, key, shown, true: float, upper: float | None = None) -> None:
        self.truth[key] = float(true)
        if shown is None or (not isinstance(shown, str) and pd.isna(shown)):
            self.bounds[key] = (0.0, upper)      # withheld (rate numerator): the reader knows nothing more
            if true < MIN:
                self.sensitive.add(key)
        elif shown == PRIMARY:
            self.bounds[key] = (0.0, MIN - 1.0)
            self.sensitive.add(key)
        elif shown == SECONDARY:
            self.bounds[key] = (float(MIN), upper)
            self.sensitive.add(key)
        else:
            self.known[key] = float(shown)

    def relate(self, coefs: dict) -> None:
        if all(k in self.truth for k in coefs) and abs(sum(c * self.truth[k] for k, c in coefs.items())) < 0.5:
            self.relations.append(coefs)

    def leaks(self) -> list[tuple]:
        """Hidden cells pinned to one whole value by the relations and the bounds."""
        equations = []
        for coefs in self.relations:
            unknown = {k: c for k, c in coefs.items() if k not in self.known}
            if unknown:
                equations.append((unknown, -sum(c * self.known[k] for k, c in coefs.items() if k in self.known)))
        parent: dict = {}

        def find(x):
            while parent.setdefault(x, x) != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for unknown, _ in equations:
            first, *rest = unknown
            for k in rest:
                parent[find(k)] = find(first)
        groups: dict = defaultdict(list)
        for i, (unknown, _) in enumerate(equations):
            groups[find(next(iter(unknown)))].append(i)
        found = []
        for rows in groups.values():
            cells = sorted({k for i in rows for k in equations[i][0]}, key=str)
            index = {k: j for j, k in enumerate(cells)}
            a_eq = [[0.0] * len(cells) for _ in rows]
            for r, i in enumerate(rows):
                for k, c in equations[i][0].items():
                    a_eq[r][index[k]] += c
            b_eq = [equations[i][1] for i in rows]
            bounds = [self.bounds[k] for k in cells]
            for j, minimum, maximum in _extremes(a_eq, b_eq, bounds, [index[k] for k in cells if k in self.sensitive]):
                if maximum < math.inf and math.floor(maximum + 1e-6) - math.ceil(minimum - 1e-6) < 1:
                    found.append((cells[j], self.truth[cells[j]], minimum, maximum))
        return found


def _extremes(a_eq, b_eq, bounds, candidates) -> list[tuple[int, float, float]]:
    """Minimum and maximum of each candidate unknown under the equations and bounds, except those already seen to
    take two whole values (every solution of a programme is a point the unknowns can take)."""
    from scipy.optimize import linprog

    low, high = [math.inf] * len(bounds), [-math.inf] * len(bounds)

    def solve(c) -> float:
        result = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if result.status == 3:                      # unbounded: no upper bound on a secondary cell
            return -math.inf
        assert result.status == 0, result.message    # the truth is a solution: never infeasible
        for j, x in enumerate(result.x):
            low[j], high[j] = min(low[j], x), max(high[j], x)
        return result.fun

    for seed in range(3):
        solve([1.5 + math.sin(seed * 7.1 + j * 1.3) for j in range(len(bounds))])
    out = []
    for j in candidates:
        if math.floor(high[j] + 1e-6) - math.ceil(low[j] - 1e-6) >= 1:
            continue
        unit = [0.0] * len(bounds)
        unit[j] = 1.0
        minimum = solve(unit)
        unit[j] = -1.0
        out.append((j, minimum, -solve(unit)))
    return out


def read_publication(con: duckdb.DuckDBPyConnection, annee: int) -> Reader:
    """Every published table of the year (publication.*), every relation found between their cells."""
    reader = Reader()
    jalons = con.execute("SELECT * FROM publication.cohortes_jalons WHERE annee = ?", [annee]).df()
    truth = con.execute("SELECT * FROM marts.cohortes_jalons WHERE annee = ?", [annee]).df().set_index(ROW)
    for row in jalons.itertuples(index=False):
        key = tuple(getattr(row, c) for c in ROW)
        true = truth.loc[key]
        for column in COLUMNS.counts:
            reader.cell(("J", *key, column), getattr(row, column), true[column])
        for rate, numerator in RATES.items():   # rate × denominator = numerator
            shown, observes = getattr(row, rate), row.observes
            if pd.notna(shown) and observes not in (PRIMARY, SECONDARY):
                reader.known[("Jr", *key, rate)] = shown * float(observes) / 100
                reader.truth[("Jr", *key, rate)] = true[numerator]
                reader.relate({("Jr", *key, rate): 1, ("J", *key, numerator): -1})
    # within a row: observed = Σ situations (so each situation is a complement), positive exits = Σ positive ones
    for key in truth.index:
        reader.relate({("J", *key, "observes"): -1, **{("J", *key, s): 1 for s in COLUMNS.situations}})
        reader.relate({("J", *key, "sorties_positives"): -1, **{("J", *key, s): 1 for s in COLUMNS.positives}})
    # along each breakdown: the whole cohort = Σ its modalities, column by column
    flat = truth.reset_index()
    for (t, cpo, cohorte, jalon, dimension), rows in flat[flat["dimension"] != "ensemble"].groupby(ROW[:5]):
        for column in COLUMNS.counts:
            reader.relate({("J", t, cpo, cohorte, jalon, "ensemble", "ensemble", column): -1,
                           **{("J", t, cpo, cohorte, jalon, dimension, m, column): 1 for m in rows["modalite"]}})
    # the measures table: counts, and the numerator each rate gives back with its denominator
    measures = con.execute("SELECT p.*, m.valeur AS vraie, m.effectif FROM publication.mesures p JOIN "
                           "referentiel.mesures m USING (territoire, annee, code_mesure, perimetre) WHERE p.annee = ? "
                           "AND m.cle IS NOT DISTINCT FROM p.cle AND m.effectif IS NOT NULL", [annee]).df()
    for row in measures.itertuples(index=False):
        level, rest = row.code_mesure.split(".", 1)
        jalon = next(j for j in JALONS if rest.endswith("_" + j))
        metric = rest[: -len(jalon) - 1]
        column = RATES.get(metric, metric)
        key = ("M", row.territoire, level, row.cle, jalon, column)
        if metric in RATES:
            denominator = measures[(measures["code_mesure"] == f"{level}.observes_{jalon}")
                                   & (measures["cle"] == row.cle)]["secret"]
            den_known = len(denominator) == 1 and denominator.iloc[0] is None
            shown = (row.valeur * row.effectif / 100) if pd.notna(row.valeur) and den_known else None
            reader.cell(key, None if shown is None else round(shown), round(row.vraie * row.effectif / 100),
                        upper=row.effectif if den_known else None)   # a numerator is at most its denominator
        else:
            reader.cell(key, row.secret if row.secret else row.valeur, row.vraie)
    cpo_objective = dict(flat[["reference_cpo", "code_objectif"]].drop_duplicates().dropna().itertuples(index=False))
    for key in [k for k in reader.truth if k[0] == "M"]:
        _, t, level, cle, jalon, column = key
        if level == "cohorte":      # a CPO's measure adds up its cohorts (the same cells in two tables)
            cohorts = flat[(flat["reference_cpo"] == cle) & (flat["jalon"] == jalon)
                           & (flat["dimension"] == "ensemble")]["cohorte"]
            reader.relate({key: -1, **{("J", t, cle, c, jalon, "ensemble", "ensemble", column): 1 for c in cohorts}})
        else:                       # an objective's adds up its CPO's
            cpos = [c for c, o in cpo_objective.items() if o == cle]
            reader.relate({key: -1, **{("M", t, "cohorte", c, jalon, column): 1 for c in cpos}})
    # transitions between jalons are not published: with the cohort table they gave cells back
    assert not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'publication' "
                           "AND table_name = 'cohortes_transitions'").fetchone()[0]
    # the referential shows a measure: never one the measures table hides
    shown = con.execute("SELECT r.code_indicateur, r.valeur, p.secret FROM publication.referentiel r JOIN "
                        "publication.mesures p ON p.annee = r.annee AND p.territoire = r.territoire AND "
                        "p.code_mesure = r.mesure AND p.perimetre = r.perimetre AND p.cle IS NOT DISTINCT FROM r.cle "
                        "WHERE r.annee = ? AND p.secret IS NOT NULL AND r.valeur IS NOT NULL", [annee]).fetchall()
    assert not shown, shown
    return reader


def assert_nothing_leaks(con, annee: int) -> Reader:
    reader = read_publication(con, annee)
    leaks = reader.leaks()
    assert not leaks, f"{len(leaks)} cellules masquées retrouvées : {leaks[:10]}"
    return reader


# --- the demo ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_run_partage):
    con = duckdb.connect(str(demo_run_partage.parametres.warehouse_path), read_only=True)
    yield con
    con.close()


def test_no_hidden_cell_of_the_demo_can_be_recomputed_or_bounded(demo):
    for annee in (2024, 2025):
        reader = assert_nothing_leaks(demo, annee)
        assert len(reader.relations) > 500 and len(reader.sensitive) > 100   # the check saw the tables


def test_the_cases_found_on_the_demo_bilan_are_closed(demo):
    # CPO-CCCO-2024-03 at exit: 6 observed, lost-from-view « < 5 »: its rate is not published anywhere
    rates = dict(demo.execute("SELECT code_mesure, coalesce(CAST(valeur AS VARCHAR), secret) FROM publication.mesures "
                              "WHERE annee = 2025 AND cle = 'CPO-CCCO-2024-03' AND code_mesure LIKE 'cohorte.%sortie'"
                              ).fetchall())
    assert rates["cohorte.taux_perdus_de_vue_sortie"] == SECONDARY
    # CPO-02, cohort 2024 at 6 months: lost-from-view is no longer observed − the other situations
    row = demo.execute("SELECT * FROM publication.cohortes_jalons WHERE annee = 2025 AND reference_cpo = "
                       "'CPO-CCCO-2024-02' AND cohorte = 2024 AND jalon = '6_mois' AND dimension = 'ensemble'").df()
    hidden = [c for c in COLUMNS.situations if row[c].iloc[0] in (PRIMARY, SECONDARY)]
    assert "perdu_de_vue" in hidden and len(hidden) >= 2


def test_every_output_reads_the_publication_schema_only():
    """The reports and the partners' feedback name no internal schema (marts, referentiel, staging…)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for path in [*(root / "reports").glob("*.py"), root / "assets" / "retours.py"]:
        text = path.read_text(encoding="utf-8")
        for schema in ("marts.", "referentiel.mesures", "referentiel.indicateurs", "staging.", "quarantine.",
                       "archive."):
            for read in (f"FROM {schema}", f"JOIN {schema}", f'_df(con, "{schema[:-1]}"'):
                assert read not in text, (path.name, read)


# --- hand-made cases ----------------------------------------------------------------------------------------------


def _run(values: dict, relations: list[tuple[str, list[str]]]) -> dict:
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE _cellules AS SELECT *, NULL::DOUBLE AS plafond, 't' AS territoire FROM (VALUES " +
                ", ".join(f"('{k}', {float(v)})" for k, v in values.items()) + ") t(cellule, valeur)")
    con.execute("UPDATE _cellules SET valeur = valeur::DOUBLE")
    con.execute("CREATE TEMP TABLE _relations (relation VARCHAR, cellule VARCHAR, coef INTEGER)")
    for i, (total, parts) in enumerate(relations):
        con.executemany("INSERT INTO _relations VALUES (?, ?, ?)",
                        [[f"r{i}", total, -1], *([f"r{i}", p, 1] for p in parts)])
    suppress(con, MIN, DENOM)
    return dict(con.execute("SELECT cellule, etat FROM _etat").fetchall())


def _attack(values, relations, etat) -> list:
    reader = Reader()
    for k, v in values.items():
        reader.cell(k, {"primaire": PRIMARY, "secondaire": SECONDARY}.get(etat[k], str(v)), v)
    for total, parts in relations:
        reader.relate({total: -1, **{p: 1 for p in parts}})
    return reader.leaks()


def test_a_naive_table_would_let_the_hidden_cell_be_recomputed_from_its_total():
    values, relations = {"total": 20, "x": 2, "y": 9, "z": 9}, [("total", ["x", "y", "z"])]
    naive = {k: "primaire" if v < MIN else "visible" for k, v in values.items()}
    assert [leak[0] for leak in _attack(values, relations, naive)] == ["x"]      # 20 − 9 − 9 = 2
    etat = _run(values, relations)
    assert etat["x"] == "primaire" and sorted(etat.values()).count("secondaire") == 1
    assert not _attack(values, relations, etat)


def test_bounds_shown_by_the_display_pin_nothing():
    # 13 = 5 + « < 5 » + « < 5 »: both small cells would be 4 (each at most 4); one more cell must go
    values, relations = {"t": 13, "a": 5, "b": 4, "c": 4}, [("t", ["a", "b", "c"])]
    naive = {k: "primaire" if v < MIN else "visible" for k, v in values.items()}
    assert {leak[0] for leak in _attack(values, relations, naive)} == {"b", "c"}
    etat = _run(values, relations)
    assert etat["a"] == "secondaire" and not _attack(values, relations, etat)


def test_secondary_suppression_propagates_through_linked_totals():
    values = {"r1": 12, "r2": 30, "c1": 10, "c2": 32, "t": 42, "a": 3, "b": 9, "c": 7, "d": 23}
    relations = [("r1", ["a", "b"]), ("r2", ["c", "d"]), ("c1", ["a", "c"]), ("c2", ["b", "d"]),
                 ("t", ["r1", "r2"]), ("t", ["c1", "c2"])]
    etat = _run(values, relations)
    assert {k for k, e in etat.items() if e != "visible"} == {"a", "b", "c", "d"}
    assert not _attack(values, relations, etat)


def _hand_made_warehouse(tmp_path) -> duckdb.DuckDBPyConnection:
    """One CPO, one 2024 cohort at 12 months, by sex, its measures, and two transitions — written by hand."""
    from assets.marts.reference_tables import sync_reference_tables
    from assets.marts.sql import run_script
    from core.marts import SQL_DIR

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    sync_reference_tables(con, CONFIG, [CONFIG.territoire("ccco")])
    run_script(con, "schema.sql", folder=SQL_DIR)
    counts = {  # attendus, observes, emploi_durable, emploi_transition, formation, recherche, inactif, perdu
        ("ensemble", "ensemble"): (30, 28, 9, 6, 3, 6, 2, 2),
        ("sexe", "F"): (16, 15, 6, 2, 1, 4, 1, 1),
        ("sexe", "M"): (14, 13, 3, 4, 2, 2, 1, 1)}
    rows = []
    for (dimension, modalite), (attendus, observes, *situations) in counts.items():
        positives = sum(situations[:3])
        rows.append({"territoire": "ccco", "annee": 2025, "reference_cpo": "CPO-A", "code_objectif": "OG.1.1",
                     "cohorte": 2024, "jalon": "12_mois", "rang_jalon": 3, "dimension": dimension,
                     "modalite": modalite, "attendus": attendus, "observes": observes,
                     **dict(zip(COLUMNS.situations, situations)), "sorties_positives": positives,
                     "taux_sortie_positive": 100 * positives / observes,
                     "taux_emploi_durable": 100 * situations[0] / observes,
                     "taux_perdus_de_vue": 100 * situations[5] / observes})
    con.register("_rows", pd.DataFrame(rows))
    con.execute("INSERT INTO marts.cohortes_jalons BY NAME SELECT * FROM _rows")
    measures = [("cohorte.observes_12_mois", 28.0), ("cohorte.taux_sortie_positive_12_mois", 100 * 18 / 28),
                ("cohorte.taux_emploi_durable_12_mois", 100 * 9 / 28),
                ("cohorte.taux_perdus_de_vue_12_mois", 100 * 2 / 28)]
    for code, value in measures:
        for level, cle in (("cohorte", "CPO-A"), ("cohortes_objectif", "OG.1.1")):
            con.execute("INSERT INTO referentiel.mesures VALUES ('ccco', 2025, ?, 'territoire', ?, ?, 'nombre', 2025, "
                        "'marts/cohortes', 28)", [code.replace("cohorte.", level + "."), cle, value])
    con.execute("INSERT INTO marts.cohortes_transitions VALUES ('ccco', 2025, 'CPO-A', 2024, '6_mois', '12_mois', "
                "'recherche_emploi', 'perdu_de_vue', 2), ('ccco', 2025, 'CPO-A', 2024, '6_mois', '12_mois', "
                "'recherche_emploi', 'emploi_durable', 7)")
    return con


def test_hand_made_publication_leaks_nothing(tmp_path):
    con = _hand_made_warehouse(tmp_path)
    write_year(con, published_tables(con, 2025, COLUMNS, MIN, DENOM, GRAPH.marts), 2025)
    reader = assert_nothing_leaks(con, 2025)
    published = con.execute("SELECT * FROM publication.cohortes_jalons ORDER BY dimension, modalite").df()
    whole = published[published["dimension"] == "ensemble"].iloc[0]
    assert (whole["observes"], whole["emploi_durable"], whole["sorties_positives"]) == ("28", "9", "18")
    assert whole["perdu_de_vue"] == PRIMARY and pd.isna(whole["taux_perdus_de_vue"])
    assert whole["taux_sortie_positive"] == pytest.approx(100 * 18 / 28)
    # the measures show lost-from-view as a rate: 2 of 28 would give the « < 5 » back
    rate = con.execute("SELECT valeur, secret FROM publication.mesures WHERE code_mesure = "
                       "'cohorte.taux_perdus_de_vue_12_mois'").fetchone()
    assert rate == (None, SECONDARY)
    # the transitions (2 people from searching to lost-from-view) are not published at all
    assert "cohortes_transitions" not in published_tables(con, 2025, COLUMNS, MIN, DENOM, GRAPH.marts)
    assert ("M", "ccco", "cohortes_objectif", "OG.1.1", "12_mois", "perdu_de_vue") in reader.sensitive


def test_a_naive_publication_of_the_hand_made_case_is_caught(tmp_path):
    """The attacker is not blind: with the measures' rates published as they were, lost-from-view comes back."""
    con = _hand_made_warehouse(tmp_path)
    tables = published_tables(con, 2025, COLUMNS, MIN, DENOM, GRAPH.marts)
    measures = tables["mesures"]
    internal = con.execute("SELECT valeur FROM referentiel.mesures ORDER BY ALL").df()
    tables["mesures"] = measures.assign(valeur=measures["code_mesure"].map(
        dict(con.execute("SELECT code_mesure, valeur FROM referentiel.mesures").fetchall())), secret=None)
    assert len(internal) == len(measures)
    write_year(con, tables, 2025)
    leaks = read_publication(con, 2025).leaks()
    assert {leak[0][-1] for leak in leaks} >= {"perdu_de_vue"}
