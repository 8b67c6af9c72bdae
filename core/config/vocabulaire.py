"""config/vocabulaire.yaml: every list of the domain, once, with its French labels."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from core.config.base import StrictModel, cited_twice


class Terme(StrictModel):
    code: str
    libelle: str
    decalage_annee: int = 0  # familles: the year its measures describe, relative to the bilan year
    mois: int | None = None  # jalons: months after entry
    positive: bool = False  # situations: counts as a positive exit; etats_decision: the decision is closed
    # statuts_indicateur: how a status is drawn, so that no two look alike even without colour
    couleur: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")
    symbole: str | None = Field(None, min_length=1, max_length=2)
    # statuts_indicateur: the words after a count of indicators, singular then plural (« 1 atteint »,
    # « 15 suspendus à des lignes rejetées »): a status is a label, a count needs a phrase that agrees
    apres_un_nombre: tuple[str, str] | None = None


class Vocabulaire(StrictModel):
    """Every domain list, said once (config/vocabulaire.yaml): contracts, SQL, checks and the bilan read it."""

    familles: list[Terme] = Field(min_length=1)
    financeurs: list[Terme] = Field(min_length=1)
    natures_credit: list[Terme] = Field(min_length=1)
    modes_financement: list[Terme] = Field(min_length=1)
    statuts_dossier: list[Terme] = Field(min_length=1)
    etats_decision: list[Terme] = Field(min_length=1)
    types_partenaire: list[Terme] = Field(min_length=1)
    axes_tfpb: list[Terme] = Field(min_length=1)
    jalons: list[Terme] = Field(min_length=1)
    situations: list[Terme] = Field(min_length=1)
    sexes: list[Terme] = Field(min_length=1)
    unites: list[Terme] = Field(min_length=1)
    statuts_indicateur: list[Terme] = Field(min_length=1)
    criteres: list[Terme] = Field(min_length=1)
    niveaux_geo: list[Terme] = Field(min_length=1)
    types_quartier_complementaire: list[Terme] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> Vocabulaire:
        for domaine in type(self).model_fields:
            codes = self.codes(domaine)
            dup = cited_twice(codes)
            if dup:
                raise ValueError(f"{domaine} : code(s) en double : {', '.join(dup)}")
        statuts = self.statuts_indicateur
        bare = [t.code for t in statuts if t.couleur is None or t.symbole is None or t.apres_un_nombre is None]
        if bare:
            raise ValueError(f"statuts_indicateur : couleur, symbole et apres_un_nombre obligatoires "
                             f"({', '.join(bare)})")
        for attribut in ("libelle", "couleur", "symbole"):
            values = [str(getattr(t, attribut)).lower() for t in statuts]
            if len(set(values)) < len(values):
                raise ValueError(
                    f"statuts_indicateur : deux statuts ont le même {attribut} : chacun doit se distinguer des autres"
                )
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
        return [
            {
                "domaine": d,
                "code": t.code,
                "libelle": t.libelle,
                "rang": i + 1,
                "mois": t.mois,
                "positive": t.positive,
                "decalage_annee": t.decalage_annee,
            }
            for d in type(self).model_fields
            for i, t in enumerate(self.termes(d))
        ]


def _in_domain(domaine: str):
    """A value that must be a code of a vocabulary domain; the vocabulary comes in the validation context."""

    def check(value: str, info: ValidationInfo) -> str:
        vocabulaire = (info.context or {}).get("vocabulaire")
        if vocabulaire is not None and value not in vocabulaire.codes(domaine):
            raise ValueError(
                f"« {value} » n'est pas dans la liste `{domaine}` de vocabulaire.yaml "
                f"({', '.join(vocabulaire.codes(domaine))})"
            )
        return value

    return AfterValidator(check)


NiveauGeo = Annotated[str, _in_domain("niveaux_geo")]


TypeQuartierComplementaire = Annotated[str, _in_domain("types_quartier_complementaire")]


TypePartenaire = Annotated[str, _in_domain("types_partenaire")]


Famille = Annotated[str, _in_domain("familles")]


Unite = Annotated[str, _in_domain("unites")]


Critere = Annotated[str, _in_domain("criteres")]


EtatDecision = Annotated[str, _in_domain("etats_decision")]


# Partners' commitments are matched by stable codes, never by the text a partner happens to write: each partner and
# each of its indicators has a code, its own wording and the other spellings (`alias`) seen in its files; the match
# compares texts normalised once (core.common.normalise_header: accents, case, punctuation).
CodeEngagement = Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
