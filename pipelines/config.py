"""Configuration as data: settings, territories, referentials and indicator catalogues, validated when loaded.

Every error names the file and the key, in French, because evaluators and data stewards edit these files.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipelines.common import nearest, normalise_header

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "config"

QPV_2024 = re.compile(r"^QN(\d{3}|02A|02B)\d{2}[A-Z]$")
QPV_2015 = re.compile(r"^QP(\d{3}|02A|02B)\d{3}$")
OBJECTIF = re.compile(r"^OG\.\d\.\d$")


class ConfigurationError(ValueError):
    """A configuration file is missing or invalid; the message is for the person who edits it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- settings -------------------------------------------------------------------------------------


class ContoursCommunes(_Strict):
    """The commune contours drawn around the QPV on the bilan's maps: an external source like the QPV layer."""
    adresse_officielle: str
    url_telechargement: str | None = Field(None, pattern=r"^https://")
    fichier_local: str | None = Field(None, pattern=r"\.(geojson|json)(\.gz)?$|\.zip$")


class GeographieReference(_Strict):
    adresse_officielle: str
    url_telechargement: str | None = None
    fichier_local: str | None = None
    delai_telechargement_s: float = 20
    contours_communes: ContoursCommunes | None = None


class Pseudonymisation(_Strict):
    variable_cle: str = "BILAN_CLE_PSEUDONYMISATION"                  # the key itself
    variable_fichier_cle: str = "BILAN_CLE_PSEUDONYMISATION_FICHIER"  # or the path of a file holding it


class SecretStatistique(_Strict):
    effectif_minimal: int = Field(5, ge=1)
    denominateur_minimal: int = Field(10, ge=1)


class Planification(_Strict):
    jours_avant_copil: int = Field(21, ge=1, le=120)
    stabilite_fichier_s: float = Field(60, ge=0)
    date_bilan_annuel: str = Field("02-01", pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


class Limites(_Strict):
    """Bounds on one partner file, checked before it is parsed, so that one file cannot take the run down."""

    taille_fichier_mo: float = Field(50, gt=0)
    xlsx_decompresse_mo: float = Field(50, gt=0)
    xlsx_ratio_compression: float = Field(100, gt=1)
    lignes: int = Field(500_000, ge=1)
    colonnes: int = Field(300, ge=1)
    longueur_cellule: int = Field(32_767, ge=1)


class EntrepotReglages(_Strict):
    """Runs that share a warehouse: the second one waits for the first at most this long, then stops."""

    attente_verrou_s: float = Field(900, ge=0)


class Rendu(_Strict):
    """How the bilans are rendered: territories go to the render steps in batches (one Chromium per batch); with
    Dagster's multiprocess executor (`bilan run --processus N`, job `bilans_en_parallele`) the batches run side by
    side, each in its own process. And how much of a long list the bilan's body shows."""

    territoires_par_lot: int = Field(25, ge=1)
    # at least this many batches when there are enough territories: every process gets work on a small run too
    lots_minimum: int = Field(2, ge=1)
    # the bilan's body never grows with the partners' files: past these caps, the first items in an order the bilan
    # names and « … et N autres (voir l'annexe XLSX) » (reports/plafonds.py); the XLSX annex keeps every row
    elements_par_graphique: int = Field(30, ge=1)   # bars, lines or points of a chart
    lignes_par_tableau: int = Field(60, ge=1)       # rows of a table
    colonnes_par_tableau: int = Field(8, ge=1)      # items set side by side as columns (the landlords by axis)
    elements_par_liste: int = Field(20, ge=1)       # items listed in a sentence or a cell (an alert's, a check's)


class Seuils(_Strict):
    """Thresholds the bilan draws and flags with, in % (said here, not in the report code)."""

    alerte_realisation_engagement: float = Field(80, ge=0)  # an engagement achieved below this is flagged
    couverture_tfpb: float = Field(100, ge=0)               # coverage of the TFPB abatement expected from landlords
    part_cpo_visee: float = Field(50, ge=0, le=100)         # share of CPO the national circular aims at
    # written synthesis: a smaller change since last year is called "stable" (in %, or a fifth of it in points)
    evolution_notable: float = Field(5, ge=0)


class Settings(_Strict):
    geographie_reference: GeographieReference
    limites: Limites = Limites()
    planification: Planification = Planification()
    pseudonymisation: Pseudonymisation = Pseudonymisation()
    secret_statistique: SecretStatistique = SecretStatistique()
    tolerance_ratio_points: float = Field(0.1, ge=0)
    seuils: Seuils = Seuils()
    entrepot: EntrepotReglages = EntrepotReglages()
    rendu: Rendu = Rendu()
    annees: list[int]


# --- glossary (config/glossaire.yaml) ---------------------------------------------------------------


class Sigle(_Strict):
    sigle: str = Field(pattern=r"^[A-ZÉ][A-Za-zÉ0-9]*( [0-9]+)?$")
    definition: str = Field(min_length=10)

    @model_validator(mode="after")
    def _definition_is_a_sentence(self) -> Sigle:
        if not self.definition[0].isupper():
            raise ValueError(f"{self.sigle} : la définition commence par une majuscule")
        if self.definition.strip() == self.sigle:
            raise ValueError(f"{self.sigle} : la définition ne peut pas être le sigle lui-même")
        return self


class Glossaire(_Strict):
    """The acronyms a COPIL reader meets, with their French definition: printed as a page of the bilan."""

    sigles: list[Sigle] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Glossaire:
        names = [s.sigle for s in self.sigles]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"sigle(s) en double : {', '.join(dup)}")
        return self

    def tries(self) -> list[Sigle]:
        return sorted(self.sigles, key=lambda s: s.sigle)


