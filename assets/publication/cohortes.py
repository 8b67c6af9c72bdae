"""The cohort tables as they may be published: counts protected, rates withheld where secrecy requires."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from assets.publication.secret import protect, withheld_rate
from pipelines.config import Vocabulaire

RATES = {"taux_sortie_positive": "sorties_positives", "taux_emploi_durable": "emploi_durable",
         "taux_perdus_de_vue": "perdu_de_vue"}
BLOCK = ["territoire", "annee", "reference_cpo", "cohorte", "jalon"]


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


def relations_of_block(block: pd.DataFrame, columns: CohortColumns) -> list[tuple[tuple, list[tuple]]]:
    """Additive relations a reader can use in one cohort × jalon block of the published table."""
    relations = []
    for row in block.itertuples():
        rid = row.Index
        relations.append(((rid, "observes"), [(rid, s) for s in columns.situations]))
        relations.append(((rid, "sorties_positives"), [(rid, s) for s in columns.positives]))
    ensemble = block.index[block["dimension"] == "ensemble"]
    if len(ensemble):
        total_row = ensemble[0]
        for _dimension, rows in block[block["dimension"] != "ensemble"].groupby("dimension"):
            for column in columns.counts:
                relations.append(((total_row, column), [(r, column) for r in rows.index]))
    return relations


def publish_cohortes(jalons: pd.DataFrame, columns: CohortColumns, effectif_minimal: int,
                     denominateur_minimal: int) -> pd.DataFrame:
    frame = jalons.reset_index(drop=True)
    counts = columns.counts
    values = {(i, c): (None if pd.isna(frame.at[i, c]) else float(frame.at[i, c])) for i in frame.index for c in counts}
    relations = [rel for _, block in frame.groupby(BLOCK) for rel in relations_of_block(block, columns)]
    protection = protect({k: v for k, v in values.items() if v is not None}, relations, effectif_minimal)
    out = frame[[*BLOCK, "code_objectif", "rang_jalon", "dimension", "modalite"]].copy()
    # typed columns: a year where every cell is withheld still publishes into tables of the right types
    for column in counts:
        out[column] = pd.array([protection.show((i, column), values[(i, column)], effectif_minimal)
                                for i in frame.index], dtype="string")
    for rate, numerator in RATES.items():
        out[rate] = pd.array([withheld_rate(None if pd.isna(frame.at[i, rate]) else float(frame.at[i, rate]),
                                            (i, numerator), values[(i, "observes")], protection, denominateur_minimal)
                              for i in frame.index], dtype="Float64")
    out["cellules_masquees"] = [sum((i, c) in protection.hidden for c in counts) for i in frame.index]
    return out


def publish_transitions(transitions: pd.DataFrame, effectif_minimal: int) -> pd.DataFrame:
    """Transitions are published cell by cell with no totals, so only the primary rule applies."""
    out = transitions.copy()
    out["effectif"] = [f"< {effectif_minimal}" if v < effectif_minimal else str(int(v)) for v in out["effectif"]]
    return out
