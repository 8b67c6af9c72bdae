"""config/referentiels/<code>.yaml: a contract's evaluation referential (axes, objectives, questions,
indicators with targets, partners and their commitments)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from core.common import normalise_header
from core.config.base import StrictModel, cited_twice
from core.config.vocabulaire import CodeEngagement, Critere, Unite

OBJECTIF = re.compile(r"^OG\.\d\.\d$")


class AxeTransversal(StrictModel):
    """An axis that crosses the thematic ones (participation, illectronisme, égalité femmes-hommes…): objectives and
    dossiers carry it besides their objective, and the bilan counts each dossier once per transversal axis, never
    twice in a total."""

    code: str = Field(pattern=r"^T\d{1,2}$")
    intitule: str = Field(min_length=3)


class Objectif(StrictModel):
    code: str
    intitule: str
    objectifs_operationnels: list[str] = []
    # transversal axes every dossier of this objective serves (a dossier may add its own in the programming)
    transversaux: list[str] = []

    @field_validator("code")
    @classmethod
    def _format(cls, v: str) -> str:
        if not OBJECTIF.match(v):
            raise ValueError(f"« {v} » n'est pas un code d'objectif (forme OG.1.1)")
        return v


class Axe(StrictModel):
    code: str = Field(pattern=r"^\d$")
    intitule: str
    objectifs: list[Objectif] = Field(min_length=1)


class Cible(StrictModel):
    annee: int = Field(ge=2024, le=2035)
    valeur: float


class Reference(StrictModel):
    annee: int = Field(ge=2000, le=2035)
    valeur: float


class IndicateurReferentiel(StrictModel):
    code: str
    libelle: str
    unite: Unite
    mesure: str
    cle: str | None = None
    perimetre: str = "territoire"
    sens: Literal["hausse", "baisse"]
    # `moyens`: what the contract puts in (credits, activity, reporting); `resultats`: what changes for inhabitants.
    # None: the nature of the measure it cites (config/mesures.yaml), said there once
    nature: Literal["moyens", "resultats"] | None = None
    # a smaller change between two values, in the indicator's unit, is "évolution non significative"
    seuil_significativite: float | None = Field(None, ge=0)
    reference: Reference | None = None
    cibles: list[Cible] = Field(min_length=1)
    source: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> IndicateurReferentiel:
        years = [c.annee for c in self.cibles]
        if years != sorted(set(years)):
            raise ValueError("cibles : une année par cible, dans l'ordre")
        return self


class Question(StrictModel):
    code: str
    intitule: str
    critere: Critere
    objectifs: list[str] = Field(min_length=1)
    indicateurs: list[IndicateurReferentiel] = Field(min_length=1)


class IndicateurEngagement(StrictModel):
    code: CodeEngagement
    indicateur: str = Field(min_length=1)  # the wording the bilan shows
    alias: list[str] = []


class PartenaireEngagements(StrictModel):
    code: CodeEngagement
    nom: str = Field(min_length=1)  # the name the bilan shows
    alias: list[str] = []
    indicateurs: list[IndicateurEngagement] = Field(min_length=1)

    def cles_indicateurs(self) -> dict[str, str]:
        """normalised wording → indicator code (the code itself, the wording and each alias)."""
        return {normalise_header(text): i.code for i in self.indicateurs for text in [i.code, i.indicateur, *i.alias]}


def _alias_unique(partenaires: list[PartenaireEngagements]) -> list[PartenaireEngagements]:
    problems: list[str] = []
    seen: dict[str, str] = {}
    for pi, p in enumerate(partenaires):
        for text in [p.code, p.nom, *p.alias]:
            other = seen.setdefault(normalise_header(text), p.code)
            if other != p.code:
                problems.append(f"partenaires.{pi} ({p.code}) : « {text} » désigne déjà le partenaire « {other} »")
        own: dict[str, str] = {}
        for ii, i in enumerate(p.indicateurs):
            for text in [i.code, i.indicateur, *i.alias]:
                other = own.setdefault(normalise_header(text), i.code)
                if other != i.code:
                    problems.append(
                        f"partenaires.{pi}.indicateurs.{ii} ({p.code}.{i.code}) : « {text} » désigne "
                        f"déjà l'indicateur « {other} »"
                    )
    codes = [p.code for p in partenaires]
    problems += [f"partenaires : code « {c} » en double" for c in cited_twice(codes)]
    if problems:
        raise ValueError("; ".join(dict.fromkeys(problems)))
    return partenaires


class Besoin(StrictModel):
    """A needs indicator of the catalogue on which the quartiers are ranked: `hausse`, the higher the value the
    greater the need (poverty), `baisse` the lower (employment)."""

    indicateur: str
    sens: Literal["hausse", "baisse"]


class Orientations(StrictModel):
    """What the bilan proposes for the next call for projects (reports/sections/orientations.py): who carries the
    proposals and the needs indicators the quartiers are ranked on."""

    pilote: str = Field(min_length=3)
    besoins: list[Besoin] = []


class Referentiel(StrictModel):
    code: str
    version: str
    intitule: str
    axes: list[Axe] = Field(min_length=1)
    axes_transversaux: list[AxeTransversal] = []
    questions: list[Question] = []
    partenaires: Annotated[list[PartenaireEngagements], AfterValidator(_alias_unique)] = []
    # default significance threshold per unit, for an indicator that states none; an unlisted unit: 0 (any change)
    seuils_significativite: dict[Unite, float] = {}
    orientations: Orientations | None = None

    @field_validator("seuils_significativite")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        negative = sorted(u for u, s in v.items() if s < 0)
        if negative:
            raise ValueError(f"seuil négatif pour : {', '.join(negative)}")
        return v

    def seuil(self, indicateur: IndicateurReferentiel) -> float:
        """The change below which an indicator's evolution is not significant, in its unit."""
        if indicateur.seuil_significativite is not None:
            return indicateur.seuil_significativite
        return self.seuils_significativite.get(indicateur.unite, 0.0)

    @model_validator(mode="after")
    def _unique(self) -> Referentiel:
        codes = [o.code for a in self.axes for o in a.objectifs]
        dup = cited_twice(codes)
        if dup:
            raise ValueError(f"objectif(s) en double : {', '.join(dup)}")
        transversaux = [t.code for t in self.axes_transversaux]
        dup = cited_twice(transversaux)
        if dup:
            raise ValueError(f"axes_transversaux : code(s) en double : {', '.join(dup)}")
        for a in self.axes:
            for o in a.objectifs:
                unknown = [t for t in o.transversaux if t not in transversaux]
                if unknown:
                    raise ValueError(f"objectif {o.code} : axe(s) transversal(aux) inconnu(s) : {', '.join(unknown)} "
                                     f"(déclarés : {', '.join(transversaux) or 'aucun'})")
        known = set(codes) | {a.code for a in self.axes}
        for i, q in enumerate(self.questions):
            unknown = [o for o in q.objectifs if o not in known]
            if unknown:
                raise ValueError(f"questions.{i} ({q.code}) : objectif(s) inconnu(s) : {', '.join(unknown)}")
        ind = [x.code for q in self.questions for x in q.indicateurs]
        dup = cited_twice(ind)
        if dup:
            raise ValueError(f"code(s) d'indicateur en double : {', '.join(dup)}")
        return self

    @property
    def indicateurs(self) -> list[tuple[Question, IndicateurReferentiel]]:
        return [(q, i) for q in self.questions for i in q.indicateurs]

    @property
    def codes_objectifs(self) -> list[str]:
        return [o.code for a in self.axes for o in a.objectifs]

    @property
    def codes_axes(self) -> list[str]:
        return [a.code for a in self.axes]

    @property
    def codes_transversaux(self) -> list[str]:
        return [t.code for t in self.axes_transversaux]

    @property
    def codes_engagements(self) -> list[str]:
        """`partenaire.indicateur`: the key of a commitment's measures (engagement.realise…)."""
        return [f"{p.code}.{i.code}" for p in self.partenaires for i in p.indicateurs]

    def code_engagement(self, partenaire: object, indicateur: object) -> str | None:
        """The `partenaire.indicateur` code a partner's raw wording stands for, or None (the same rule as the SQL
        match of marts.engagements, for rows that never reached staging: quarantined lines)."""
        key = normalise_header(partenaire)
        partner = next(
            (p for p in self.partenaires if key in {normalise_header(t) for t in [p.code, p.nom, *p.alias]}), None
        )
        code = partner.cles_indicateurs().get(normalise_header(indicateur)) if partner else None
        return f"{partner.code}.{code}" if partner and code else None

    def alias_engagements(self) -> tuple[list[dict], list[dict]]:
        """Rows of the partners' and their indicators' normalised spellings, for the SQL match."""
        partners = [
            {"code_partenaire": p.code, "nom_partenaire": p.nom, "cle_partenaire": key}
            for p in self.partenaires
            for key in dict.fromkeys(normalise_header(t) for t in [p.code, p.nom, *p.alias])
        ]
        indicators = [
            {
                "code_partenaire": p.code,
                "code_indicateur": code,
                "libelle_indicateur": next(i.indicateur for i in p.indicateurs if i.code == code),
                "cle_indicateur": key,
            }
            for p in self.partenaires
            for key, code in p.cles_indicateurs().items()
        ]
        return partners, indicators
