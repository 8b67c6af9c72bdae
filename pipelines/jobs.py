"""The yearly job: the whole graph for one programming year, in-process (2-3 s per step saved on 2 cores); and
the bilans alone on the multiprocess executor, their render batches side by side."""

from dagster import AssetSelection, define_asset_job, in_process_executor, multiprocess_executor

from core.partitions import annee_partitions

bilan_annuel = define_asset_job(
    "bilan_annuel",
    selection=AssetSelection.all(),
    partitions_def=annee_partitions,
    executor_def=in_process_executor,
    description="Tout le graphe pour une année de programmation : sources, staging, marts, référentiel, cohortes, "
                "bilan. Les territoires sont une colonne des données : un run les traite tous, ou ceux de son "
                "étiquette bilan/territoires (« ccco », « ccco,caph ») sans toucher aux autres.",
)

# each step process forks from one that imported the stack and the definitions once, instead of importing them
# again as `spawn` does (≈ 4 s a step on this machine): the render batches start in a fraction of a second
DEMARRAGE_PROCESSUS = {"forkserver": {"preload_modules": ["pipelines.definitions"]}}

bilans_en_parallele = define_asset_job(
    "bilans_en_parallele",
    selection=AssetSelection.groups("bilan"),
    partitions_def=annee_partitions,
    # each render batch in its own process, as many at once as cores (`max_concurrent` in the run's config); the
    # steps that use the warehouse (snapshot, ledger, delivery) come one after the other by their dependencies
    executor_def=multiprocess_executor,
    config={"execution": {"config": {"start_method": DEMARRAGE_PROCESSUS}}},
    description="Les bilans de l'année (tables publiées déjà calculées) : les lots de territoires sont rendus côte "
                "à côte, un processus par lot, depuis l'instantané Parquet des tables publiées. Le même job tourne "
                "sur dagster-celery ou dagster-k8s (deploiement/README.md).",
)


def bilans_run_config(processus: int) -> dict:
    """The run configuration of `bilans_en_parallele` with `processus` batches at once, for whoever launches it from
    Python (`bilan run --processus`, `make bench`): a run configuration given at launch replaces the job's own."""
    return {"execution": {"config": {"max_concurrent": processus, "start_method": DEMARRAGE_PROCESSUS}},
            "loggers": {"console": {"config": {"log_level": "ERROR"}}}}
