"""The exact check behind secondary suppression: bound propagation (SQL) follows chains of relations but not every
linear combination of them (a row's and a column's sums together, say). Here each group of hidden cells linked by
relations is a linear programme — the relations, with the shown cells substituted, and the bounds a reader knows —
and a hidden cell whose minimum and maximum leave a single whole value is pinned. Feasible points found on the way
(each solution of a programme is one) rule most cells out before their own two programmes are solved."""

from __future__ import annotations

import math
from collections import defaultdict

import duckdb
import numpy as np


def pinned_cells(con: duckdb.DuckDBPyConnection, only: set[str] | None = None) -> list[str]:
    """Hidden cells of `_etat` that `_relations` and the display bounds pin down; `only`: check just the groups of
    hidden cells holding one of these (those that changed since the last check)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    rows = con.execute("""
        SELECT r.relation, r.cellule, r.coef, e.etat, e.valeur, p.seuil, e.plafond
        FROM _relations r JOIN _etat e USING (cellule), _parametres p
        WHERE r.relation IN (SELECT r2.relation FROM _relations r2 JOIN _etat e2 USING (cellule)
                             WHERE e2.etat <> 'visible')""").fetchall()
    if not rows:
        return []
    seuil = rows[0][5]
    relations: dict = defaultdict(dict)
    constants: dict = defaultdict(float)
    bounds: dict = {}
    for relation, cellule, coef, etat, valeur, _, plafond in rows:
        if etat == "visible":
            constants[relation] -= coef * float(valeur)
        else:
            relations[relation][cellule] = relations[relation].get(cellule, 0) + coef
            high = seuil - 1.0 if etat == "primaire" else None
            bounds[cellule] = (0.0 if etat == "primaire" else float(seuil),
                               high if plafond is None else min(high or plafond, plafond))
    cells = sorted(bounds)
    index = {c: i for i, c in enumerate(cells)}
    names = sorted(relations)
    links = csr_matrix((np.ones(sum(len(relations[r]) for r in names)),
                        ([i for i, r in enumerate(names) for _ in relations[r]],
                         [index[c] for r in names for c in relations[r]])), shape=(len(names), len(cells)))
    _, label = connected_components(links.T @ links, directed=False)
    # each group's cells and equations, in one pass (a pass per group was quadratic in the number of groups)
    members_of: dict[int, list[str]] = defaultdict(list)
    for c in cells:
        members_of[int(label[index[c]])].append(c)
    equations_of: dict[int, list[str]] = defaultdict(list)
    for r in names:
        equations_of[int(label[index[next(iter(relations[r]))]])].append(r)
    found = []
    for group, members in sorted(members_of.items()):
        if only is not None and not only.intersection(members):
            continue
        local = {c: i for i, c in enumerate(members)}
        equations = equations_of[group]
        a_eq = np.zeros((len(equations), len(members)))
        for i, r in enumerate(equations):
            for c, coef in relations[r].items():
                a_eq[i, local[c]] = coef
        box = [bounds[c] for c in members]
        found += [members[i] for i in _pinned_in_group(a_eq, np.array([constants[r] for r in equations]), box)]
    return found


def _pinned_in_group(a_eq: np.ndarray, b_eq: np.ndarray, box: list) -> list[int]:
    from scipy.optimize import linprog

    low, high = np.full(len(box), np.inf), np.full(len(box), -np.inf)
    # sampling runs on the bounds capped: its solutions are still feasible points of the real programme
    cap = 10 * float(np.abs(b_eq).max(initial=0)) + 100
    capped = [(lo, cap if hi is None else hi) for lo, hi in box]

    def solve(objective, bounds) -> float:
        result = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if result.status == 3:      # unbounded: a secondary cell has no upper bound
            return -math.inf
        if result.status != 0:
            raise RuntimeError(f"secret secondaire : programme linéaire sans solution ({result.message})")
        np.minimum(low, result.x, out=low)
        np.maximum(high, result.x, out=high)
        return result.fun

    direction = np.random.default_rng(0).uniform(-1, 1, len(box))
    solve(direction, capped)
    solve(-direction, capped)
    pinned = []
    for i in range(len(box)):
        if math.floor(high[i] + 1e-6) - math.ceil(low[i] - 1e-6) >= 1:
            continue        # two whole values already seen feasible
        unit = np.zeros(len(box))
        unit[i] = 1
        minimum, maximum = solve(unit, box), -solve(-unit, box)
        if maximum < math.inf and math.floor(maximum + 1e-6) - math.ceil(minimum - 1e-6) < 1:
            pinned.append(i)
    return pinned