# --- vocabulary -----------------------------------------------------------------------------------


class Terme(_Strict):
    code: str
    libelle: str
    decalage_annee: int = 0        # familles: the year its measures describe, relative to the bilan year
    mois: int | None = None        # jalons: months after entry
    positive: bool = False         # situations: counts as a positive exit
    # statuts_indicateur: how a status is drawn, so that no two look alike even without colour
    couleur: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")
    symbole: str | None = Field(None, min_length=1, max_length=2)


class Vocabulaire(_Strict):
    """Every domain list, said once (config/vocabulaire.yaml): contracts, SQL, checks and the bilan read it."""

    familles: list[Terme] = Field(min_length=1)
    financeurs: list[Terme] = Field(min_length=1)
    natures_credit: list[Terme] = Field(min_length=1)
    modes_financement: list[Terme] = Field(min_length=1)
    statuts_dossier: list[Terme] = Field(min_length=1)
    types_partenaire: list[Terme] = Field(min_length=1)
    axes_tfpb: list[Terme] = Field(min_length=1)
    jalons: list[Terme] = Field(min_length=1)
    situations: list[Terme] = Field(min_length=1)
    sexes: list[Terme] = Field(min_length=1)
    unites: list[Terme] = Field(min_length=1)
    statuts_indicateur: list[Terme] = Field(min_length=1)
    criteres: list[Terme] = Field(min_length=1)
    niveaux_geo: list[Terme] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> Vocabulaire:
        for domaine in type(self).model_fields:
            codes = self.codes(domaine)
            dup = sorted({c for c in codes if codes.count(c) > 1})
            if dup:
                raise ValueError(f"{domaine} : code(s) en double : {', '.join(dup)}")
        statuts = self.statuts_indicateur
        bare = [t.code for t in statuts if t.couleur is None or t.symbole is None]
        if bare:
            raise ValueError(f"statuts_indicateur : couleur et symbole obligatoires ({', '.join(bare)})")
        for attribut in ("libelle", "couleur", "symbole"):
            values = [str(getattr(t, attribut)).lower() for t in statuts]
            if len(set(values)) < len(values):
                raise ValueError(f"statuts_indicateur : deux statuts ont le même {attribut} : chacun doit se "
                                 "distinguer des autres")
        return self

    def termes(self, domaine: str) -> list[Terme]:
        if domaine not in type(self).model_fields:
            raise KeyError(f"domaine de vocabulaire inconnu : {domaine}")
        return getattr(self, domaine)

    def codes(self, domaine: str) -> list[str]:
        return [t.code for t in self.termes(domaine)]

    def libelles(self, domaine: str) -> dict[str, str]:
        return {t.code: t.libelle for t in self.termes(domaine)}

    def rows(self) -> list[dict]:
        """The vocabulary as one long table (domaine, code, libelle, rang, …), for DuckDB's `ref.vocabulaire`."""
        return [{"domaine": d, "code": t.code, "libelle": t.libelle, "rang": i + 1, "mois": t.mois,
                 "positive": t.positive, "decalage_annee": t.decalage_annee}
                for d in type(self).model_fields for i, t in enumerate(self.termes(d))]


def _in_domain(domaine: str):
    """A value that must be a code of a vocabulary domain; the vocabulary comes in the validation context."""

    def check(value: str, info: ValidationInfo) -> str:
        vocabulaire = (info.context or {}).get("vocabulaire")
        if vocabulaire is not None and value not in vocabulaire.codes(domaine):
            raise ValueError(f"« {value} » n'est pas dans la liste `{domaine}` de vocabulaire.yaml "
                             f"({', '.join(vocabulaire.codes(domaine))})")
        return value

    return AfterValidator(check)


