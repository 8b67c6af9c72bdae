"""The one Definitions object: what `dagster dev -w workspace.yaml` loads and what `bilan run` executes."""

from dagster import Definitions, in_process_executor

from assets.sources import SOURCE_ASSETS
from assets.staging.assets import STAGING_ASSETS
from assets.staging.quality_report import rapport_qualite
from assets.marts.assets import MART_ASSETS
from assets.referentiel.assets import mesures, referentiel
from assets.publication.assets import cohortes_publiees
from assets.bilan import bilan
from assets.diffusion import diffusion
from assets.retours import retours_partenaires
from checks.expectations import GE_CHECKS
from pipelines.jobs import bilan_annuel
from pipelines.resources import resources_from_environment
from pipelines.schedules import bilan_annuel_planifie, bilan_avant_copil
from pipelines.sensors import boite_de_depot

ALL_ASSETS = [*SOURCE_ASSETS, *STAGING_ASSETS, rapport_qualite, retours_partenaires, *MART_ASSETS, mesures, referentiel, cohortes_publiees, bilan, diffusion]

ALL_CHECKS = GE_CHECKS

defs = Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=[bilan_annuel],
    schedules=[bilan_avant_copil, bilan_annuel_planifie],
    sensors=[boite_de_depot],
    resources=resources_from_environment(),
    # one DuckDB file takes one writer: steps run one after the other in one process (also from the UI and
    # `dagster asset materialize`), which on 2 cores is also the fastest (≈ 2-3 s saved per step)
    executor=in_process_executor,
)
