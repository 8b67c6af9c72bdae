"""How the referential's statuses and natures show in the bilan. The statuses, their labels, colours and symbols
are `statuts_indicateur` of config/vocabulaire.yaml: the badges' style and the chart's legend are drawn from it, so
that no two statuses look alike, even printed without colour."""

from __future__ import annotations

import pandas as pd

from core.common import slug
from core.config.vocabulaire import Vocabulaire

# an indicator's nature (referential YAML, else its measure's in config/mesures.yaml), as the bilan titles it
NATURES = {"moyens": "Moyens mis en œuvre", "resultats": "Résultats pour les habitants"}


def css(vocabulaire: Vocabulaire) -> str:
    """One badge rule per status: its colour, and its symbol before the label."""
    rules = []
    for t in vocabulaire.termes("statuts_indicateur"):
        selector = f".statut-{slug(t.code)}"
        rules.append(f'{selector} {{ background: {t.couleur}; }}\n'
                     f'{selector}::before {{ content: "{t.symbole}\\00a0"; }}')
    return "\n" + "\n".join(rules) + "\n"


def legende(vocabulaire: Vocabulaire) -> dict[str, str]:
    """Status code → its label with its symbol (chart legends)."""
    return {t.code: f"{t.symbole} {t.libelle}" for t in vocabulaire.termes("statuts_indicateur")}


def par_nature(frame: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """The referential's rows split by nature, means first: (code, title, rows), natures with no row left out."""
    if frame.empty:
        return []
    # a row computed before natures existed is not filed under one silently
    nature = (frame["nature"] if "nature" in frame else pd.Series(None, index=frame.index, dtype="object")).fillna("")
    titles = {**NATURES, "": "Nature non précisée"}
    return [(code, titre, frame[nature == code]) for code, titre in titles.items() if (nature == code).any()]


def comptes(frame: pd.DataFrame, vocabulaire: Vocabulaire) -> list[dict]:
    """Each nature's count of indicators per status, in the vocabulary's order."""
    out = []
    for code, titre, rows in par_nature(frame):
        counts = rows["statut"].value_counts()
        out.append({"nature": code, "titre": titre, "total": len(rows), "statuts": [
            {"code": t.code, "libelle": t.libelle, "n": int(counts[t.code])}
            for t in vocabulaire.termes("statuts_indicateur") if t.code in counts]})
    return out
