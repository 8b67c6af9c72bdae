"""config/mesures.yaml: the catalogue of the measures the marts produce (label, unit, family, nature, keys,
perimeters), and its check of each referential against it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from core.common import nearest
from core.config.base import ConfigurationError, StrictModel
from core.config.catalogue import Catalogue
from core.config.referentiel import Referentiel
from core.config.territoire import Territoire
from core.config.vocabulaire import Famille, Vocabulaire


class CleMesure(StrictModel):
    """A kind of key a measure takes: a form (regex), a vocabulary domain, or free text (a partner's name)."""

    code: str = Field(pattern=r"^[a-z_]+$")
    libelle: str
    forme: str | None = None
    vocabulaire: str | None = None

    def accepts(self, value: str, vocabulaire: Vocabulaire) -> bool:
        if self.vocabulaire:
            return value in vocabulaire.codes(self.vocabulaire)
        return bool(re.match(self.forme, value)) if self.forme else bool(value)


class Base(StrictModel):
    """What a share (a percentage of a whole) is taken of, so that the rows kept in quarantine can be bounded: the
    measure of the whole (read at the share's perimeter and key), and what a rejected row could add to it — its
    amount (`montant`: a share of credits) or one unit (`lignes`: a share of dossiers or persons, a row counting at
    most one)."""

    mesure: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_.{}]+$")
    masse: Literal["montant", "lignes"]
    # a ratio of two sums rather than a part of a whole (the TFPB coverage: valued actions over the abatement): the
    # measure of the numerator; a rejected row then adds to the one or the other
    numerateur: str | None = Field(None, pattern=r"^[a-z_]+\.[a-z0-9_.{}]+$")


class Mesure(StrictModel):
    """A measure code, or a pattern (`pour_chaque`) giving one measure per vocabulary term or catalogue indicator."""

    code: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_.{}]+$")
    libelle: str
    unite: str
    famille: Famille
    nature: Literal["moyens", "resultats"]
    cles: list[str] = Field(["aucune"], min_length=1)
    # `quartier_complementaire`: a quartier of the territory's complementary geography, never inside a QPV figure
    perimetres: list[Literal["territoire", "qpv", "quartier_complementaire"]] = Field(["territoire"], min_length=1)
    pour_chaque: str | None = None
    sauf: list[str] = []
    ecart: bool = False
    base: Base | None = None  # a share only (unite: pourcentage)

    @field_validator("unite")
    @classmethod
    def _unit(cls, v: str, info: ValidationInfo) -> str:
        vocabulaire = (info.context or {}).get("vocabulaire")
        if vocabulaire is not None and v != "{unite}" and v not in vocabulaire.codes("unites"):
            raise ValueError(
                f"unité « {v} » absente de la liste `unites` de vocabulaire.yaml "
                "(ou « {unite} » : celle de l'indicateur ou de la donnée)"
            )
        return v

    @model_validator(mode="after")
    def _pattern(self, info: ValidationInfo) -> Mesure:
        if (self.pour_chaque is None) == ("{code}" in self.code):
            raise ValueError(f"{self.code} : `{{code}}` dans le code si et seulement si `pour_chaque` est donné")
        if self.base is not None and self.unite != "pourcentage":
            raise ValueError(f"{self.code} : `base` ne se déclare que pour une part (unite: pourcentage)")
        vocabulaire = (info.context or {}).get("vocabulaire")
        if vocabulaire is None or self.pour_chaque in (None, "indicateurs"):
            return self
        if self.pour_chaque not in type(vocabulaire).model_fields:
            raise ValueError(
                f"{self.code} : `pour_chaque` « {self.pour_chaque} » n'est ni une liste de "
                "vocabulaire.yaml ni `indicateurs`"
            )
        extra = [t for t in self.sauf if t not in vocabulaire.codes(self.pour_chaque)]
        if extra:
            raise ValueError(
                f"{self.code} : `sauf` cite des termes absents de `{self.pour_chaque}` : {', '.join(extra)}"
            )
        return self


@dataclass(frozen=True)
class MesureDeclaree:
    """One measure of the catalogue once patterns are expanded; `unite` None: the unit the data row gives."""

    code: str
    libelle: str
    unite: str | None
    famille: str
    nature: str
    cles: tuple[str, ...]
    perimetres: tuple[str, ...]
    terme: str | None  # the vocabulary term or catalogue indicator it was expanded from
    ecart: bool = False  # a gap to a comparison level, not the value itself
    # a share: (the measure of its whole, `montant` or `lignes`, the numerator's measure of a ratio); see Base
    base: tuple[str, str, str | None] | None = None


