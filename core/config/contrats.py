"""config/contrats/<famille>.yaml and _regles_communes.yaml: the input file contracts (tables, columns,
keys, rules with their description and what to do)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from core.config.base import ConfigurationError, StrictModel, cited_twice, load_document
from core.config.vocabulaire import Famille, Vocabulaire

REGLES_COMMUNES = "_regles_communes.yaml"


Nom = Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]


class Regle(StrictModel):
    description: str = Field(min_length=1)  # what the rule checks (bilan verifier, staging metadata)
    que_faire: str = Field(min_length=1)  # what the partner should do (feedback workbooks)
    gravite: Literal["erreur", "avertissement"] = "erreur"  # an `erreur` sends the row to quarantine


class RegleQpv(StrictModel):
    """The column holds a QPV code of the territory (2015 codes mapped by its configuration): rule qpv_inconnu."""

    liste: bool = False  # several codes separated by `;` or `,`
    tous: str | None = None  # the value that means every QPV of the territory
    hors: str | None = None  # the value that means outside any QPV
    # the column may also name a quartier of the territory's complementary geography (a poche de pauvreté…): it
    # is never one of `tous`, and the marts keep it apart from the QPV
    complementaires: bool = False


class MotifsSelon(StrictModel):
    """The column's form depends on another column's value (a vocabulary code): one regular expression per value."""

    colonne: Nom
    motifs: dict[str, str] = Field(min_length=1)
    qpv_si: list[str] = []  # values of `colonne` for which this column holds a QPV code of the territory
    # values of `colonne` for which this column holds the territory's own code: its SIREN, its department or one of
    # its communes (rule hors_territoire) — another territory's rows are never taken for this one's
    territoire_si: dict[str, Literal["siren_epci", "departement", "communes", "quartiers_complementaires"]] = {}

    @field_validator("motifs")
    @classmethod
    def _regex(cls, v: dict[str, str]) -> dict[str, str]:
        for code, motif in v.items():
            try:
                re.compile(motif)
            except re.error as exc:
                raise ValueError(f"motif de « {code} » illisible : {exc}") from None
        return v


class Colonne(StrictModel):
    nom: Nom
    type: Literal["texte", "entier", "nombre", "date", "booleen", "choix"] = "texte"
    obligatoire: bool = False
    alias: list[Nom] = []
    domaine: str | None = None  # choix: a list of config/vocabulaire.yaml
    valeurs: list[str] | None = None  # choix: a list of this contract alone, or the accepted part of `domaine`
    minimum: float | None = None
    minimum_strict: bool = False
    maximum: float | None = None
    casse: Literal["majuscules", "minuscules"] | None = None  # codes compared and stored in one case
    annee_boite: bool = False  # must equal the inbox year: rule annee_boite
    qpv: RegleQpv | None = None
    objectif: Literal["objectif", "objectif_ou_axe"] | None = None  # a code of the referential: objectif_inconnu
    # codes of the referential's transversal axes, separated by `;` or `,` (rule transversal_inconnu)
    transversaux: bool = False
    motifs_selon: MotifsSelon | None = None
    # also stored, normalised (accents, case, punctuation: core.common.normalise_header), in this column: the
    # one key every join, check and report uses for a name partners spell several ways (« Bailleur-A », « BAILLEUR A »)
    cle_normalisee: Nom | None = None

    @model_validator(mode="after")
    def _coherent(self, info: ValidationInfo) -> Colonne:
        if self.type == "choix":
            if self.domaine is None and self.valeurs is None:
                raise ValueError(
                    f"colonne « {self.nom} » : un `choix` a un `domaine` (vocabulaire.yaml) ou des "
                    "`valeurs` propres au contrat"
                )
            if self.valeurs is not None and (not self.valeurs or len(set(self.valeurs)) != len(self.valeurs)):
                raise ValueError(f"colonne « {self.nom} » : `valeurs` vide ou avec un doublon")
            vocabulaire = (info.context or {}).get("vocabulaire")
            if self.domaine is not None and vocabulaire is not None:
                if self.domaine not in type(vocabulaire).model_fields:
                    raise ValueError(
                        f"colonne « {self.nom} » : domaine « {self.domaine} » absent de "
                        f"vocabulaire.yaml ({', '.join(type(vocabulaire).model_fields)})"
                    )
                # `valeurs` beside a `domaine`: the part of the vocabulary list this contract accepts
                outside = [v for v in self.valeurs or [] if v not in vocabulaire.codes(self.domaine)]
                if outside:
                    raise ValueError(
                        f"colonne « {self.nom} » : valeur(s) hors du domaine `{self.domaine}` de "
                        f"vocabulaire.yaml : {', '.join(outside)}"
                    )
        elif self.domaine is not None or self.valeurs is not None:
            raise ValueError(f"colonne « {self.nom} » : `domaine` et `valeurs` sont réservés au type `choix`")
        numeric = self.type in ("entier", "nombre")
        if not numeric and (self.minimum is not None or self.maximum is not None or self.minimum_strict):
            raise ValueError(f"colonne « {self.nom} » : `minimum` et `maximum` sont réservés aux nombres")
        if self.minimum_strict and self.minimum is None:
            raise ValueError(f"colonne « {self.nom} » : `minimum_strict` sans `minimum`")
        if self.annee_boite and self.type != "entier":
            raise ValueError(f"colonne « {self.nom} » : `annee_boite` est réservé au type `entier`")
        textual = (self.casse, self.qpv, self.objectif, self.motifs_selon, self.transversaux or None)
        if self.type != "texte" and any(x is not None for x in textual):
            raise ValueError(
                f"colonne « {self.nom} » : `casse`, `qpv`, `objectif`, `transversaux` et `motifs_selon` sont réservés "
                "au type `texte`"
            )
        return self


class TableContrat(StrictModel):
    table: Nom  # staging table name
    feuille: str | None = None  # sheet of a multi-sheet XLSX (and CSV name `<famille>_<feuille>…`)
    cle: list[Nom] = []
    derniere_remplace: bool = False  # a later file's row replaces an earlier one of the same key
    supprimer_colonnes_inconnues: bool = False  # columns outside the contract never reach anything
    colonnes: list[Colonne] = Field(min_length=1)

    @model_validator(mode="after")
    def _coherent(self) -> TableContrat:
        names = [c.nom for c in self.colonnes]
        dup = cited_twice(names)
        if dup:
            raise ValueError(f"table « {self.table} » : colonne(s) en double : {', '.join(dup)}")
        headers = names + [a for c in self.colonnes for a in c.alias]
        clash = cited_twice(headers)
        if clash:
            raise ValueError(f"table « {self.table} » : nom ou alias cité deux fois : {', '.join(clash)}")
        names = names + [c.cle_normalisee for c in self.colonnes if c.cle_normalisee]
        missing = [k for k in self.cle if k not in names]
        if missing:
            raise ValueError(
                f"table « {self.table} » : colonne(s) de la clé absente(s) des colonnes : {', '.join(missing)}"
            )
        for c in self.colonnes:
            if c.motifs_selon and c.motifs_selon.colonne not in names:
                raise ValueError(
                    f"colonne « {c.nom} » : `motifs_selon.colonne` « {c.motifs_selon.colonne} » absente de la table"
                )
        return self

    def colonne(self, nom: str) -> Colonne:
        return next(c for c in self.colonnes if c.nom == nom)


class MartContrat(StrictModel):
    """The family's mart (assets/marts/<famille>.sql, or a SQL folder given to the definitions): how the graph
    shows it. Its staging tables, its mart tables and its year offset are read from its SQL and the vocabulary."""

    description: str = Field(min_length=40)  # what the mart holds, for evaluators (the asset's description)
    groupe: Nom = "marts"  # the Dagster group it is drawn in
    # the mart tables published as they are (schema `publication`, read by the bilan and the annex); None: every
    # table its SQL writes. A table of counts of people from individual data is never published as it is: secrecy
    # is applied to it by the publication step (assets/publication/)
    publiees: list[Nom] | None = None


class ContratFamille(StrictModel):
    description: str = Field(min_length=1)  # what the family's staging asset holds
    depend_de: list[Famille] = []  # families whose clean rows its rules read (upstream in the graph)
    tables: list[TableContrat] = Field(min_length=1)
    regles: dict[Nom, Regle] = {}  # the rules of this family alone (shared ones: _regles_communes.yaml)
    mart: MartContrat | None = None  # required when the family has a mart SQL

    @model_validator(mode="after")
    def _coherent(self) -> ContratFamille:
        names = [t.table for t in self.tables]
        if len(set(names)) != len(names):
            raise ValueError("tables : un nom de table est cité deux fois")
        if len(self.tables) > 1 and any(t.feuille is None for t in self.tables):
            raise ValueError("tables : une famille de plusieurs tables nomme la `feuille` de chacune")
        return self


class ReglesCommunes(StrictModel):
    regles: dict[Nom, Regle] = Field(min_length=1)


class Contrats(StrictModel):
    """Every family's contract, in the vocabulary's `familles` order, and the rules they share."""

    communes: dict[str, Regle]
    familles: dict[str, ContratFamille]
    fichiers: dict[str, Path]  # where each family's contract was read (for error messages)

    def regles(self, famille: str) -> dict[str, Regle]:
        return {**self.communes, **self.familles[famille].regles}


def _choices_exist(path: Path, contrat: ContratFamille, vocabulaire: Vocabulaire) -> None:
    for i, t in enumerate(contrat.tables):
        for j, c in enumerate(t.colonnes):
            if c.motifs_selon is None:
                continue
            other = t.colonne(c.motifs_selon.colonne)
            allowed = vocabulaire.codes(other.domaine) if other.domaine else (other.valeurs or [])
            unknown = [
                v
                for v in [*c.motifs_selon.motifs, *c.motifs_selon.qpv_si, *c.motifs_selon.territoire_si]
                if v not in allowed
            ]
            if other.type != "choix" or unknown:
                raise ConfigurationError(
                    f"{path} : configuration invalide\n  - clé `tables.{i}.colonnes.{j}.motifs_selon.motifs` : "
                    f"valeur(s) hors de la liste de « {other.nom} » : {', '.join(unknown) or other.nom}"
                )


def load_contrats(folder: Path, vocabulaire: Vocabulaire) -> Contrats:
    communes_path = folder / REGLES_COMMUNES
    communes = load_document(ReglesCommunes, communes_path).regles
    familles: dict[str, ContratFamille] = {}
    fichiers: dict[str, Path] = {}
    owner: dict[str, Path] = {}
    for famille in vocabulaire.codes("familles"):
        path = folder / f"{famille}.yaml"
        contrat = load_document(ContratFamille, path, vocabulaire)
        _choices_exist(path, contrat, vocabulaire)
        for code in contrat.regles:
            if code in communes:
                raise ConfigurationError(
                    f"{path} : configuration invalide\n  - clé `regles.{code}` : règle déjà "
                    f"définie dans {communes_path.name}"
                )
            if code in owner:
                raise ConfigurationError(
                    f"{path} : configuration invalide\n  - clé `regles.{code}` : règle déjà "
                    f"définie dans {owner[code].name}"
                )
            owner[code] = path
        familles[famille], fichiers[famille] = contrat, path
    strays = sorted(p.name for p in folder.glob("*.yaml") if p.name != REGLES_COMMUNES and p.stem not in familles)
    if strays:
        raise ConfigurationError(
            f"{folder} : contrat(s) sans famille dans vocabulaire.yaml (`familles`) : {', '.join(strays)}"
        )
    return Contrats(communes=communes, familles=familles, fichiers=fichiers)
