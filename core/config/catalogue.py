"""config/catalogues/<code>.yaml: the socio-demographic indicators a territory's sources publish."""

from __future__ import annotations

from pydantic import Field

from core.config.base import StrictModel
from core.config.vocabulaire import Unite


class IndicateurCatalogue(StrictModel):
    code: str = Field(pattern=r"^[a-z0-9_]+$")
    libelle: str
    unite: Unite
    theme: str
    source: str
    # false: kept in marts.indicateurs and the annex, not shown in the bilan (a figure the bilan takes from one other
    # source, e.g. the population: see config/catalogues/compas_qpv.yaml)
    affiche: bool = True


class Catalogue(StrictModel):
    code: str
    indicateurs: list[IndicateurCatalogue] = Field(min_length=1)

    @property
    def codes(self) -> list[str]:
        return [i.code for i in self.indicateurs]
