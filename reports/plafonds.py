"""What the bilan's body shows of a long list: never more than a cap (config/settings.yaml, `rendu`), whatever the
number of rows the partners sent. Past its cap, a chart, a table or a list shows its first items in an order its
caption names, and a line « … et 5 056 autres (voir l'annexe XLSX) »: the XLSX annex carries every row. Every capped
list of the bilan goes through `plafonner`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pandas as pd

from reports.format import nombre, pluriel

ANNEXE = "voir l'annexe XLSX"


def et_autres(n: int) -> str:
    """« … et 1 autre (voir l'annexe XLSX) », « … et 5 056 autres (voir l'annexe XLSX) »; "" for none."""
    return f"… et {nombre(n)} {pluriel(n, 'autre')} ({ANNEXE})" if n > 0 else ""


class Plafond(NamedTuple):
    elements: Any   # the kept items: a list, or a DataFrame (indexed by position when rows were left out)
    autres: int     # how many were left out

    @property
    def ligne(self) -> str:
        return et_autres(self.autres)

    def choix(self, noms: str, critere: str) -> str:
        """The caption of a capped list, "" when nothing was left out: « Sur 5 116 engagements, les 60 au taux de
        réalisation le plus bas, listés par partenaire : »."""
        if not self.autres:
            return ""
        return f"Sur {nombre(len(self.elements) + self.autres)} {noms}, les {nombre(len(self.elements))} {critere} :"

    def resume(self, noms: str, critere: str) -> dict | None:
        """What a template needs around a capped table (_plafonds.html.j2), None when nothing was left out."""
        return {"choix": self.choix(noms, critere), "autres": self.ligne} if self.autres else None


def plafonner(items, plafond: int, priorite: Callable | None = None) -> Plafond:
    """At most `plafond` items: the first ones by `priorite`, kept in their own order (a reader still finds a
    partner in the alphabetical order of the table), and how many were left out. `priorite`: for a list, a sort key
    of an item; for a DataFrame, a function that returns it sorted. Without one, the first items as they come."""
    n = len(items)
    if n <= plafond:
        return Plafond(items, 0)
    if isinstance(items, pd.DataFrame):
        frame = items.reset_index(drop=True)
        ordered = priorite(frame) if priorite else frame
        return Plafond(frame.loc[sorted(ordered.index[:plafond])], n - plafond)
    items = list(items)
    order = sorted(range(n), key=lambda i: priorite(items[i])) if priorite else list(range(n))
    return Plafond([items[i] for i in sorted(order[:plafond])], n - plafond)


def plafonner_texte(texte: str, plafond: int, separateur: str = " ; ", total: int | None = None) -> str:
    """A list written out by another layer (a check's failing rows, a measure's rejected lines) cut at the cap. A
    list that already ends with its own « … (20 de plus, voir les Data Docs) » stands for `total` items."""
    parts = texte.split(separateur) if texte else []
    own_tail = len(parts) > 1 and parts[-1].startswith("…")
    if own_tail:
        parts.pop()
    if len(parts) <= plafond:
        return texte
    kept = plafonner(parts, plafond)
    autres = (total if own_tail and total else len(parts)) - plafond
    return separateur.join([*kept.elements, et_autres(autres)])
