"""The registry of data checks (config/controles.yaml): every check said once, validated when loaded.

A check is either SQL (run in the step that writes its table: it compares tables; it returns one row per
territory it finds a problem in) or a Great Expectations expectation (run by the suites of checks/expectations.py,
with Data Docs). Both record their outcome per territory in `staging.controles` (checks/outcomes.py), with the
check's French description and message, which that territory's bilan shows.
"""

from __future__ import annotations

import string
from typing import Any, Literal

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation
from pydantic import Field, PrivateAttr, ValidationError, ValidationInfo, field_validator, model_validator

from checks.outcomes import STRUCTURAL, Verification
from core.config.base import DEFAULT_CONFIG_DIR, StrictModel, cited_twice, explain_error, read_yaml
from core.config.projet import ProjectConfig
from core.config.vocabulaire import Vocabulaire
from core.familles.family import Family
from core.familles.registry import FAMILIES
from core.marts import Mart, discover_marts, mart_tables

BLOQUANT, AVERTISSEMENT = "bloquant", "avertissement"
ANNEE = "$annee"



def tables_of(families: dict[str, Family], marts: tuple[Mart, ...]) -> dict[str, str]:
    """Every checkable table → the path of the asset that writes it: a staging table belongs to its family's
    asset, a mart table to the mart whose SQL inserts into it."""
    return {**{f"staging.{t.name}": f"staging/{f.name}" for f in families.values() for t in f.tables},
            **mart_tables(marts)}


# the project's own tables (config/, assets/marts/); a graph built from another configuration passes its own
TABLES = tables_of(FAMILIES, discover_marts(ProjectConfig(), FAMILIES))


def template_fields(template: str) -> list[str]:
    """The columns a detail template names: "{bailleur} / {taux_couverture:.1f} %" → bailleur, taux_couverture."""
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def _ge_errors(exc: Exception) -> str:
    if not hasattr(exc, "errors"):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return " ; ".join(("paramètre inconnu" if e["type"] == "value_error.extra" else e["msg"]) +
                      ("" if e["loc"] == ("__root__",) else f" ({'.'.join(map(str, e['loc']))})")
                      for e in exc.errors())


