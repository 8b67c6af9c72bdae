"""config/glossaire.yaml: the acronyms a COPIL reads and their definition in French."""

from __future__ import annotations

from pydantic import Field, model_validator

from core.config.base import StrictModel, cited_twice


class Sigle(StrictModel):
    sigle: str = Field(pattern=r"^[A-ZÉ][A-Za-zÉ0-9]*( [0-9]+)?$")
    definition: str = Field(min_length=10)

    @model_validator(mode="after")
    def _definition_is_a_sentence(self) -> Sigle:
        if not self.definition[0].isupper():
            raise ValueError(f"{self.sigle} : la définition commence par une majuscule")
        if self.definition.strip() == self.sigle:
            raise ValueError(f"{self.sigle} : la définition ne peut pas être le sigle lui-même")
        return self


class Glossaire(StrictModel):
    """The acronyms a COPIL reader meets, with their French definition: printed as a page of the bilan."""

    sigles: list[Sigle] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Glossaire:
        names = [s.sigle for s in self.sigles]
        dup = cited_twice(names)
        if dup:
            raise ValueError(f"sigle(s) en double : {', '.join(dup)}")
        return self

    def tries(self) -> list[Sigle]:
        return sorted(self.sigles, key=lambda s: s.sigle)
