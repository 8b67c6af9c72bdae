"""Every configuration document of one config folder, loaded lazily and validated once."""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel

from core.common import nearest
from core.config.base import DEFAULT_CONFIG_DIR, ConfigurationError, load_document
from core.config.bilan import CONFIG_TEMPLATES, SECTION_TEMPLATES, Bilan
from core.config.catalogue import Catalogue
from core.config.contrats import Contrats, load_contrats
from core.config.decisions import Decisions, check_against
from core.config.glossaire import Glossaire
from core.config.mesures import CatalogueMesures
from core.config.referentiel import Referentiel
from core.config.settings import Settings
from core.config.territoire import Territoire
from core.config.vocabulaire import Vocabulaire


class ProjectConfig:
    """Everything under one config directory, loaded lazily and validated once."""

    def __init__(self, config_dir: Path | str = DEFAULT_CONFIG_DIR):
        self.dir = Path(config_dir).resolve()

    @cached_property
    def settings(self) -> Settings:
        return load_document(Settings, self.dir / "settings.yaml")

    @cached_property
    def vocabulaire(self) -> Vocabulaire:
        return load_document(Vocabulaire, self.dir / "vocabulaire.yaml")

    @cached_property
    def glossaire(self) -> Glossaire:
        return load_document(Glossaire, self.dir / "glossaire.yaml")

    @cached_property
    def bilan(self) -> Bilan:
        """The bilan's parts (bilan.yaml), each template found in the project's or in this folder's `gabarits/`."""
        path = self.dir / "bilan.yaml"
        bilan = load_document(Bilan, path, self.vocabulaire)
        for i, section in enumerate(bilan.sections):
            if not any((folder / section.gabarit).is_file() for folder in self.section_templates):
                raise ConfigurationError(
                    f"{path} : configuration invalide\n  - clé `sections.{i}.gabarit` : « {section.gabarit} » "
                    f"introuvable (cherché dans {' et '.join(str(f) for f in self.section_templates)})")
        return bilan

    @property
    def section_templates(self) -> list[Path]:
        """Where the bilan's section templates are: the project's, then this config folder's own."""
        return [SECTION_TEMPLATES, self.dir / CONFIG_TEMPLATES]

    @cached_property
    def mesures(self) -> CatalogueMesures:
        return load_document(CatalogueMesures, self.dir / "mesures.yaml", self.vocabulaire)

    @cached_property
    def territoires(self) -> dict[str, Territoire]:
        folder = self.dir / "territoires"
        result: dict[str, Territoire] = {}
        for path in sorted(folder.glob("*.yaml")):
            territoire = load_document(Territoire, path, self.vocabulaire)
            if territoire.code != path.stem:
                raise ConfigurationError(f"{path} : clé `code` « {territoire.code} » différente du nom du fichier")
            self.mesures.verifier_referentiel(
                self.referentiel(territoire.referentiel),
                self.catalogue(territoire.catalogue_indicateurs),
                territoire,
                self.vocabulaire,
                self.dir / "referentiels" / f"{territoire.referentiel}.yaml",
            )
            _check_needs(self.referentiel(territoire.referentiel), self.catalogue(territoire.catalogue_indicateurs),
                         self.dir / "referentiels" / f"{territoire.referentiel}.yaml")
            result[territoire.code] = territoire
        if not result:
            raise ConfigurationError(f"{folder} : aucun territoire configuré")
        return result

    @cached_property
    def contrats(self) -> Contrats:
        """The input contracts (config/contrats/): one YAML per family, and the rules every family shares."""
        return load_contrats(self.dir / "contrats", self.vocabulaire)

    def territoire(self, code: str) -> Territoire:
        try:
            return self.territoires[code]
        except KeyError:
            raise ConfigurationError(
                f"territoire « {code} » inconnu (configurés : {', '.join(self.territoires)})"
            ) from None

    def decisions(self, territoire: str, annee: int) -> Decisions | None:
        """The decisions of the COPIL that examined the bilan of `annee` (config/decisions/<territoire>/<annee>.yaml),
        checked against the territory; None when the steward recorded none."""
        path = self.dir / "decisions" / territoire / f"{annee}.yaml"
        if not path.is_file():
            return None
        t = self.territoire(territoire)
        decisions = load_document(Decisions, path, self.vocabulaire)
        check_against(decisions, path, t, self.referentiel(t.referentiel))
        return decisions

    def referentiel(self, code: str) -> Referentiel:
        return _cached(self, "referentiels", code, Referentiel)

    def catalogue(self, code: str) -> Catalogue:
        return _cached(self, "catalogues", code, Catalogue)

    def identity(self) -> str:
        """What a result made from this configuration depends on: every file of the folder, by content, and the
        national reference files it names (QPV layer, commune contours, EPCI and communes), by name, size and
        modification time. A bilan's inputs and an earlier year's skip both compare it."""
        digest = hashlib.sha256()
        for path in sorted(p for p in self.dir.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(self.dir)).encode() + b"\0" + path.read_bytes())
        settings = self.settings
        geographie = settings.geographie_reference
        references = [geographie.fichier_local,
                      geographie.contours_communes.fichier_local if geographie.contours_communes else None]
        if settings.decoupage_administratif is not None:
            references += [settings.decoupage_administratif.epci.fichier_local,
                           settings.decoupage_administratif.communes.fichier_local]
        for local in references:
            if local and self.resolve(local).is_file():
                info = self.resolve(local).stat()
                digest.update(f"{local}|{info.st_size}|{info.st_mtime_ns}".encode())
        return digest.hexdigest()

    def resolve(self, path: str) -> Path:
        """A path written in a settings file is relative to the project root."""
        p = Path(path)
        return p if p.is_absolute() else (self.dir.parent / p).resolve()


def _check_needs(referentiel: Referentiel, catalogue: Catalogue, path: Path) -> None:
    """The needs indicators of the referential's orientations are indicators of the territory's catalogue."""
    if referentiel.orientations is None:
        return
    codes = set(catalogue.codes)
    for i, besoin in enumerate(referentiel.orientations.besoins):
        if besoin.indicateur not in codes:
            guess = nearest(besoin.indicateur, sorted(codes))
            raise ConfigurationError(
                f"{path} : configuration invalide\n  - clé `orientations.besoins.{i}.indicateur` : « "
                f"{besoin.indicateur} » n'est pas un indicateur du catalogue « {catalogue.code} »"
                + (f" (vouliez-vous dire « {guess} » ?)" if guess else ""))


def _cached(cfg: ProjectConfig, folder: str, code: str, model: type[BaseModel]):
    cache = cfg.__dict__.setdefault(f"_{folder}", {})
    if code not in cache:
        path = cfg.dir / folder / f"{code}.yaml"
        cache[code] = load_document(model, path, cfg.vocabulaire)
    return cache[code]