NiveauGeo = Annotated[str, _in_domain("niveaux_geo")]
TypePartenaire = Annotated[str, _in_domain("types_partenaire")]
Famille = Annotated[str, _in_domain("familles")]
Unite = Annotated[str, _in_domain("unites")]
Critere = Annotated[str, _in_domain("criteres")]


# --- territory ------------------------------------------------------------------------------------


class Commune(_Strict):
    code_insee: str = Field(pattern=r"^\d[\dAB]\d{3}$")
    nom: str
    population: int | None = Field(None, ge=0)


class Qpv(_Strict):
    code: str
    code_2015: str | None = None
    nom: str
    communes: list[str] = Field(min_length=1)
    population: int = Field(gt=0)

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




class NiveauComparaison(_Strict):
    niveau_geo: NiveauGeo
    code_geo: str
    libelle: str




class PartenaireAttendu(_Strict):
    nom: str
    type_partenaire: TypePartenaire
    familles: list[Famille]


class Contrat(_Strict):
    intitule: str
    annee_debut: int
    annee_fin: int
    date_signature: dt.date | None = None
    annee_actualisation: int | None = None


class Copil(_Strict):
    date: dt.date
    annee_bilan: int


class SourceHttp(_Strict):
    famille: Famille
    url: str = Field(pattern=r"^https?://")
    nom_fichier: str
    annees: list[int] | None = None  # None: every year

    @model_validator(mode="after")
    def _name_matches_family(self) -> SourceHttp:
        if not self.nom_fichier.lower().startswith(self.famille):
            raise ValueError(f"nom_fichier « {self.nom_fichier} » doit commencer par « {self.famille} »")
        return self


class Diffusion(_Strict):
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


class Territoire(_Strict):
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
    niveaux_comparaison: list[NiveauComparaison] = []
    partenaires_attendus: list[PartenaireAttendu] = []
    bailleurs: list[str] = []
    copil: list[Copil] = []
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
            if missing:
                raise ValueError(f"qpv {q.code} : commune(s) {', '.join(missing)} absente(s) de la liste `communes`")
        return self

    @property
    def codes_qpv(self) -> list[str]:
        return [q.code for q in self.qpv]

    @property
    def codes_2015(self) -> dict[str, str]:
        return {q.code_2015: q.code for q in self.qpv if q.code_2015}


# --- referential and catalogue --------------------------------------------------------------------


class Objectif(_Strict):
    code: str
    intitule: str
    objectifs_operationnels: list[str] = []

    @field_validator("code")
    @classmethod
    def _format(cls, v: str) -> str:
        if not OBJECTIF.match(v):
            raise ValueError(f"« {v} » n'est pas un code d'objectif (forme OG.1.1)")
        return v


class Axe(_Strict):
    code: str = Field(pattern=r"^\d$")
    intitule: str
    objectifs: list[Objectif] = Field(min_length=1)


class Cible(_Strict):
    annee: int = Field(ge=2024, le=2035)
    valeur: float


class Reference(_Strict):
    annee: int = Field(ge=2000, le=2035)
    valeur: float


class IndicateurReferentiel(_Strict):
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


class Question(_Strict):
    code: str
    intitule: str
    critere: Critere
    objectifs: list[str] = Field(min_length=1)
    indicateurs: list[IndicateurReferentiel] = Field(min_length=1)


# Partners' commitments are matched by stable codes, never by the text a partner happens to write: each partner and
# each of its indicators has a code, its own wording and the other spellings (`alias`) seen in its files; the match
# compares texts normalised once (pipelines.common.normalise_header: accents, case, punctuation).
CodeEngagement = Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]


class IndicateurEngagement(_Strict):
    code: CodeEngagement
    indicateur: str = Field(min_length=1)   # the wording the bilan shows
    alias: list[str] = []


class PartenaireEngagements(_Strict):
    code: CodeEngagement
    nom: str = Field(min_length=1)          # the name the bilan shows
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
                    problems.append(f"partenaires.{pi}.indicateurs.{ii} ({p.code}.{i.code}) : « {text} » désigne "
                                    f"déjà l'indicateur « {other} »")
    codes = [p.code for p in partenaires]
    problems += [f"partenaires : code « {c} » en double" for c in sorted({c for c in codes if codes.count(c) > 1})]
    if problems:
        raise ValueError("; ".join(dict.fromkeys(problems)))
    return partenaires


