"""The yearly job: the whole graph for one programming year, in-process (2-3 s per step saved on 2 cores)."""

from dagster import AssetSelection, define_asset_job, in_process_executor

from pipelines.partitions import annee_partitions

bilan_annuel = define_asset_job(
    "bilan_annuel",
    selection=AssetSelection.all(),
    partitions_def=annee_partitions,
    executor_def=in_process_executor,
    description="Tout le graphe pour une année de programmation : sources, staging, marts, référentiel, cohortes, "
                "bilan. Les territoires sont une colonne des données : un run les traite tous.",
)
