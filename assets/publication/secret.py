"""Statistical secrecy, applied once to every count about people that leaves the pipeline.

The counts of the cohort table and of the cohort measures (and the numerators their published rates give back)
are cells of one set (`cellules.sql`), with every linear relation a reader can use between them: a row's situations
add up to its observed people, each breakdown adds up to the whole cohort, a CPO's measure adds up its cohorts, an
objective's its CPO. A cell that two tables show is one cell. (The transitions between jalons, which no output
shows, are not published: with the cohort table they gave back cells that no other relation showed.)

Primary rule: a count below `effectif_minimal` is hidden (« < 5 »). Secondary rule, repeated to a fixed point: what
a reader can deduce of each hidden cell is propagated as bounds through every relation (`secret_bornes.sql`,
`secret_propagation.sql`, set-based); a hidden cell left with a single whole value gets the nearest visible cell
hidden too (`secret_pas.sql`, « secret statistique »). When propagation finds nothing more, an exact check
(`audit.py`, one linear programme per group of linked cells) names what it missed and suppression resumes. A greedy
heuristic (not tau-argus's minimal loss), but no hidden cell is left recomputable or bounded to one value.
Rates: a rate whose denominator is below `denominateur_minimal`, hidden, or whose numerator is hidden is withheld.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from assets.marts.sql import run_script, statements
from assets.publication.audit import pinned_cells
from core.portee import NATIONALE, Portee

HERE = Path(__file__).parent
SECONDARY = "secret statistique"


def primary_label(effectif_minimal: int) -> str:
    return f"< {effectif_minimal}"


def apply_secret(con: duckdb.DuckDBPyConnection, annee: int, rates: dict[str, str], effectif_minimal: int,
                 denominateur_minimal: int, portee: Portee = NATIONALE) -> int:
    """Leaves `_etat` (cellule, valeur, etat) and the cells' sources as temp tables; returns the number of steps.
    `rates`: each rate (cohort column or measure metric) → the count it is the numerator of."""
    con.execute("CREATE OR REPLACE TEMP TABLE _taux (taux VARCHAR, numerateur VARCHAR)")
    con.executemany("INSERT INTO _taux VALUES (?, ?)", list(rates.items()))
    run_script(con, "cellules.sql", annee, folder=HERE, portee=portee)
    return suppress(con, effectif_minimal, denominateur_minimal)


def suppress(con: duckdb.DuckDBPyConnection, effectif_minimal: int, denominateur_minimal: int) -> int:
    """Primary then secondary suppression of `_cellules` (cellule, valeur) under `_relations` (relation, cellule,
    coef), into `_etat`; returns the number of secondary steps run."""
    con.execute("CREATE OR REPLACE TEMP TABLE _parametres AS SELECT ?::INTEGER AS seuil, ?::INTEGER AS denominateur, "
                "?::VARCHAR AS primaire, ?::VARCHAR AS secondaire",
                [effectif_minimal, denominateur_minimal, primary_label(effectif_minimal), SECONDARY])
    con.execute("CREATE OR REPLACE TEMP TABLE _etat AS SELECT c.cellule, c.valeur, c.plafond, c.territoire, CASE "
                "WHEN c.valeur < p.seuil THEN 'primaire' ELSE 'visible' END AS etat FROM _cellules c, _parametres p")
    con.execute("CREATE OR REPLACE TEMP TABLE _totaux AS SELECT cellule, count(*) AS n FROM _relations WHERE coef < 0 "
                "GROUP BY cellule")
    step = _Step(*statements("secret_pas.sql", folder=HERE))
    con.execute("CREATE OR REPLACE TEMP TABLE _coincees (cellule VARCHAR)")
    # a territory whose hidden cells did not change in a step will not change in the next (no relation leaves a
    # territory): each step works on the territories that changed in the one before
    _activate(con, "SELECT DISTINCT territoire FROM _etat")
    hidden = _hidden(con)
    checked: set[str] | None = None     # hidden cells at the last exact check: only their changes are checked again
    for steps in range(1, 10_000):
        bounds(con)
        step(con)
        now = _hidden(con)
        changed = sorted(t for t in now.keys() | hidden.keys() if now.get(t) != hidden.get(t))
        if not changed:
            # the fast rule is done: the exact check names what it missed, and suppression resumes from there
            now_hidden = {c for (c,) in con.execute("SELECT cellule FROM _etat WHERE etat <> 'visible'").fetchall()}
            missed = pinned_cells(con, None if checked is None else now_hidden - checked)
            checked = now_hidden
            if missed:
                con.execute("INSERT INTO _coincees SELECT unnest(?::VARCHAR[])", [missed])
                _activate(con, "SELECT DISTINCT territoire FROM _etat WHERE cellule IN (SELECT cellule FROM _coincees)")
                bounds(con)
                step(con)
            con.execute("DELETE FROM _coincees")
            now = _hidden(con)
            changed = sorted(t for t in now.keys() | hidden.keys() if now.get(t) != hidden.get(t))
            if not changed:
                return steps
        _activate(con, "SELECT unnest(?::VARCHAR[]) AS territoire", [changed])
        hidden = now
    raise RuntimeError("secret secondaire : pas de point fixe")  # cannot happen: each step hides one more cell


class _Step:
    """One step of secondary suppression (secret_pas.sql): the pinned cells, then a level of the search for their
    nearest visible cell at a time, at most MAX_LEVELS relations away, then the chosen cells hidden."""

    MAX_LEVELS = 6

    def __init__(self, front: str, choices: str, neighbours: str, choose: str, further: str, hide: str):
        self.start, self.level, self.hide = (front, choices), (neighbours, choose, further), hide

    def __call__(self, con: duckdb.DuckDBPyConnection) -> None:
        for sql in self.start:
            con.execute(sql)
        for _ in range(self.MAX_LEVELS):
            if not con.execute("SELECT count(*) FROM _front").fetchall()[0][0]:
                break
            for sql in self.level:
                con.execute(sql)
        con.execute(self.hide)


def _activate(con: duckdb.DuckDBPyConnection, territories_sql: str, parameters: list | None = None) -> None:
    """The territories the next step works on (`_actifs`), and their relations (`_relations_actives`)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _actifs AS {territories_sql}", parameters or [])
    con.execute("CREATE OR REPLACE TEMP TABLE _relations_actives AS SELECT r.* FROM _relations r JOIN _etat e "
                "USING (cellule) WHERE e.territoire IN (SELECT territoire FROM _actifs)")


def bounds(con: duckdb.DuckDBPyConnection, max_steps: int = 200) -> None:
    """`_bornes` (cellule, lo, hi): what a reader can deduce of each cell of the territories still changing
    (`_actifs`, `_relations_actives`) from the shown ones and the relations. Each step works on the relations of the
    cells whose bounds the step before moved (semi-naive: the same bounds, step by step, as recomputing them all).
    Stopping early only leaves bounds wider than a reader could reach: the cap is never hit on real tables."""
    run_script(con, "secret_bornes.sql", folder=HERE)
    con.execute("CREATE OR REPLACE TEMP TABLE _changees AS SELECT cellule FROM _bornes")
    steps = statements("secret_propagation.sql", folder=HERE)
    for _ in range(max_steps):
        for sql in steps:
            con.execute(sql)
        if not con.execute("SELECT count(*) FROM _changees").fetchall()[0][0]:
            return
    raise RuntimeError("secret secondaire : la propagation des bornes ne converge pas")


def _hidden(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Hidden cells per territory."""
    return dict(con.execute("SELECT territoire, count(*) FROM _etat WHERE etat <> 'visible' GROUP BY territoire")
                .fetchall())
