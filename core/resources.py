"""Resources: where the data and outputs live, the configuration, the DuckDB warehouse (dagster-duckdb), the
pseudonymiser."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from dagster import ConfigurableResource
from dagster_duckdb import DuckDBResource

from core.config.base import PROJECT_ROOT
from core.config.projet import ProjectConfig
from core.config.territoire import Territoire
from core.portee import Portee, of_tags
from core.pseudonymisation import Pseudonymiser, from_environment
from core.reference import ReferenceGeographie, load_reference
from core.verrou import acquire, release


@lru_cache(maxsize=8)
def _project_config(path: str) -> ProjectConfig:
    return ProjectConfig(path)


class BilanSettings(ConfigurableResource):
    """Paths of one deployment. Relative paths are relative to the project root."""

    racine_donnees: str = "data/demo"
    sortie: str = "sortie"
    dossier_config: str = "config"
    # PDF of the bilans: off for a deployment that only previews the HTML (and the tests that read no PDF)
    pdf: bool = True

    def _path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else PROJECT_ROOT / p

    @property
    def data_root(self) -> Path:
        return self._path(self.racine_donnees)

    @property
    def output_dir(self) -> Path:
        return self._path(self.sortie)

    @property
    def archive_dir(self) -> Path:
        return self.output_dir / "archive"

    @property
    def cache_dir(self) -> Path:
        return self.output_dir / "cache"

    @property
    def snapshot_dir(self) -> Path:
        """What `bilan verifier` reads from a run without opening the warehouse a run may be writing."""
        return self.output_dir / "instantane"

    @property
    def warehouse_path(self) -> Path:
        return self.output_dir / "entrepot.duckdb"

    @property
    def config(self) -> ProjectConfig:
        return _project_config(str(self._path(self.dossier_config)))

    def reference(self) -> ReferenceGeographie | None:
        return load_reference(self.config)

    def territoires(self, log=print):
        """Every configured territory, checked against the national QPV list when it is available (its referential
        is checked against the measure catalogue when the configuration is loaded)."""
        territoires = self.config.territoires
        reference = self.reference()
        if reference is None:
            log("Liste nationale des QPV indisponible : les codes QPV des territoires ne sont pas vérifiés "
                "contre la géographie 2024 ; le run continue avec la liste de chaque territoire.")
        else:
            for code, t in territoires.items():
                reference.check(t, str(self.config.dir / "territoires" / f"{code}.yaml"))
        return list(territoires.values())

    def setup_for_execution(self, context) -> None:
        # a run (UI, schedule, sensor, `bilan run`) and a sensor or schedule tick stop here, before touching the
        # inbox, on an unknown BILAN_ENVIRONNEMENT or a key that is not right, in any environment; the demo key is
        # announced by the step that uses it
        self.pseudonymiser(quiet=True)
        # and on a scope naming a territory that is not configured
        run = getattr(context, "dagster_run", None)
        if run is not None:
            of_tags(run.tags, self.config.territoires)

    def portee_du_run(self, context) -> Portee:
        """The territories the run reads and writes: its tag `bilan/territoires`, every territory without it."""
        return of_tags(context.run.tags, self.config.territoires)

    def territoires_du_run(self, context, log=print) -> list[Territoire]:
        """The configured territories in the run's scope (`territoires` checks them all)."""
        portee = self.portee_du_run(context)
        return [t for t in self.territoires(log) if portee.keeps(t.code)]

    def pseudonymiser(self, quiet: bool = False) -> Pseudonymiser:
        """Raises CleInvalide (French message) when the key is missing in production, unreadable or unsafe, or
        BILAN_ENVIRONNEMENT unknown. `quiet`: checks without announcing the demo key or warning."""
        names = self.config.settings.pseudonymisation
        return _pseudonymiser(names.variable_cle, names.variable_fichier_cle, quiet,
                              os.environ.get(names.variable_cle, ""), os.environ.get(names.variable_fichier_cle, ""),
                              os.environ.get("BILAN_ENVIRONNEMENT", ""))


@lru_cache(maxsize=8)
def _pseudonymiser(variable: str, file_variable: str, quiet: bool, *_environment: str) -> Pseudonymiser:
    return from_environment(variable, file_variable, quiet=quiet)


class WarehouseResource(DuckDBResource):
    """The warehouse, held by one run at a time: a Dagster run takes the warehouse lock (core/verrou.py) when
    its resources are set up and lets it go at the end, whoever launched it (`bilan run`, UI, schedule, sensor)."""

    attente_verrou_s: float = 900

    def setup_for_execution(self, context) -> None:
        # a sensor or schedule evaluation builds resources too, outside any run: it writes nothing, takes nothing
        if context.dagster_run is None or self.database == ":memory:":
            return
        log = context.log.info if context.log is not None else None
        acquire(self.database, self.attente_verrou_s, log=log)

    def teardown_after_execution(self, context) -> None:
        if context.dagster_run is not None and self.database != ":memory:":
            release(self.database)


def default_lock_wait() -> float:
    return _project_config(str(PROJECT_ROOT / "config")).settings.entrepot.attente_verrou_s


def warehouse(path: Path | str, attente_verrou_s: float | None = None,
              config: ProjectConfig | None = None) -> WarehouseResource:
    """The DuckDB warehouse of a deployment: one file per output folder, created with its folder; its memory and
    threads as config/settings.yaml says (`entrepot`)."""
    path = Path(path)
    path = path if path.is_absolute() else PROJECT_ROOT / path
    path.parent.mkdir(parents=True, exist_ok=True)
    reglages = (config or _project_config(str(PROJECT_ROOT / "config"))).settings.entrepot
    wait = reglages.attente_verrou_s if attente_verrou_s is None else attente_verrou_s
    return WarehouseResource(database=str(path), attente_verrou_s=wait, connection_config=reglages.duckdb())


def resources_from_environment() -> dict:
    """Deployment settings from the environment (BILAN_DONNEES, BILAN_SORTIE, BILAN_CONFIG, BILAN_PDF=non), the demo
    otherwise. The step processes of a multiprocess run rebuild their resources here: `bilan run --processus` sets
    these variables for them."""
    sortie = os.environ.get("BILAN_SORTIE", "sortie")
    parametres = BilanSettings(racine_donnees=os.environ.get("BILAN_DONNEES", "data/demo"), sortie=sortie,
                               dossier_config=os.environ.get("BILAN_CONFIG", "config"),
                               pdf=os.environ.get("BILAN_PDF", "oui").strip().lower() not in ("non", "0"))
    return {"parametres": parametres,
            "entrepot": warehouse(Path(sortie) / "entrepot.duckdb", config=parametres.config)}


