"""The exact check behind secondary suppression: bound propagation (SQL) follows chains of relations but not every
linear combination of them (a row's and a column's sums together, say). Here the hidden cells and the relations
between them, with the shown cells substituted, are a linear programme with the bounds a reader knows, and a hidden
cell whose minimum and maximum leave a single whole value is pinned.

Cells linked by relations form groups that share no equation, so one programme holds many groups side by side (a
chunk): minimising the sum of one cell of each group gives each of those cells its own minimum at once. A chunk's
model is built once and only its objective changes from one solve to the next, which HiGHS re-solves from the last
basis. Every solution is a feasible point: random directions first, then directions on the cells still open, then
each solve, rule out most cells (two whole values seen) before they need programmes of their own."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

# a secondary cell has no upper bound a reader knows; as in secret_bornes.sql, 1e9 stands for none
NO_UPPER_BOUND = 1e9
CHUNK_CELLS = 300       # cells per programme: measured best between 50 and 4,000 on the synthetic national set
RANDOM_DIRECTIONS = 3   # pairs of opposite random objectives solved before any cell's own
FOCUSED_DIRECTIONS = 4  # then pairs weighing only the cells still open
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Problem:
    """The hidden cells of the groups to check, as one system A x = b, lo ≤ x ≤ hi, and each cell's group."""

    cells: np.ndarray          # cell ids, sorted
    matrix: Any                # scipy.sparse csc (equations × cells)
    rhs: np.ndarray
    low: np.ndarray
    high: np.ndarray
    group: np.ndarray          # group label of each cell


def pinned_cells(con: duckdb.DuckDBPyConnection, only: set[str] | None = None) -> list[str]:
    """Hidden cells of `_etat` that `_relations` and the display bounds pin down; `only`: check just the groups of
    hidden cells holding one of these (those that changed since the last check)."""
    problem = _problem(con, only)
    if problem is None:
        return []
    found: list[str] = []
    for columns in _chunks(problem.group):
        found += list(problem.cells[columns[_pinned_in_chunk(problem, columns)]])
    return sorted(found)


def _problem(con: duckdb.DuckDBPyConnection, only: set[str] | None) -> Problem | None:
    from scipy.sparse import csc_matrix
    from scipy.sparse.csgraph import connected_components

    rows = con.execute("""
        SELECT r.relation, r.cellule, r.coef::DOUBLE AS coef, e.etat, e.valeur::DOUBLE AS valeur,
               p.seuil::DOUBLE AS seuil, e.plafond::DOUBLE AS plafond
        FROM _relations r JOIN _etat e USING (cellule), _parametres p
        WHERE r.relation IN (SELECT r2.relation FROM _relations r2 JOIN _etat e2 USING (cellule)
                             WHERE e2.etat <> 'visible')""").df()
    if rows.empty:
        return None
    shown = rows[rows["etat"] == "visible"]
    hidden = rows[rows["etat"] != "visible"].groupby(["relation", "cellule"], as_index=False, sort=True) \
        .agg(coef=("coef", "sum"), etat=("etat", "first"), seuil=("seuil", "first"), plafond=("plafond", "first"))
    cells, cell_index = np.unique(hidden["cellule"].to_numpy(), return_inverse=True)
    relations, relation_index = np.unique(hidden["relation"].to_numpy(), return_inverse=True)
    constants = (-(shown["coef"] * shown["valeur"])).groupby(shown["relation"]).sum()
    rhs = constants.reindex(relations, fill_value=0.0).to_numpy(dtype=float)
    per_cell = hidden.drop_duplicates("cellule").set_index("cellule").loc[cells]
    primary = (per_cell["etat"] == "primaire").to_numpy()
    seuil = per_cell["seuil"].to_numpy()
    low = np.where(primary, 0.0, seuil)
    high = np.where(primary, seuil - 1.0, NO_UPPER_BOUND)
    high = np.fmin(high, per_cell["plafond"].to_numpy())   # a rate's numerator is at most its denominator
    matrix = csc_matrix((hidden["coef"].to_numpy(dtype=float), (relation_index, cell_index)),
                        shape=(len(relations), len(cells)))
    _, group = connected_components(matrix.T @ matrix, directed=False)
    if only is not None:
        # hashed, not sorted: numpy's isin sorts the cell names (objects) at each call, 15 % of the publication
        # step at 100 territories (py-spy)
        wanted = np.unique(group[pd.Index(cells).isin(only)])
        keep = np.isin(group, wanted)
        matrix = matrix[:, keep]
        used = np.asarray(abs(matrix).sum(axis=1)).ravel() > 0
        matrix, rhs = matrix[used], rhs[used]
        cells, low, high, group = cells[keep], low[keep], high[keep], group[keep]
        if not len(cells):
            return None
    return Problem(cells, matrix.tocsc(), rhs, low, high, group)


