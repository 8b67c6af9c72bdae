"""The marts, found as data: a mart is `<famille>.sql` (and, when it publishes measures, `<famille>_mesures.sql`)
in assets/marts/ or in another SQL folder given to the definitions.

What the graph needs of a mart is read where it is said once: the staging tables it reads and the mart tables it
writes from its SQL (`staging.<table>`, `INSERT INTO marts.<table>`), the staging assets from the contracts that
own those tables, the year its measures describe from the vocabulary (`familles.decalage_annee`), its description
and Dagster group from its family's contract YAML (`mart:`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from core.config.base import PROJECT_ROOT, ConfigurationError
from core.config.projet import ProjectConfig
from core.familles.family import Family

# the marts' SQL files: data beside the assets that run them, found by their name
SQL_DIR = PROJECT_ROOT / "assets" / "marts"
SCHEMA = "schema.sql"
MEASURES_SUFFIX = "_mesures"
_STAGING = re.compile(r"\bstaging\.(\w+)", re.IGNORECASE)
_WRITES = re.compile(r"\bINSERT\s+INTO\s+marts\.(\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class Mart:
    name: str
    staging: tuple[str, ...]    # the families whose staging tables its SQL reads
    tables: tuple[str, ...]     # the mart tables its SQL writes, by name
    data_year_offset: int       # the year the measures describe, relative to the bilan year
    description: str
    folder: Path = SQL_DIR      # where its SQL is
    group: str = "marts"
    published: tuple[str, ...] = ()  # the tables published as they are (its contract's `mart.publiees`)

    @property
    def sql(self) -> Path:
        return self.folder / f"{self.name}.sql"

    @property
    def measures_sql(self) -> Path | None:
        path = self.folder / f"{self.name}{MEASURES_SUFFIX}.sql"
        return path if path.is_file() else None

    @property
    def shown_path(self) -> str:
        """The SQL file as an evaluator finds it: relative to the project when it is in it."""
        return str(self.sql.relative_to(PROJECT_ROOT)) if self.sql.is_relative_to(PROJECT_ROOT) else str(self.sql)


def _sql_files(folders: Iterable[Path]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(Path(folder).glob("*.sql")):
            if path.name == SCHEMA or path.stem.endswith(MEASURES_SUFFIX):
                continue
            if path.stem in found:
                raise ConfigurationError(f"{path} : le mart « {path.stem} » est déjà défini par {found[path.stem]}")
            found[path.stem] = path
    return found


def discover_marts(config: ProjectConfig, families: dict[str, Family],
                   sql_dirs: Iterable[Path | str] = ()) -> tuple[Mart, ...]:
    """Every mart of assets/marts/ and of `sql_dirs`, in the vocabulary's family order."""
    files = _sql_files([SQL_DIR, *(Path(d).resolve() for d in sql_dirs)])
    owner = {t.name: f.name for f in families.values() for t in f.tables}
    offsets = {t.code: t.decalage_annee for t in config.vocabulaire.familles}
    contrats = config.contrats
    strays = sorted(set(files) - set(families))
    if strays:
        raise ConfigurationError("SQL de mart sans famille dans vocabulaire.yaml (`familles`) : "
                                 + ", ".join(str(files[s]) for s in strays))
    marts = []
    for name in families:
        path = files.get(name)
        if path is None:
            continue
        section = contrats.familles[name].mart
        if section is None:
            raise ConfigurationError(f"{contrats.fichiers[name]} : configuration invalide\n  - clé `mart` : "
                                     f"section absente alors que {path} définit le mart de la famille "
                                     "(description et groupe)")
        text = path.read_text(encoding="utf-8")
        unknown = sorted({t for t in _STAGING.findall(text) if t.lower() not in owner})
        if unknown:
            raise ConfigurationError(f"{path} : table(s) de staging sans contrat : "
                                     f"{', '.join('staging.' + t for t in unknown)}")
        reads = {owner[t.lower()] for t in _STAGING.findall(text)}
        # by name: the first is the table the asset's row count, schema and preview show
        writes = tuple(sorted({t.lower() for t in _WRITES.findall(text)}))
        if not writes:
            raise ConfigurationError(f"{path} : aucune table écrite (INSERT INTO marts.<table>)")
        published = writes if section.publiees is None else tuple(section.publiees)
        strangers = sorted(set(published) - set(writes))
        if strangers:
            raise ConfigurationError(f"{contrats.fichiers[name]} : configuration invalide\n  - clé `mart.publiees` : "
                                     f"{', '.join(strangers)} n'est pas une table écrite par {path} "
                                     f"({', '.join(writes)})")
        marts.append(Mart(name=name, staging=tuple(f for f in families if f in reads), tables=writes,
                          data_year_offset=offsets[name], description=section.description, folder=path.parent,
                          group=section.groupe, published=published))
    return tuple(marts)


def mart_tables(marts: Iterable[Mart]) -> dict[str, str]:
    """Every mart table → the path of the asset whose SQL writes it."""
    return {f"marts.{t}": f"marts/{m.name}" for m in marts for t in m.tables}