class Referentiel(_Strict):
    code: str
    version: str
    intitule: str
    axes: list[Axe] = Field(min_length=1)
    questions: list[Question] = []
    partenaires: Annotated[list[PartenaireEngagements], AfterValidator(_alias_unique)] = []
    # default significance threshold per unit, for an indicator that states none; an unlisted unit: 0 (any change)
    seuils_significativite: dict[Unite, float] = {}

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
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"objectif(s) en double : {', '.join(dup)}")
        known = set(codes) | {a.code for a in self.axes}
        for i, q in enumerate(self.questions):
            unknown = [o for o in q.objectifs if o not in known]
            if unknown:
                raise ValueError(f"questions.{i} ({q.code}) : objectif(s) inconnu(s) : {', '.join(unknown)}")
        ind = [x.code for q in self.questions for x in q.indicateurs]
        dup = sorted({c for c in ind if ind.count(c) > 1})
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
    def codes_engagements(self) -> list[str]:
        """`partenaire.indicateur`: the key of a commitment's measures (engagement.realise…)."""
        return [f"{p.code}.{i.code}" for p in self.partenaires for i in p.indicateurs]

    def code_engagement(self, partenaire: object, indicateur: object) -> str | None:
        """The `partenaire.indicateur` code a partner's raw wording stands for, or None (the same rule as the SQL
        match of marts.engagements, for rows that never reached staging: quarantined lines)."""
        key = normalise_header(partenaire)
        partner = next((p for p in self.partenaires
                        if key in {normalise_header(t) for t in [p.code, p.nom, *p.alias]}), None)
        code = partner.cles_indicateurs().get(normalise_header(indicateur)) if partner else None
        return f"{partner.code}.{code}" if partner and code else None

    def alias_engagements(self) -> tuple[list[dict], list[dict]]:
        """Rows of the partners' and their indicators' normalised spellings, for the SQL match."""
        partners = [{"code_partenaire": p.code, "nom_partenaire": p.nom, "cle_partenaire": key}
                    for p in self.partenaires for key in dict.fromkeys(normalise_header(t)
                                                                       for t in [p.code, p.nom, *p.alias])]
        indicators = [{"code_partenaire": p.code, "code_indicateur": code, "libelle_indicateur": next(
                           i.indicateur for i in p.indicateurs if i.code == code), "cle_indicateur": key}
                      for p in self.partenaires for key, code in p.cles_indicateurs().items()]
        return partners, indicators




class IndicateurCatalogue(_Strict):
    code: str = Field(pattern=r"^[a-z0-9_]+$")
    libelle: str
    unite: Unite
    theme: str
    source: str
    # false: kept in marts.indicateurs and the annex, not shown in the bilan (a figure the bilan takes from one other
    # source, e.g. the population: see config/catalogues/compas_qpv.yaml)
    affiche: bool = True


class Catalogue(_Strict):
    code: str
    indicateurs: list[IndicateurCatalogue] = Field(min_length=1)

    @property
    def codes(self) -> list[str]:
        return [i.code for i in self.indicateurs]


# --- measure catalogue ----------------------------------------------------------------------------


class CleMesure(_Strict):
    """A kind of key a measure takes: a form (regex), a vocabulary domain, or free text (a partner's name)."""

    code: str = Field(pattern=r"^[a-z_]+$")
    libelle: str
    forme: str | None = None
    vocabulaire: str | None = None

    def accepts(self, value: str, vocabulaire: Vocabulaire) -> bool:
        if self.vocabulaire:
            return value in vocabulaire.codes(self.vocabulaire)
        return bool(re.match(self.forme, value)) if self.forme else bool(value)


class Mesure(_Strict):
    """A measure code, or a pattern (`pour_chaque`) giving one measure per vocabulary term or catalogue indicator."""

    code: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_.{}]+$")
    libelle: str
    unite: str
    famille: Famille
    nature: Literal["moyens", "resultats"]
    cles: list[str] = Field(["aucune"], min_length=1)
    perimetres: list[Literal["territoire", "qpv"]] = Field(["territoire"], min_length=1)
    pour_chaque: str | None = None
    sauf: list[str] = []
    ecart: bool = False

    @field_validator("unite")
    @classmethod
    def _unit(cls, v: str, info: ValidationInfo) -> str:
        vocabulaire = (info.context or {}).get("vocabulaire")
        if vocabulaire is not None and v != "{unite}" and v not in vocabulaire.codes("unites"):
            raise ValueError(f"unité « {v} » absente de la liste `unites` de vocabulaire.yaml "
                             "(ou « {unite} » : celle de l'indicateur ou de la donnée)")
        return v

    @model_validator(mode="after")
    def _pattern(self, info: ValidationInfo) -> Mesure:
        if (self.pour_chaque is None) == ("{code}" in self.code):
            raise ValueError(f"{self.code} : `{{code}}` dans le code si et seulement si `pour_chaque` est donné")
        vocabulaire = (info.context or {}).get("vocabulaire")
        if vocabulaire is None or self.pour_chaque in (None, "indicateurs"):
            return self
        if self.pour_chaque not in type(vocabulaire).model_fields:
            raise ValueError(f"{self.code} : `pour_chaque` « {self.pour_chaque} » n'est ni une liste de "
                             "vocabulaire.yaml ni `indicateurs`")
        extra = [t for t in self.sauf if t not in vocabulaire.codes(self.pour_chaque)]
        if extra:
            raise ValueError(f"{self.code} : `sauf` cite des termes absents de `{self.pour_chaque}` : "
                             f"{', '.join(extra)}")
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


