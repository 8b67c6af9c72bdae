"""The national administrative references (Etalab's « découpage administratif », INSEE's COG): the EPCI with their
SIREN, name, type and member communes, and the communes with their name and population. An external source named
in config/settings.yaml (`decoupage_administratif`), read from a local copy or downloaded, never committed; parsed
once per process (≈ 0.3 s for the 1 255 EPCI and 37 590 communes)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from functools import lru_cache

from core.config.projet import ProjectConfig
from core.reference import read_source

# an EPCI's type as the COG writes it, as a steward reads it
TYPES = {"CA": "communauté d'agglomération", "CC": "communauté de communes", "CU": "communauté urbaine",
         "METRO": "métropole", "MET69": "métropole de Lyon"}


@dataclass(frozen=True)
class CommuneCog:
    code: str
    nom: str
    departement: str | None
    population: int | None


@dataclass(frozen=True)
class Epci:
    siren: str
    nom: str
    type: str
    population: int | None
    membres: tuple[CommuneCog, ...]

    @property
    def codes_communes(self) -> set[str]:
        return {c.code for c in self.membres}

    @property
    def libelle_type(self) -> str:
        return TYPES.get(self.type, self.type)


@dataclass(frozen=True)
class Decoupage:
    origine: str
    millesime: int
    epci: dict[str, Epci]
    communes: dict[str, CommuneCog]
    # a commune merged since (a « commune déléguée » or « associée » of the COG) → the current commune it is part
    # of: the 2024 QPV layer names Pierrefitte-sur-Seine (93059), part of Saint-Denis (93066) since 1 January 2025
    fusions: dict[str, str] = field(default_factory=dict)

    def actuelle(self, code: str) -> str:
        """The current commune a commune code of an older geography is part of (itself when it still exists)."""
        return code if code in self.communes else self.fusions.get(code, code)

    def epci_of_commune(self, code: str) -> list[Epci]:
        return [e for e in self.epci.values() if code in e.codes_communes]

    def search(self, nom: str) -> list[Epci]:
        """The EPCI whose name contains every word of `nom` (accents and case aside)."""
        from core.common import normalise_header

        words = normalise_header(nom).split("_")
        return sorted((e for e in self.epci.values() if all(w in normalise_header(e.nom) for w in words if w)),
                      key=lambda e: e.nom)


def _json(data: bytes):
    return json.loads(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)


@lru_cache(maxsize=2)
def _load(epci_local: str | None, epci_url: str | None, communes_local: str | None, communes_url: str | None,
          timeout: float, millesime: int) -> Decoupage | None:
    epci_read = read_source(epci_local, epci_url, timeout)
    communes_read = read_source(communes_local, communes_url, timeout)
    if epci_read is None or communes_read is None:
        return None
    communes, fusions = {}, {}
    for c in _json(communes_read[0]):
        if c.get("type", "commune-actuelle") == "commune-actuelle":
            communes[c["code"]] = CommuneCog(c["code"], c["nom"], c.get("departement"), c.get("population"))
        elif c.get("chefLieu") and c["chefLieu"] != c["code"]:
            fusions[c["code"]] = c["chefLieu"]
    epci = {}
    for e in _json(epci_read[0]):
        membres = tuple(communes.get(m["code"]) or CommuneCog(m["code"], m["nom"], None, m.get("populationMunicipale"))
                        for m in e.get("membres", []))
        epci[e["code"]] = Epci(e["code"], e["nom"], e.get("type", ""), e.get("populationMunicipale"), membres)
    return Decoupage(origine=f"{epci_read[1]} ; {communes_read[1]}", millesime=millesime, epci=epci,
                     communes=communes, fusions=fusions)


def load_decoupage(config: ProjectConfig) -> Decoupage | None:
    """The references named in settings, or None when neither the local copy nor the address can be read."""
    settings = config.settings.decoupage_administratif
    if settings is None:
        return None

    def local(path: str | None) -> str | None:
        return str(config.resolve(path)) if path else None

    return _load(local(settings.epci.fichier_local), settings.epci.url_telechargement,
                 local(settings.communes.fichier_local), settings.communes.url_telechargement,
                 settings.delai_telechargement_s, settings.millesime)