class Attente(StrictModel):
    type: str
    kwargs: dict[str, Any] = {}
    domaine: str | None = None
    detail: str | None = None     # one failing row, for the bilan: "{bailleur} / {code_qpv} : {taux_couverture:.1f} %"

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        kind = getattr(gxe, v, None)
        if not (isinstance(kind, type) and issubclass(kind, Expectation)):
            raise ValueError(f"« {v} » n'est pas un type d'attente Great Expectations "
                             "(ex. ExpectColumnValuesToBeBetween)")
        return v

    @field_validator("kwargs")
    @classmethod
    def _no_literal_list(cls, v: dict[str, Any]) -> dict[str, Any]:
        if "value_set" in v:
            raise ValueError("value_set : une liste de valeurs vient d'un domaine de vocabulaire.yaml "
                             "(clé `domaine`), jamais d'une liste écrite ici")
        reserved = sorted({"meta", "notes", "result_format"} & set(v))
        if reserved:
            raise ValueError(f"{', '.join(reserved)} : réservé(s) au pipeline")
        return v

    @field_validator("domaine")
    @classmethod
    def _known_domain(cls, v: str | None) -> str | None:
        if v is not None and v not in Vocabulaire.model_fields:
            raise ValueError(f"« {v} » n'est pas un domaine de vocabulaire.yaml "
                             f"({', '.join(Vocabulaire.model_fields)})")
        return v

    @field_validator("detail")
    @classmethod
    def _template(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                fields = template_fields(v)
            except ValueError as exc:
                raise ValueError(f"gabarit illisible ({exc})") from None
            if not fields:
                raise ValueError("le gabarit doit citer au moins une colonne, ex. {code_qpv}")
        return v

    @model_validator(mode="after")
    def _builds(self, info: ValidationInfo) -> Attente:
        """The expectation is built once at load with the loading vocabulary: GE itself refuses bad kwargs."""
        vocabulaire = (info.context or {}).get("vocabulaire")
        if vocabulaire is not None:
            try:
                self.build(vocabulaire, annee=2000)
            except Exception as exc:  # GE validates with its own (pydantic v1) models
                raise ValueError(f"attente {self.type} invalide : {_ge_errors(exc)}") from None
        return self

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    def resolved_kwargs(self, vocabulaire: Vocabulaire, annee: int) -> dict[str, Any]:
        kwargs = {k: int(annee) if v == ANNEE else v for k, v in self.kwargs.items()}
        if self.domaine:
            kwargs["value_set"] = vocabulaire.codes(self.domaine)
        return kwargs

    def build(self, vocabulaire: Vocabulaire, annee: int, **extra) -> Expectation:
        return getattr(gxe, self.type)(**self.resolved_kwargs(vocabulaire, annee), **extra)


class Controle(StrictModel):
    nom: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    table: str
    gravite: Literal["bloquant", "avertissement"]
    description: str = Field(min_length=10)
    message: str = Field(min_length=10)
    sql: str | None = None
    attente: Attente | None = None
    _actif: str = PrivateAttr("")

    @field_validator("table")
    @classmethod
    def _known_table(cls, v: str, info: ValidationInfo) -> str:
        tables = (info.context or {}).get("tables") or TABLES
        if v not in tables:
            raise ValueError(f"table « {v} » inconnue (tables contrôlables : {', '.join(sorted(tables))})")
        return v

    @field_validator("sql")
    @classmethod
    def _year(cls, v: str | None) -> str | None:
        if v is not None and ANNEE not in v:
            raise ValueError("la requête doit lire les lignes de l'année : $annee absent")
        if v is not None and "territoire" not in v.lower():
            raise ValueError("la requête renvoie une ligne par territoire concerné (territoire, problemes, "
                             "detail) : territoire absent")
        return v

    @model_validator(mode="after")
    def _one_definition(self, info: ValidationInfo) -> Controle:
        if (self.sql is None) == (self.attente is None):
            raise ValueError("un contrôle a soit `sql`, soit `attente` (l'un des deux, pas les deux)")
        self._actif = ((info.context or {}).get("tables") or TABLES)[self.table]
        return self

    @property
    def actif(self) -> str:
        """The asset that writes the checked table, in the graph the registry was loaded for."""
        return self._actif

    @property
    def bloquant(self) -> bool:
        return self.gravite == BLOQUANT

    @property
    def verification(self) -> Verification:
        return Verification(self.nom, self.bloquant, self.description, self.message)

    @property
    def year_column(self) -> str:
        """Staging rows belong to the year of their inbox, mart rows to the bilan year."""
        return "annee_boite" if self.table.startswith("staging.") else "annee"

    def sql_for(self, annee: int) -> str:
        """The query for the year: it returns (territoire, problemes, detail), one row per territory it finds a
        problem in (a territory it returns no row for passes)."""
        if self.sql is None:
            raise ValueError(f"{self.nom} : attente Great Expectations, pas un contrôle SQL")
        return self.sql.replace(ANNEE, str(int(annee)))


class Registre(StrictModel):
    controles: list[Controle] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Registre:
        names = [c.nom for c in self.controles]
        dup = cited_twice(names)
        if dup:
            raise ValueError(f"nom(s) de contrôle en double : {', '.join(dup)}")
        taken = [n for n in names if n.startswith(STRUCTURAL)]
        if taken:
            raise ValueError(f"nom(s) réservé(s) aux contrôles déduits des contrats : {', '.join(taken)}")
        return self

    def sql(self, actif: str) -> list[Controle]:
        return [c for c in self.controles if c.sql is not None and c.actif == actif]

    def expectations(self) -> list[Controle]:
        return [c for c in self.controles if c.attente is not None]

    def names(self, actif: str) -> list[str]:
        return [c.nom for c in self.controles if c.actif == actif]


def load_registry(path=DEFAULT_CONFIG_DIR / "controles.yaml", vocabulaire: Vocabulaire | None = None,
                  tables: dict[str, str] | None = None) -> Registre:
    """`tables`: the checkable tables of the graph (tables_of), the project's own by default."""
    if vocabulaire is None:
        vocabulaire = ProjectConfig(path.parent).vocabulaire
    try:
        return Registre.model_validate(read_yaml(path), context={"vocabulaire": vocabulaire, "tables": tables})
    except ValidationError as exc:
        raise explain_error(path, exc) from None


# Check names are Dagster definitions, so the registry is read once, with the code.
REGISTRE = load_registry()