class CatalogueMesures(_Strict):
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
                raise ValueError(f"mesures.{i} ({m.code}) : sorte(s) de clé inconnue(s) : {', '.join(unknown)} "
                                 f"(connues : {', '.join(sorted(kinds))})")
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
                out[full] = MesureDeclaree(full, m.libelle.replace("{libelle}", libelle).replace("{code}", code or ""),
                                           unite, m.famille, m.nature, tuple(m.cles), tuple(m.perimetres), code,
                                           m.ecart)
        return out

    def cle(self, code: str) -> CleMesure:
        return next(c for c in self.cles if c.code == code)

    def refus(self, mesure: MesureDeclaree, cle: str | None, perimetre: str, qpv: list[str],
              vocabulaire: Vocabulaire) -> str | None:
        """Why a (key, perimeter) does not fit a measure, or None when it does."""
        kind = "territoire" if perimetre == "territoire" else ("qpv" if perimetre in qpv else None)
        if kind not in mesure.perimetres:
            return (f"périmètre « {perimetre} » non accepté (accepte : "
                    f"{', '.join('un code QPV du territoire' if p == 'qpv' else p for p in mesure.perimetres)})")
        if cle is None:
            return None if "aucune" in mesure.cles else f"clé obligatoire ({', '.join(mesure.cles)})"
        if not any(self.cle(k).accepts(cle, vocabulaire) for k in mesure.cles if k != "aucune"):
            return f"clé « {cle} » non acceptée (accepte : {', '.join(mesure.cles)})"
        return None

    def verifier_referentiel(self, referentiel: Referentiel, catalogue: Catalogue, territoire: Territoire,
                             vocabulaire: Vocabulaire, path: Path) -> None:
        known = self.declarees(vocabulaire, catalogue)
        problems = []
        for qi, question in enumerate(referentiel.questions):
            for ii, ind in enumerate(question.indicateurs):
                key = f"questions.{qi}.indicateurs.{ii}"
                mesure = known.get(ind.mesure)
                if mesure is None:
                    problems.append(f"  - clé `{key}.mesure` ({ind.code}) : mesure inconnue « {ind.mesure} » "
                                    "(config/mesures.yaml)")
                    continue
                why = self.refus(mesure, ind.cle, ind.perimetre, territoire.codes_qpv, vocabulaire)
                if why:
                    problems.append(f"  - clé `{key}` ({ind.code}) : mesure « {ind.mesure} » : {why}")
                elif "engagement" in mesure.cles and ind.cle not in referentiel.codes_engagements:
                    hint = nearest(ind.cle or "", referentiel.codes_engagements)
                    problems.append(f"  - clé `{key}.cle` ({ind.code}) : engagement « {ind.cle} » non déclaré dans "
                                    "`partenaires` (code_partenaire.code_indicateur)"
                                    + (f" — vouliez-vous dire « {hint} » ?" if hint else ""))
                if mesure.unite is not None and mesure.unite != ind.unite:
                    problems.append(f"  - clé `{key}.unite` ({ind.code}) : « {ind.unite} » alors que la mesure "
                                    f"« {ind.mesure} » est en « {mesure.unite} »")
        if problems:
            raise ConfigurationError(f"{path} : référentiel invalide\n" + "\n".join(problems))


# --- loading --------------------------------------------------------------------------------------


# libyaml's loader reads the same documents as PyYAML's pure-Python one, ≈ 14 × faster (0.29 s → 0.02 s for the
# demo configuration, paid by every process that loads it)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ConfigurationError(f"{path} : fichier de configuration introuvable")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path} : YAML illisible ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path} : le fichier doit contenir un dictionnaire de clés")
    return data


def _explain(path: Path, exc: ValidationError) -> ConfigurationError:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(racine)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "clé obligatoire absente"
        elif err["type"] == "extra_forbidden":
            msg = "clé inconnue"
        lines.append(f"  - clé `{key}` : {msg}")
    return ConfigurationError(f"{path} : configuration invalide\n" + "\n".join(lines))


