"""config/decisions/<territoire>/<annee>.yaml: the decisions of the COPIL that examined the bilan of that year, as
the steward records them and follows them up (state, pilot, deadline, what each is about). The next bilan opens
with their follow-up (reports/sections/decisions.py). What a decision is about is checked against the territory:
its referential's objectives and indicators, its QPV, its partners and landlords."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field, model_validator

from core.config.base import ConfigurationError, StrictModel, cited_twice
from core.config.referentiel import Referentiel
from core.config.territoire import Territoire
from core.config.vocabulaire import EtatDecision


class Decision(StrictModel):
    code: str = Field(pattern=r"^[A-Za-z0-9._-]{1,12}$")
    texte: str = Field(min_length=10)
    pilote: str = Field(min_length=2)
    echeance: dt.date
    etat: EtatDecision
    suivi: str = ""  # what the steward says of it since the COPIL
    objectifs: list[str] = []
    indicateurs: list[str] = []
    qpv: list[str] = []
    partenaires: list[str] = []


class Decisions(StrictModel):
    """One COPIL's decisions: the date it met and what it decided."""

    copil: dt.date
    decisions: list[Decision] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Decisions:
        codes = [d.code for d in self.decisions]
        dup = cited_twice(codes)
        if dup:
            raise ValueError(f"décision(s) citée(s) deux fois : {', '.join(dup)}")
        return self


def check_against(decisions: Decisions, path: Path, territoire: Territoire, referentiel: Referentiel) -> None:
    """Each decision's objectives, indicators, QPV and partners exist in the territory, or a French error naming
    the file and the key."""
    indicateurs = {i.code for _, i in referentiel.indicateurs}
    partenaires = {p.nom for p in territoire.partenaires_attendus} | set(territoire.bailleurs)
    known = {"objectifs": set(referentiel.codes_objectifs), "indicateurs": indicateurs,
             "qpv": set(territoire.codes_qpv), "partenaires": partenaires}
    where = {"objectifs": f"du référentiel « {territoire.referentiel} »",
             "indicateurs": f"du référentiel « {territoire.referentiel} »",
             "qpv": f"du territoire « {territoire.code} »",
             "partenaires": f"du territoire « {territoire.code} » (partenaires_attendus, bailleurs)"}
    errors = []
    for i, d in enumerate(decisions.decisions):
        for key, codes in known.items():
            for j, value in enumerate(getattr(d, key)):
                if value not in codes:
                    errors.append(f"  - clé `decisions.{i}.{key}.{j}` : « {value} » n'est pas dans la liste "
                                  f"{where[key]}")
    copils = {c.date for c in territoire.copil}
    if copils and decisions.copil not in copils:
        errors.append(f"  - clé `copil` : {decisions.copil:%d/%m/%Y} n'est pas une date de COPIL du territoire "
                      f"« {territoire.code} » ({', '.join(f'{c:%d/%m/%Y}' for c in sorted(copils))})")
    if errors:
        raise ConfigurationError(f"{path} : configuration invalide\n" + "\n".join(errors))
