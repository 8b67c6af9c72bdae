"""config/territoires/<code>.yaml: a contract's territory (EPCI, communes, QPV, partners, COPIL dates,
sources, delivery)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from core.config.base import StrictModel, cited_twice
from core.config.vocabulaire import Famille, NiveauGeo, TypePartenaire, TypeQuartierComplementaire

QPV_2024 = re.compile(r"^QN(\d{3}|02A|02B)\d{2}[A-Z]$")


QPV_2015 = re.compile(r"^QP(\d{3}|02A|02B)\d{3}$")


class Commune(StrictModel):
    code_insee: str = Field(pattern=r"^\d[\dAB]\d{3}$")
    nom: str
    population: int | None = Field(None, ge=0)
    # why a commune the national references place in another EPCI belongs to this contract (`bilan config
    # verifier` accepts it then, and says so)
    hors_epci: str | None = Field(None, min_length=10)


class Partage(StrictModel):
    """A QPV that spans this contract's EPCI and another: with whom, and the share of its population living in this
    contract's communes. Its figures are the whole quartier's; maps and commune bilans keep to this contract's
    communes."""

    avec: str = Field(min_length=3)  # the other EPCI (or contract), as the steward names it
    part_population: float = Field(gt=0, lt=1)


class Qpv(StrictModel):
    code: str
    code_2015: str | None = None
    nom: str
    communes: list[str] = Field(min_length=1)  # every commune the QPV spans, the other EPCI's too when shared
    population: int = Field(gt=0)
    partage: Partage | None = None

    @field_validator("code")
    @classmethod
    def _code_2024(cls, v: str) -> str:
        if not QPV_2024.match(v):
            raise ValueError(f"« {v} » n'est pas un code QPV 2024 (forme QN05934M)")
        return v

    @field_validator("code_2015")
    @classmethod
    def _code_2015(cls, v: str | None) -> str | None:
        if v is not None and not QPV_2015.match(v):
            raise ValueError(f"« {v} » n'est pas un code QPV 2015 (forme QP059034)")
        return v


# a local code: letters, digits and dashes, never the form of a QPV code (a poche is not a QPV)
CODE_COMPLEMENTAIRE = re.compile(r"^[A-Z][A-Z0-9-]{1,19}$")


class QuartierComplementaire(StrictModel):
    """A quartier the contract retains besides the regulatory QPV (a poche de pauvreté, a quartier de veille active,
    a quartier vécu): programming rows and indicator rows may target it under its local code; the bilan reports it
    apart, never inside a QPV total."""

    code: str
    type: TypeQuartierComplementaire
    nom: str = Field(min_length=2)
    communes: list[str] = Field(min_length=1)
    population: int = Field(gt=0)
    # its outline, a GeoJSON file in <données>/contours/<territoire>/ (drawn on the territory's map when given)
    contour: str | None = Field(None, pattern=r"^[\w][\w .'-]*\.(geojson|json)$")

    @field_validator("code")
    @classmethod
    def _local_code(cls, v: str) -> str:
        if QPV_2024.match(v) or QPV_2015.match(v):
            raise ValueError(f"« {v} » a la forme d'un code QPV : un quartier de la géographie complémentaire a un "
                             "code local (par exemple PP-ESCAUDAIN)")
        if not CODE_COMPLEMENTAIRE.match(v):
            raise ValueError(f"« {v} » : un code local est fait de majuscules, chiffres et tirets (2 à 20 "
                             "caractères, par exemple PP-ESCAUDAIN)")
        return v


class NiveauComparaison(StrictModel):
    niveau_geo: NiveauGeo
    code_geo: str
    libelle: str


class PartenaireAttendu(StrictModel):
    nom: str
    type_partenaire: TypePartenaire
    familles: list[Famille]


class Contrat(StrictModel):
    intitule: str
    annee_debut: int
    annee_fin: int
    date_signature: dt.date | None = None
    annee_actualisation: int | None = None


class Copil(StrictModel):
    date: dt.date
    annee_bilan: int


class Contribution(StrictModel):
    """An opinion on the draft annual report (a conseil citoyen's, a municipal council's): a text or PDF file in
    `<données>/contributions/<territoire>/<annee>/`, annexed to the report with the follow-up given to it."""

    auteur: str = Field(min_length=3)
    recue_le: dt.date
    fichier: str = Field(pattern=r"^[\w][\w .'-]*\.(txt|md|pdf)$")
    suite: str = ""  # the follow-up given to it: required in the final version


class RapportAnnuel(StrictModel):
    """The annual report on the politique de la ville (CGCT L. 1111-2, décret n° 2015-1118): the bilan of a year,
    first as a draft submitted for at least a month to the conseils citoyens and the municipal councils, then final
    with their contributions annexed and the follow-up given to each."""

    annee_bilan: int
    version: Literal["projet", "definitif"]
    soumis_le: dt.date
    avis_jusqu_au: dt.date
    contributions: list[Contribution] = []

    @model_validator(mode="after")
    def _a_month_and_a_follow_up(self) -> RapportAnnuel:
        month_later = (self.soumis_le.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        try:
            month_later = month_later.replace(day=self.soumis_le.day)
        except ValueError:  # 31 January → the last day of February
            month_later = (month_later.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        if self.avis_jusqu_au < month_later:
            raise ValueError(f"avis_jusqu_au : le projet est soumis pour avis au moins un mois (du "
                             f"{self.soumis_le:%d/%m/%Y} au {month_later:%d/%m/%Y} au plus tôt)")
        if self.version == "definitif":
            silent = [c.auteur for c in self.contributions if not c.suite.strip()]
            if silent:
                raise ValueError("version définitive : la suite donnée manque pour la contribution de "
                                 + ", ".join(silent))
        return self


class SourceHttp(StrictModel):
    famille: Famille
    url: str = Field(pattern=r"^https?://")
    nom_fichier: str
    annees: list[int] | None = None  # None: every year

    @model_validator(mode="after")
    def _name_matches_family(self) -> SourceHttp:
        if not self.nom_fichier.lower().startswith(self.famille):
            raise ValueError(f"nom_fichier « {self.nom_fichier} » doit commencer par « {self.famille} »")
        return self


class Diffusion(StrictModel):
    destinataires: list[str] = []
    dossier_partage: str | None = None
    taille_max_pieces_jointes_mo: float = Field(10, gt=0)

    @field_validator("destinataires")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        bad = [x for x in v if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", x)]
        if bad:
            raise ValueError(f"adresse(s) électronique(s) invalide(s) : {', '.join(bad)}")
        return v


class Territoire(StrictModel):
    code: str = Field(pattern=r"^[a-z0-9_]+$")
    nom: str
    nom_court: str
    siren_epci: str = Field(pattern=r"^\d{9}$")
    departement: str
    libelle_departement: str | None = None
    contrat: Contrat
    referentiel: str
    catalogue_indicateurs: str
    communes: list[Commune]
    qpv: list[Qpv] = Field(min_length=1)
    # where the QPV populations come from, as the quartier pages say it (« population réestimée, Filosofi 2019 »)
    source_population_qpv: str | None = Field(None, min_length=3)
    quartiers_complementaires: list[QuartierComplementaire] = []
    niveaux_comparaison: list[NiveauComparaison] = []
    partenaires_attendus: list[PartenaireAttendu] = []
    bailleurs: list[str] = []
    copil: list[Copil] = []
    rapports_annuels: list[RapportAnnuel] = []
    sources_http: list[SourceHttp] = []
    diffusion: Diffusion = Diffusion()

    @model_validator(mode="after")
    def _coherent(self) -> Territoire:
        codes = [q.code for q in self.qpv]
        if len(set(codes)) != len(codes):
            raise ValueError("qpv : un code QPV est cité deux fois")
        known = {c.code_insee for c in self.communes}
        for q in self.qpv:
            missing = [c for c in q.communes if c not in known]
            if missing and q.partage is None:
                raise ValueError(f"qpv {q.code} : commune(s) {', '.join(missing)} absente(s) de la liste `communes` "
                                 "(un QPV partagé avec un autre EPCI le déclare avec `partage`)")
            if len(missing) == len(q.communes):
                raise ValueError(f"qpv {q.code} : aucune de ses communes n'est dans la liste `communes`")
        local = [p.code for p in self.quartiers_complementaires]
        twice = cited_twice(codes + local)
        if twice:
            raise ValueError(f"quartiers_complementaires : code(s) {', '.join(twice)} en double (un code désigne un "
                             "seul quartier, QPV ou complémentaire)")
        for p in self.quartiers_complementaires:
            missing = [c for c in p.communes if c not in known]
            if missing:
                raise ValueError(f"quartiers_complementaires {p.code} : commune(s) {', '.join(missing)} absente(s) "
                                 "de la liste `communes`")
        return self

    @property
    def communes_avec_qpv(self) -> list[str]:
        """The contract's communes that host a QPV: those that get a commune bilan and are drawn on its maps (the
        other EPCI's communes of a shared QPV are not)."""
        own = {c.code_insee for c in self.communes}
        return sorted({c for q in self.qpv for c in q.communes if c in own})

    @property
    def codes_qpv(self) -> list[str]:
        return [q.code for q in self.qpv]

    @property
    def codes_complementaires(self) -> list[str]:
        return [q.code for q in self.quartiers_complementaires]

    @property
    def codes_2015(self) -> dict[str, str]:
        return {q.code_2015: q.code for q in self.qpv if q.code_2015}
