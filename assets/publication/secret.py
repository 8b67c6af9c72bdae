"""Statistical secrecy for everything that leaves the pipeline.

Primary rule: a count of people below `effectif_minimal` (5) is shown as `< 5`. Secondary rule: a hidden cell must
not be recomputable from a published total — in every additive relation (total = Σ parts) that the published
tables state, the hidden cells are never exactly one; when they are, the smallest visible part is hidden too
(shown `s`), and the relations are checked again until none leaks. This is the usual greedy heuristic (not the
minimal-loss optimum that tau-argus searches); it is safe for the relations given to it.
Rates: a rate whose denominator is below `denominateur_minimal` (10) is withheld, and so is a rate whose numerator
is hidden (rate × published denominator would give it back).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

PRIMARY, SECONDARY = "< 5", "s"


@dataclass
class Protection:
    primary: set = field(default_factory=set)
    secondary: set = field(default_factory=set)

    @property
    def hidden(self) -> set:
        return self.primary | self.secondary

    def show(self, cell: Hashable, value: float | None, threshold: int) -> str | None:
        if value is None:
            return None
        if cell in self.primary:
            return f"< {threshold}"
        if cell in self.secondary:
            return SECONDARY
        return str(int(value))


def protect(values: Mapping[Hashable, float], relations: Sequence[tuple[Hashable, Sequence[Hashable]]],
            threshold: int) -> Protection:
    """`values`: every published count; `relations`: (total cell, its part cells) that hold in the tables."""
    result = Protection(primary={c for c, v in values.items() if v is not None and v < threshold})
    changed = True
    while changed:
        changed = False
        for total, parts in relations:
            cells = [total, *parts]
            hidden = [c for c in cells if c in result.hidden]
            if len(hidden) != 1:
                continue
            visible_parts = sorted((c for c in parts if c not in result.hidden), key=lambda c: (values[c], str(c)))
            if visible_parts:
                result.secondary.add(visible_parts[0])
            elif total not in result.hidden:
                result.secondary.add(total)
            changed = True
    return result


def withheld_rate(rate: float | None, numerator_cell, denominator: float | None, protection: Protection,
                  min_denominator: int) -> float | None:
    if rate is None or denominator is None or denominator < min_denominator or numerator_cell in protection.hidden:
        return None
    return rate
