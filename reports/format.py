"""French number formats and words for everything a reader sees: `37,5 %`, `1 234 567 €`, `+1,4 pt`, `−0,1`,
`1 quartier`, `2 quartiers`, `aucune alerte`."""

from __future__ import annotations

import math
import re

NBSP, NNBSP = "\u00a0", "\u202f"  # no-break space before units, narrow no-break space between thousands
MINUS = "\u2212"  # one minus sign everywhere, never the hyphen


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def nombre(value, decimals: int = 0) -> str:
    if _is_missing(value):
        return "—"
    if isinstance(value, str):
        return value  # already a published string such as "< 5" or "s"
    text = f"{abs(value):,.{decimals}f}"
    # a value that rounds to zero has no sign: "0,0", not "−0,0"
    negative = value < 0 and any(ch not in "0.," for ch in text)
    return (MINUS if negative else "") + text.replace(",", NNBSP).replace(".", ",")


def signe(value, decimals: int = 1) -> str:
    """A change: `+1,4`, `−0,1`, `0,0`."""
    if _is_missing(value):
        return "—"
    text = nombre(abs(value), decimals)
    if text.strip("0,") == "":
        return text
    return ("+" if value > 0 else MINUS) + text


def pct(value, decimals: int = 1) -> str:
    return "—" if _is_missing(value) else f"{nombre(value, decimals)}{NBSP}%"


def euros(value, decimals: int = 0) -> str:
    return "—" if _is_missing(value) else f"{nombre(value, decimals)}{NBSP}€"


def points(value, decimals: int = 1) -> str:
    return "—" if _is_missing(value) else f"{signe(value, decimals)}{NBSP}pt"


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


# --- words -------------------------------------------------------------------------------------------

def pluriel(n, singulier: str, pluriel_: str | None = None) -> str:
    """The noun agreeing with n: French takes the singular below 2 (0,5 quartier, 1 quartier, 2 quartiers)."""
    if pluriel_ is None:
        pluriel_ = " ".join(w if w.endswith(("s", "x", "z")) else w + "s" for w in singulier.split(" "))
    return singulier if abs(n) < 2 else pluriel_


def compte(n, singulier: str, pluriel_: str | None = None, feminin: bool = False) -> str:
    """`1 quartier`, `2 quartiers`, and for none `aucun quartier` / `aucune alerte` (never `0 alerte`)."""
    if n == 0:
        return f"{'aucune' if feminin else 'aucun'} {singulier}"
    return f"{nombre(n)} {pluriel(n, singulier, pluriel_)}"


def accorde(n, singulier: str, pluriel_: str | None = None) -> str:
    """A verb or an adjective agreeing with n: `est`/`sont`, `reçu`/`reçus`."""
    return pluriel(n, singulier, pluriel_)


def liste(items: list[str], conjonction: str = "et") -> str:
    """`a`, `a et b`, `a, b et c`."""
    items = [i for i in items if i]
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjonction} {items[-1]}"


_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")


def texte_chiffres(text: str) -> str:
    """Numbers written by another layer (a check's detail) in French: decimal comma, no-break space before %."""
    return _DECIMAL_POINT.sub(",", text).replace(" %", f"{NBSP}%")
