"""config/bilan.yaml: the parts of the bilan in their reading order, each with its title, its template, the
published tables it reads, the family it cannot be made without, and whether the commune bilans carry it."""

from __future__ import annotations

import re

from pydantic import Field, ValidationInfo, field_validator, model_validator

from core.config.base import PROJECT_ROOT, StrictModel, cited_twice

# where a section's template is looked for: the project's, then a config folder's own (`gabarits/`)
SECTION_TEMPLATES = PROJECT_ROOT / "reports" / "templates" / "sections"
CONFIG_TEMPLATES = "gabarits"


class Section(StrictModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    titre: str = Field(min_length=3)
    gabarit: str = Field(pattern=r"^[\w.-]+\.html\.j2$")
    tables: dict[str, list[str]] = {}
    famille: str | None = None
    # tables whose rows of the year are enough for the family to be there, without a file in the year's box
    # (a follow-up rebuilt from every year's boxes)
    presente_avec: list[str] = []
    communes: bool = False

    @property
    def ancre(self) -> str:
        """The page anchor: « droit_commun » → #droit-commun."""
        return self.code.replace("_", "-")

    def intitule(self, **values: object) -> str:
        """The title with its placeholders ({annee}, {nom}) filled."""
        return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), self.titre)

    @field_validator("tables")
    @classmethod
    def _table_names(cls, tables: dict[str, list[str]]) -> dict[str, list[str]]:
        bad = [t for t in tables if not re.fullmatch(r"[a-z][a-z0-9_]*", t)]
        if bad:
            raise ValueError(f"nom de table publiée invalide : {', '.join(bad)} (lettres minuscules, chiffres et _)")
        return tables

    @model_validator(mode="after")
    def _declared(self) -> Section:
        stray = [t for t in self.presente_avec if t not in self.tables]
        if stray:
            raise ValueError(f"presente_avec : {', '.join(stray)} n'est pas dans `tables`")
        if self.presente_avec and self.famille is None:
            raise ValueError("presente_avec demande une `famille`")
        return self

    @field_validator("famille")
    @classmethod
    def _known_family(cls, famille: str | None, info: ValidationInfo) -> str | None:
        vocabulaire = (info.context or {}).get("vocabulaire")
        if famille is not None and vocabulaire is not None and famille not in vocabulaire.codes("familles"):
            raise ValueError(f"famille « {famille} » inconnue (vocabulaire.yaml, `familles` : "
                             f"{', '.join(vocabulaire.codes('familles'))})")
        return famille


# the tables every bilan reads (reports/data.py), beside those its sections declare
COMMON_TABLES = ("mesures", "referentiel", "qualite", "sources")
# a column's kind in the annex: t text, b yes/no, i whole number, y year, e euros, u in the row's unit, p a
# percentage already × 100, r a share in [0, 1], c a cohort count published as text, n a number
COLUMN_KINDS = ("t", "b", "i", "y", "e", "u", "p", "r", "c", "n")


class FeuilleAnnexe(StrictModel):
    feuille: str = Field(min_length=1, max_length=28)  # Excel: 31 characters, « (2) » added past its last row
    table: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    colonnes: dict[str, tuple[str, str]] = Field(min_length=1)  # column → (header, kind)
    libelles: dict[str, str] = {}  # code column → the vocabulary list naming its codes, or « mesures »

    @field_validator("colonnes")
    @classmethod
    def _kinds(cls, colonnes: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        bad = [f"{c} ({k})" for c, (_, k) in colonnes.items() if k not in COLUMN_KINDS]
        if bad:
            raise ValueError(f"nature de colonne inconnue : {', '.join(bad)} (attendu : {', '.join(COLUMN_KINDS)})")
        return colonnes

    @model_validator(mode="after")
    def _labelled(self) -> FeuilleAnnexe:
        stray = [c for c in self.libelles if c not in self.colonnes]
        if stray:
            raise ValueError(f"libelles : {', '.join(stray)} n'est pas une colonne de la feuille")
        return self


class Bilan(StrictModel):
    """The bilan's parts in their order; the commune bilans carry those marked `communes`; the annex's sheets."""

    sections: list[Section] = Field(min_length=1)
    annexe: list[FeuilleAnnexe] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Bilan:
        codes = [s.code for s in self.sections]
        dup = cited_twice(codes)
        if dup:
            raise ValueError(f"partie(s) citée(s) deux fois : {', '.join(dup)}")
        return self

    @model_validator(mode="after")
    def _sheets(self) -> Bilan:
        names = [f.feuille for f in self.annexe]
        dup = cited_twice(names)
        if dup:
            raise ValueError(f"annexe : feuille(s) citée(s) deux fois : {', '.join(dup)}")
        read = set(self.tables()) | set(COMMON_TABLES)
        stray = sorted({f.table for f in self.annexe} - read)
        if stray:
            raise ValueError(f"annexe : {', '.join(stray)} n'est lue par aucune partie (`sections.*.tables`) ni "
                             f"commune à tous les bilans ({', '.join(COMMON_TABLES)})")
        return self

    def tables(self) -> dict[str, list[str]]:
        """Every published table a section reads, with the order the first section to name it gives."""
        out: dict[str, list[str]] = {}
        for s in self.sections:
            for table, order in s.tables.items():
                out.setdefault(table, order)
        return out

    def presente_avec(self, famille: str) -> list[str]:
        """The tables whose rows of the year make a family there without a file of the year."""
        return sorted({t for s in self.sections if s.famille == famille for t in s.presente_avec})
