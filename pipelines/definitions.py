"""The one Definitions object: what `dagster dev -w workspace.yaml` loads and what `bilan run` executes.

The whole graph is built from one configuration: the families from their contracts (config/contrats/), the marts
from the SQL found in assets/marts/ and in the extra SQL folders given, the checks from the registry
(config/controles.yaml) on the tables those write. A new family is data: a vocabulary term, a contract YAML, a mart
SQL (and its measures SQL) — no Python list to extend."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dagster import AssetsDefinition, Definitions, in_process_executor

from assets.bilan import build_bilan_asset
from assets.diffusion import diffusion
from assets.marts.marts_assets import build_mart_asset
from assets.marts.rejets import build_mesures_rejets_asset
from assets.publication.publication_assets import build_publication_asset
from assets.referentiel.referentiel_assets import build_mesures_asset, referentiel
from assets.retours import build_retours_partenaires
from assets.sources import build_source_asset
from assets.staging.quality_report import build_rapport_qualite
from assets.staging.staging_assets import build_staging_asset
from checks.controles import Registre, load_registry, tables_of
from checks.expectations import build_ge_checks
from core.config.projet import ProjectConfig
from core.familles.family import Family
from core.familles.registry import build_families
from core.marts import Mart, discover_marts
from core.resources import resources_from_environment
from pipelines.jobs import bilan_annuel, bilans_en_parallele
from pipelines.schedules import bilan_annuel_planifie, bilan_avant_copil
from pipelines.sensors import boite_de_depot


@dataclass(frozen=True)
class Graph:
    """What one configuration makes of the pipeline."""

    families: dict[str, Family]
    marts: tuple[Mart, ...]
    registre: Registre
    assets: list[AssetsDefinition]
    checks: list


def build_graph(config: ProjectConfig, sql_dirs: Iterable[Path | str] = ()) -> Graph:
    """Every asset and check from `config` and the mart SQL of assets/marts/ and `sql_dirs`."""
    families = build_families(config)
    marts = discover_marts(config, families, sql_dirs)
    registre = load_registry(config.dir / "controles.yaml", config.vocabulaire, tables_of(families, marts))
    assets = [*(build_source_asset(f, families) for f in families),
              *(build_staging_asset(f, registre) for f in families.values()),
              build_rapport_qualite(families), build_retours_partenaires(families),
              *(build_mart_asset(m, registre) for m in marts), build_mesures_rejets_asset(families),
              build_mesures_asset(marts), referentiel, build_publication_asset(marts), build_bilan_asset(marts),
              diffusion]
    paths = {a.key.to_user_string() for a in assets}
    return Graph(families, marts, registre, assets, build_ge_checks(registre, paths))


def build_definitions(config: ProjectConfig, sql_dirs: Iterable[Path | str] = ()) -> Definitions:
    return definitions_of(build_graph(config, sql_dirs))


def definitions_of(graph: Graph) -> Definitions:
    return Definitions(
        assets=graph.assets,
        asset_checks=graph.checks,
        jobs=[bilan_annuel, bilans_en_parallele],
        schedules=[bilan_avant_copil, bilan_annuel_planifie],
        sensors=[boite_de_depot],
        resources=resources_from_environment(),
        # one DuckDB file takes one writer: steps run one after the other in one process (also from the UI and
        # `dagster asset materialize`), which on 2 cores is also the fastest (≈ 2-3 s saved per step)
        executor=in_process_executor,
    )


GRAPH = build_graph(ProjectConfig())
ALL_ASSETS = GRAPH.assets
ALL_CHECKS = GRAPH.checks
# the data of a year without its bilan: what an earlier year is run for, and what a run fans the bilans out after
WITHOUT_BILAN = [a.key for a in ALL_ASSETS if a.key.path[0] != "bilan"]
ONLY_BILAN = [a.key for a in ALL_ASSETS if a.key.path[0] == "bilan"]

defs = definitions_of(GRAPH)


def parallel_bilans_job():
    """The job `bilans_en_parallele` as its step processes rebuild it (`reconstructable`: `bilan run --processus`)."""
    return defs.resolve_job_def("bilans_en_parallele")
