"""French number formats for everything a reader sees: `37,5 %`, `1 234 567 €`, `+1,4 pt`."""

from __future__ import annotations

import math

NBSP, NNBSP = "\u00a0", "\u202f"  # no-break space before units, narrow no-break space between thousands


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def nombre(value, decimals: int = 0) -> str:
    if _is_missing(value):
        return "—"
    if isinstance(value, str):
        return value  # already a published string such as "< 5" or "s"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", NNBSP).replace(".", ",")


def pct(value, decimals: int = 1) -> str:
    return "—" if _is_missing(value) else f"{nombre(value, decimals)}{NBSP}%"


def euros(value, decimals: int = 0) -> str:
    return "—" if _is_missing(value) else f"{nombre(value, decimals)}{NBSP}€"


def points(value, decimals: int = 1) -> str:
    if _is_missing(value):
        return "—"
    sign = "+" if value > 0 else ("−" if value < 0 else "")
    return f"{sign}{nombre(abs(value), decimals)}{NBSP}pt"


def ratio(value, decimals: int = 2) -> str:
    return "—" if _is_missing(value) else nombre(value, decimals)


def valeur(value, unite: str | None) -> str:
    """A measure in its own unit."""
    if unite == "pourcentage":
        return pct(value)
    if unite == "euros":
        return euros(value)
    if unite in ("ratio", "indice"):
        return ratio(value, 2 if unite == "ratio" else 1)
    if unite == "points":
        return points(value)
    return nombre(value, 0 if _is_missing(value) or float(value).is_integer() else 1)
