"""Keyed pseudonyms for beneficiary identifiers (HMAC-SHA-256).

The same identifier gives the same pseudonym in every file and year as long as the key is the same, so cohort
follow-ups link up; without the key a pseudonym cannot be traced back nor recomputed from a guessed identifier.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
from dataclasses import dataclass

import pandas as pd

DEMO_KEY = "cle-de-demonstration-bilan-quartiers-ne-pas-utiliser-en-production"


@dataclass(frozen=True)
class Pseudonymiser:
    key: bytes
    is_demo: bool

    def __call__(self, identifiers: pd.Series) -> pd.Series:
        normalised = identifiers.astype("string").str.strip().str.upper()
        return normalised.map(
            lambda v: "P" + hmac.new(self.key, v.encode("utf-8"), hashlib.sha256).hexdigest()[:20],
            na_action="ignore",
        ).astype("string")


class CleManquante(RuntimeError):
    """Production runs refuse to pseudonymise with the demo key."""


def from_environment(variable: str = "BILAN_CLE_PSEUDONYMISATION") -> Pseudonymiser:
    """The key is the variable's value, or the content of the file it names. Without it: the demo key, loudly —
    unless BILAN_ENVIRONNEMENT=production, where the run stops."""
    value = os.environ.get(variable, "").strip()
    if value and os.path.isfile(value):
        with open(value, "rb") as handle:
            value = handle.read().strip().decode("utf-8")
    if value:
        if len(value) < 32:
            raise ValueError(f"{variable} : la clé de pseudonymisation doit compter au moins 32 caractères")
        return Pseudonymiser(key=value.encode("utf-8"), is_demo=False)
    if os.environ.get("BILAN_ENVIRONNEMENT", "").strip().lower() == "production":
        raise CleManquante(f"{variable} n'est pas définie : en production (BILAN_ENVIRONNEMENT=production), aucune "
                           "donnée de cohorte n'est lue sans clé de pseudonymisation réelle. Voir le README, "
                           "« Données personnelles ».")
    print(f"ATTENTION : {variable} n'est pas définie — les identifiants des bénéficiaires sont pseudonymisés avec la "
          "CLÉ DE DÉMONSTRATION. À ne jamais utiliser sur des données réelles.", file=sys.stderr)
    return Pseudonymiser(key=DEMO_KEY.encode("utf-8"), is_demo=True)