class CatalogueMesures(StrictModel):
    """config/mesures.yaml: every measure code the marts produce and the referential may cite."""

    cles: list[CleMesure] = Field(min_length=1)
    mesures: list[Mesure] = Field(min_length=1)

    @field_validator("cles")
    @classmethod
    def _vocabulary_keys(cls, v: list[CleMesure], info: ValidationInfo) -> list[CleMesure]:
        vocabulaire = (info.context or {}).get("vocabulaire")
        for i, c in enumerate(v):
            if vocabulaire is not None and c.vocabulaire and c.vocabulaire not in type(vocabulaire).model_fields:
                raise ValueError(f"cles.{i} ({c.code}) : liste de vocabulaire inconnue « {c.vocabulaire} »")
        return v

    @field_validator("mesures")
    @classmethod
    def _known_keys(cls, v: list[Mesure], info: ValidationInfo) -> list[Mesure]:
        kinds = {c.code for c in info.data.get("cles", [])} | {"aucune"}
        for i, m in enumerate(v):
            unknown = [k for k in m.cles if k not in kinds]
            if unknown:
                raise ValueError(
                    f"mesures.{i} ({m.code}) : sorte(s) de clé inconnue(s) : {', '.join(unknown)} "
                    f"(connues : {', '.join(sorted(kinds))})"
                )
        codes = {m.code for m in v}
        for i, m in enumerate(v):
            for field, code in (("mesure", m.base.mesure if m.base else None),
                                ("numerateur", m.base.numerateur if m.base else None)):
                if code is not None and code not in codes:
                    raise ValueError(f"mesures.{i} ({m.code}) : `base.{field}` « {code} » n'est pas une mesure du "
                                     "catalogue")
        return v

    def declarees(self, vocabulaire: Vocabulaire, catalogue: Catalogue) -> dict[str, MesureDeclaree]:
        """Every measure code for a territory: patterns expanded over the vocabulary and its indicator catalogue."""
        out: dict[str, MesureDeclaree] = {}
        for m in self.mesures:
            terms: list[tuple[str | None, str, str | None]]
            if m.pour_chaque is None:
                terms = [(None, m.libelle, None)]
            elif m.pour_chaque == "indicateurs":
                terms = [(i.code, i.libelle, i.unite) for i in catalogue.indicateurs]
            else:
                terms = [(t.code, t.libelle, None) for t in vocabulaire.termes(m.pour_chaque) if t.code not in m.sauf]
            for code, libelle, own_unit in terms:
                # "{unite}": the indicator's unit, or (None) the unit each data row carries
                unite = own_unit if m.unite == "{unite}" else m.unite
                if m.ecart and unite == "pourcentage":
                    unite = "points"  # a gap between two percentages is in points
                full = m.code.replace("{code}", code or "")
                if full in out:
                    raise ConfigurationError(f"mesures.yaml : code de mesure en double après développement : {full}")
                out[full] = MesureDeclaree(
                    full,
                    m.libelle.replace("{libelle}", libelle).replace("{code}", code or ""),
                    unite,
                    m.famille,
                    m.nature,
                    tuple(m.cles),
                    tuple(m.perimetres),
                    code,
                    m.ecart,
                    None if m.base is None else (m.base.mesure.replace("{code}", code or ""), m.base.masse,
                                                 m.base.numerateur.replace("{code}", code or "")
                                                 if m.base.numerateur else None),
                )
        return out

    def cle(self, code: str) -> CleMesure:
        return next(c for c in self.cles if c.code == code)

    def refus(
        self, mesure: MesureDeclaree, cle: str | None, perimetre: str, qpv: list[str], vocabulaire: Vocabulaire,
        complementaires: list[str] | tuple[str, ...] = (),
    ) -> str | None:
        """Why a (key, perimeter) does not fit a measure, or None when it does."""
        kind = ("territoire" if perimetre == "territoire" else "qpv" if perimetre in qpv
                else "quartier_complementaire" if perimetre in complementaires else None)
        if kind not in mesure.perimetres:
            said = {"qpv": "un code QPV du territoire",
                    "quartier_complementaire": "un quartier de la géographie complémentaire du territoire"}
            return (
                f"périmètre « {perimetre} » non accepté (accepte : "
                f"{', '.join(said.get(p, p) for p in mesure.perimetres)})"
            )
        if cle is None:
            return None if "aucune" in mesure.cles else f"clé obligatoire ({', '.join(mesure.cles)})"
        if not any(self.cle(k).accepts(cle, vocabulaire) for k in mesure.cles if k != "aucune"):
            return f"clé « {cle} » non acceptée (accepte : {', '.join(mesure.cles)})"
        return None

    def verifier_referentiel(
        self,
        referentiel: Referentiel,
        catalogue: Catalogue,
        territoire: Territoire,
        vocabulaire: Vocabulaire,
        path: Path,
    ) -> None:
        known = self.declarees(vocabulaire, catalogue)
        problems = []
        for qi, question in enumerate(referentiel.questions):
            for ii, ind in enumerate(question.indicateurs):
                key = f"questions.{qi}.indicateurs.{ii}"
                mesure = known.get(ind.mesure)
                if mesure is None:
                    problems.append(
                        f"  - clé `{key}.mesure` ({ind.code}) : mesure inconnue « {ind.mesure} » (config/mesures.yaml)"
                    )
                    continue
                why = self.refus(mesure, ind.cle, ind.perimetre, territoire.codes_qpv, vocabulaire,
                                 territoire.codes_complementaires)
                if why:
                    problems.append(f"  - clé `{key}` ({ind.code}) : mesure « {ind.mesure} » : {why}")
                elif "engagement" in mesure.cles and ind.cle not in referentiel.codes_engagements:
                    hint = nearest(ind.cle or "", referentiel.codes_engagements)
                    problems.append(
                        f"  - clé `{key}.cle` ({ind.code}) : engagement « {ind.cle} » non déclaré dans "
                        "`partenaires` (code_partenaire.code_indicateur)"
                        + (f" — vouliez-vous dire « {hint} » ?" if hint else "")
                    )
                if mesure.unite is not None and mesure.unite != ind.unite:
                    problems.append(
                        f"  - clé `{key}.unite` ({ind.code}) : « {ind.unite} » alors que la mesure "
                        f"« {ind.mesure} » est en « {mesure.unite} »"
                    )
        if problems:
            raise ConfigurationError(f"{path} : référentiel invalide\n" + "\n".join(problems))