def _load(model: type[BaseModel], path: Path, vocabulaire: Vocabulaire | None = None):
    try:
        return model.model_validate(_read_yaml(path), context={"vocabulaire": vocabulaire})
    except ValidationError as exc:
        raise _explain(path, exc) from None


class ProjectConfig:
    """Everything under one config directory, loaded lazily and validated once."""

    def __init__(self, config_dir: Path | str = DEFAULT_CONFIG_DIR):
        self.dir = Path(config_dir).resolve()

    @cached_property
    def settings(self) -> Settings:
        return _load(Settings, self.dir / "settings.yaml")

    @cached_property
    def vocabulaire(self) -> Vocabulaire:
        return _load(Vocabulaire, self.dir / "vocabulaire.yaml")

    @cached_property
    def glossaire(self) -> Glossaire:
        return _load(Glossaire, self.dir / "glossaire.yaml")

    @cached_property
    def mesures(self) -> CatalogueMesures:
        return _load(CatalogueMesures, self.dir / "mesures.yaml", self.vocabulaire)

    @cached_property
    def territoires(self) -> dict[str, Territoire]:
        folder = self.dir / "territoires"
        result: dict[str, Territoire] = {}
        for path in sorted(folder.glob("*.yaml")):
            territoire = _load(Territoire, path, self.vocabulaire)
            if territoire.code != path.stem:
                raise ConfigurationError(f"{path} : clé `code` « {territoire.code} » différente du nom du fichier")
            self.mesures.verifier_referentiel(self.referentiel(territoire.referentiel),
                                              self.catalogue(territoire.catalogue_indicateurs), territoire,
                                              self.vocabulaire,
                                              self.dir / "referentiels" / f"{territoire.referentiel}.yaml")
            result[territoire.code] = territoire
        if not result:
            raise ConfigurationError(f"{folder} : aucun territoire configuré")
        return result

    @cached_property
    def contrats(self) -> Contrats:
        """The input contracts (config/contrats/): one YAML per family, and the rules every family shares."""
        return load_contrats(self.dir / "contrats", self.vocabulaire)

    def territoire(self, code: str) -> Territoire:
        try:
            return self.territoires[code]
        except KeyError:
            raise ConfigurationError(
                f"territoire « {code} » inconnu (configurés : {', '.join(self.territoires)})"
            ) from None

    def referentiel(self, code: str) -> Referentiel:
        return _cached(self, "referentiels", code, Referentiel)

    def catalogue(self, code: str) -> Catalogue:
        return _cached(self, "catalogues", code, Catalogue)

    def resolve(self, path: str) -> Path:
        """A path written in a settings file is relative to the project root."""
        p = Path(path)
        return p if p.is_absolute() else (self.dir.parent / p).resolve()


def _cached(cfg: ProjectConfig, folder: str, code: str, model: type[BaseModel]):
    cache = cfg.__dict__.setdefault(f"_{folder}", {})
    if code not in cache:
        path = cfg.dir / folder / f"{code}.yaml"
        cache[code] = _load(model, path, cfg.vocabulaire)
    return cache[code]


# --- input contracts (config/contrats/) -----------------------------------------------------------

REGLES_COMMUNES = "_regles_communes.yaml"
Nom = Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]


class Regle(_Strict):
    description: str = Field(min_length=1)   # what the rule checks (bilan verifier, staging metadata)
    que_faire: str = Field(min_length=1)     # what the partner should do (feedback workbooks)
    gravite: Literal["erreur", "avertissement"] = "erreur"  # an `erreur` sends the row to quarantine


class RegleQpv(_Strict):
    """The column holds a QPV code of the territory (2015 codes mapped by its configuration): rule qpv_inconnu."""

    liste: bool = False        # several codes separated by `;` or `,`
    tous: str | None = None    # the value that means every QPV of the territory
    hors: str | None = None    # the value that means outside any QPV


class MotifsSelon(_Strict):
    """The column's form depends on another column's value (a vocabulary code): one regular expression per value."""

    colonne: Nom
    motifs: dict[str, str] = Field(min_length=1)
    qpv_si: list[str] = []   # values of `colonne` for which this column holds a QPV code of the territory
    # values of `colonne` for which this column holds the territory's own code: its SIREN, its department or one of
    # its communes (rule hors_territoire) — another territory's rows are never taken for this one's
    territoire_si: dict[str, Literal["siren_epci", "departement", "communes"]] = {}

    @field_validator("motifs")
    @classmethod
    def _regex(cls, v: dict[str, str]) -> dict[str, str]:
        for code, motif in v.items():
            try:
                re.compile(motif)
            except re.error as exc:
                raise ValueError(f"motif de « {code} » illisible : {exc}") from None
        return v