def _chunks(group: np.ndarray) -> list[np.ndarray]:
    """Columns of whole groups, about CHUNK_CELLS cells each."""
    order = np.argsort(group, kind="stable")
    labels, starts = np.unique(group[order], return_index=True)
    bounds = [*starts, len(order)]
    chunks: list[np.ndarray] = []
    current: list[np.ndarray] = []
    size = 0
    for i in range(len(labels)):
        members = order[bounds[i]:bounds[i + 1]]
        if size and size + len(members) > CHUNK_CELLS:
            chunks.append(np.concatenate(current))
            current, size = [], 0
        current.append(members)
        size += len(members)
    if current:
        chunks.append(np.concatenate(current))
    return chunks


def _quiet_highs():
    """A solver that prints nothing: HiGHS writes its banner to the process's standard output when the first one
    is made, before any option can be set (a data steward's `bilan run` shows French only)."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            highs = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    highs.silent()
    return highs


class _Chunk:
    """One programme: the equations of some groups, solved again and again with another objective."""

    def __init__(self, problem: Problem, columns: np.ndarray):
        import highspy

        sub = problem.matrix[:, columns]
        used = np.asarray(abs(sub).sum(axis=1)).ravel() > 0
        sub = sub[used].tocsc()
        rhs = problem.rhs[used]
        self.size = len(columns)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.size, sub.shape[0]
        lp.col_cost_ = np.zeros(self.size)
        lp.col_lower_, lp.col_upper_ = problem.low[columns], problem.high[columns]
        lp.row_lower_ = lp.row_upper_ = rhs
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = sub.indptr, sub.indices, sub.data
        self.highs = _quiet_highs()
        self.highs.setOptionValue("random_seed", 0)
        self.highs.setOptionValue("presolve", "off")
        self.highs.passModel(lp)
        self.everything = np.arange(self.size, dtype=np.int32)
        self.seen_low = np.full(self.size, np.inf)
        self.seen_high = np.full(self.size, -np.inf)

    def solve(self, cost: np.ndarray) -> np.ndarray:
        self.highs.changeColsCost(self.size, self.everything, cost)
        self.highs.run()
        status = self.highs.getModelStatus()
        if status != self.highs.getModelStatus().kOptimal:
            raise RuntimeError("secret secondaire : programme linéaire sans solution "
                               f"({self.highs.modelStatusToString(status)})")
        x = np.asarray(self.highs.getSolution().col_value)
        np.minimum(self.seen_low, x, out=self.seen_low)
        np.maximum(self.seen_high, x, out=self.seen_high)
        return x

    def open(self) -> np.ndarray:
        """Cells for which two whole values have not yet been seen feasible."""
        return np.floor(self.seen_high + TOLERANCE) - np.ceil(self.seen_low - TOLERANCE) < 1


def _pinned_in_chunk(problem: Problem, columns: np.ndarray) -> np.ndarray:
    """Positions in `columns` of the pinned cells."""
    chunk = _Chunk(problem, columns)
    directions = np.random.default_rng(0).uniform(-1, 1, (RANDOM_DIRECTIONS, chunk.size))
    for direction in directions:
        chunk.solve(direction)
        chunk.solve(-direction)
    # the same, on the cells not yet ruled out only: each pair pushes all of them towards other corners at once
    rng = np.random.default_rng(1)
    for _ in range(FOCUSED_DIRECTIONS):
        still = chunk.open()
        if not still.any():
            break
        direction = np.where(still, rng.uniform(-1, 1, chunk.size), 0.0)
        chunk.solve(direction)
        chunk.solve(-direction)
    group = problem.group[columns]
    pinned = np.zeros(chunk.size, dtype=bool)
    decided = np.zeros(chunk.size, dtype=bool)
    while True:
        undecided = chunk.open() & ~decided
        if not undecided.any():
            return np.flatnonzero(pinned)
        # one undecided cell of each group: their groups share no equation, each gets its own minimum and maximum
        candidates = np.flatnonzero(undecided)
        _, first = np.unique(group[candidates], return_index=True)
        chosen = candidates[first]
        unit = np.zeros(chunk.size)
        unit[chosen] = 1.0
        minimum = chunk.solve(unit)[chosen]
        maximum = chunk.solve(-unit)[chosen]
        decided[chosen] = True
        pinned[chosen] = (maximum < NO_UPPER_BOUND - 1) & (
            np.floor(maximum + TOLERANCE) - np.ceil(minimum - TOLERANCE) < 1)
