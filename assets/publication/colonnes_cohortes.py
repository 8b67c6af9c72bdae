"""The cohort tables' columns, as the vocabulary makes them; their secrecy is applied with every other count of
people (secret.py, tables.py)."""

from __future__ import annotations

from dataclasses import dataclass

from core.config.vocabulaire import Vocabulaire

# each cohort rate (a column of marts.cohortes_jalons, and the metric of a cohort measure) → its numerator's column
RATES = {"taux_sortie_positive": "sorties_positives", "taux_emploi_durable": "emploi_durable",
         "taux_perdus_de_vue": "perdu_de_vue"}


@dataclass(frozen=True)
class CohortColumns:
    """The count columns of a cohort table: one per situation of the vocabulary, and the positive exits."""

    situations: tuple[str, ...]
    positives: tuple[str, ...]

    @classmethod
    def of(cls, vocabulaire: Vocabulaire) -> CohortColumns:
        termes = vocabulaire.termes("situations")
        return cls(tuple(t.code for t in termes), tuple(t.code for t in termes if t.positive))

    @property
    def counts(self) -> list[str]:
        return ["attendus", "observes", *self.situations, "sorties_positives"]