class Colonne(_Strict):
    nom: Nom
    type: Literal["texte", "entier", "nombre", "date", "booleen", "choix"] = "texte"
    obligatoire: bool = False
    alias: list[Nom] = []
    domaine: str | None = None          # choix: a list of config/vocabulaire.yaml
    valeurs: list[str] | None = None    # choix: a list of this contract alone, or the accepted part of `domaine`
    minimum: float | None = None
    minimum_strict: bool = False
    maximum: float | None = None
    casse: Literal["majuscules", "minuscules"] | None = None  # codes compared and stored in one case
    annee_boite: bool = False           # must equal the inbox year: rule annee_boite
    qpv: RegleQpv | None = None
    objectif: Literal["objectif", "objectif_ou_axe"] | None = None  # a code of the referential: objectif_inconnu
    motifs_selon: MotifsSelon | None = None
    # also stored, normalised (accents, case, punctuation: pipelines.common.normalise_header), in this column: the
    # one key every join, check and report uses for a name partners spell several ways (« Bailleur-A », « BAILLEUR A »)
    cle_normalisee: Nom | None = None

    @model_validator(mode="after")
    def _coherent(self, info: ValidationInfo) -> Colonne:
        if self.type == "choix":
            if self.domaine is None and self.valeurs is None:
                raise ValueError(f"colonne « {self.nom} » : un `choix` a un `domaine` (vocabulaire.yaml) ou des "
                                 "`valeurs` propres au contrat")
            if self.valeurs is not None and (not self.valeurs or len(set(self.valeurs)) != len(self.valeurs)):
                raise ValueError(f"colonne « {self.nom} » : `valeurs` vide ou avec un doublon")
            vocabulaire = (info.context or {}).get("vocabulaire")
            if self.domaine is not None and vocabulaire is not None:
                if self.domaine not in type(vocabulaire).model_fields:
                    raise ValueError(f"colonne « {self.nom} » : domaine « {self.domaine} » absent de "
                                     f"vocabulaire.yaml ({', '.join(type(vocabulaire).model_fields)})")
                # `valeurs` beside a `domaine`: the part of the vocabulary list this contract accepts
                outside = [v for v in self.valeurs or [] if v not in vocabulaire.codes(self.domaine)]
                if outside:
                    raise ValueError(f"colonne « {self.nom} » : valeur(s) hors du domaine `{self.domaine}` de "
                                     f"vocabulaire.yaml : {', '.join(outside)}")
        elif self.domaine is not None or self.valeurs is not None:
            raise ValueError(f"colonne « {self.nom} » : `domaine` et `valeurs` sont réservés au type `choix`")
        numeric = self.type in ("entier", "nombre")
        if not numeric and (self.minimum is not None or self.maximum is not None or self.minimum_strict):
            raise ValueError(f"colonne « {self.nom} » : `minimum` et `maximum` sont réservés aux nombres")
        if self.minimum_strict and self.minimum is None:
            raise ValueError(f"colonne « {self.nom} » : `minimum_strict` sans `minimum`")
        if self.annee_boite and self.type != "entier":
            raise ValueError(f"colonne « {self.nom} » : `annee_boite` est réservé au type `entier`")
        textual = (self.casse, self.qpv, self.objectif, self.motifs_selon)
        if self.type != "texte" and any(x is not None for x in textual):
            raise ValueError(f"colonne « {self.nom} » : `casse`, `qpv`, `objectif` et `motifs_selon` sont "
                             "réservés au type `texte`")
        return self


class TableContrat(_Strict):
    table: Nom                          # staging table name
    feuille: str | None = None          # sheet of a multi-sheet XLSX (and CSV name `<famille>_<feuille>…`)
    cle: list[Nom] = []
    derniere_remplace: bool = False     # a later file's row replaces an earlier one of the same key
    supprimer_colonnes_inconnues: bool = False  # columns outside the contract never reach anything
    colonnes: list[Colonne] = Field(min_length=1)

    @model_validator(mode="after")
    def _coherent(self) -> TableContrat:
        names = [c.nom for c in self.colonnes]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"table « {self.table} » : colonne(s) en double : {', '.join(dup)}")
        headers = names + [a for c in self.colonnes for a in c.alias]
        clash = sorted({h for h in headers if headers.count(h) > 1})
        if clash:
            raise ValueError(f"table « {self.table} » : nom ou alias cité deux fois : {', '.join(clash)}")
        names = names + [c.cle_normalisee for c in self.colonnes if c.cle_normalisee]
        missing = [k for k in self.cle if k not in names]
        if missing:
            raise ValueError(f"table « {self.table} » : colonne(s) de la clé absente(s) des colonnes : "
                             f"{', '.join(missing)}")
        for c in self.colonnes:
            if c.motifs_selon and c.motifs_selon.colonne not in names:
                raise ValueError(f"colonne « {c.nom} » : `motifs_selon.colonne` « {c.motifs_selon.colonne} » "
                                 "absente de la table")
        return self

    def colonne(self, nom: str) -> Colonne:
        return next(c for c in self.colonnes if c.nom == nom)


class MartContrat(_Strict):
    """The family's mart (assets/marts/<famille>.sql, or a SQL folder given to the definitions): how the graph
    shows it. Its staging tables, its mart tables and its year offset are read from its SQL and the vocabulary."""

    description: str = Field(min_length=40)  # what the mart holds, for evaluators (the asset's description)
    groupe: Nom = "marts"                    # the Dagster group it is drawn in


class ContratFamille(_Strict):
    description: str = Field(min_length=1)   # what the family's staging asset holds
    depend_de: list[Famille] = []            # families whose clean rows its rules read (upstream in the graph)
    tables: list[TableContrat] = Field(min_length=1)
    regles: dict[Nom, Regle] = {}            # the rules of this family alone (shared ones: _regles_communes.yaml)
    mart: MartContrat | None = None          # required when the family has a mart SQL

    @model_validator(mode="after")
    def _coherent(self) -> ContratFamille:
        names = [t.table for t in self.tables]
        if len(set(names)) != len(names):
            raise ValueError("tables : un nom de table est cité deux fois")
        if len(self.tables) > 1 and any(t.feuille is None for t in self.tables):
            raise ValueError("tables : une famille de plusieurs tables nomme la `feuille` de chacune")
        return self


class ReglesCommunes(_Strict):
    regles: dict[Nom, Regle] = Field(min_length=1)


class Contrats(_Strict):
    """Every family's contract, in the vocabulary's `familles` order, and the rules they share."""

    communes: dict[str, Regle]
    familles: dict[str, ContratFamille]
    fichiers: dict[str, Path]           # where each family's contract was read (for error messages)

    def regles(self, famille: str) -> dict[str, Regle]:
        return {**self.communes, **self.familles[famille].regles}


def _choices_exist(path: Path, contrat: ContratFamille, vocabulaire: Vocabulaire) -> None:
    for i, t in enumerate(contrat.tables):
        for j, c in enumerate(t.colonnes):
            if c.motifs_selon is None:
                continue
            other = t.colonne(c.motifs_selon.colonne)
            allowed = vocabulaire.codes(other.domaine) if other.domaine else (other.valeurs or [])
            unknown = [v for v in [*c.motifs_selon.motifs, *c.motifs_selon.qpv_si, *c.motifs_selon.territoire_si]
                       if v not in allowed]
            if other.type != "choix" or unknown:
                raise ConfigurationError(
                    f"{path} : configuration invalide\n  - clé `tables.{i}.colonnes.{j}.motifs_selon.motifs` : "
                    f"valeur(s) hors de la liste de « {other.nom} » : {', '.join(unknown) or other.nom}")


def load_contrats(folder: Path, vocabulaire: Vocabulaire) -> Contrats:
    communes_path = folder / REGLES_COMMUNES
    communes = _load(ReglesCommunes, communes_path).regles
    familles: dict[str, ContratFamille] = {}
    fichiers: dict[str, Path] = {}
    owner: dict[str, Path] = {}
    for famille in vocabulaire.codes("familles"):
        path = folder / f"{famille}.yaml"
        contrat = _load(ContratFamille, path, vocabulaire)
        _choices_exist(path, contrat, vocabulaire)
        for code in contrat.regles:
            if code in communes:
                raise ConfigurationError(f"{path} : configuration invalide\n  - clé `regles.{code}` : règle déjà "
                                         f"définie dans {communes_path.name}")
            if code in owner:
                raise ConfigurationError(f"{path} : configuration invalide\n  - clé `regles.{code}` : règle déjà "
                                         f"définie dans {owner[code].name}")
            owner[code] = path
        familles[famille], fichiers[famille] = contrat, path
    strays = sorted(p.name for p in folder.glob("*.yaml") if p.name != REGLES_COMMUNES and p.stem not in familles)
    if strays:
        raise ConfigurationError(f"{folder} : contrat(s) sans famille dans vocabulaire.yaml (`familles`) : "
                                 f"{', '.join(strays)}")
    return Contrats(communes=communes, familles=familles, fichiers=fichiers)
