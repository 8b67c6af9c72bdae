"""The national 2024 QPV layer (ANCT): an external source read from a local copy or downloaded, never committed."""

from __future__ import annotations

import gzip
import io
import json
import urllib.request
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipelines.common import nearest
from pipelines.config import ConfigurationError, ProjectConfig, Territoire


@dataclass(frozen=True)
class QpvReference:
    code: str
    nom: str
    communes: tuple[str, ...]
    geometry: dict


@dataclass(frozen=True)
class ReferenceGeographie:
    origine: str
    qpv: dict[str, QpvReference]

    def check(self, territoire: Territoire, path_hint: str) -> None:
        absent = [c for c in territoire.codes_qpv if c not in self.qpv]
        if absent:
            hints = []
            for code in absent:
                same_dep = [c for c in self.qpv if c[2:5] == code[2:5]]
                guess = nearest(code, same_dep)
                hints.append(f"{code}" + (f" (vouliez-vous dire {guess} ?)" if guess else ""))
            raise ConfigurationError(
                f"{path_hint} : clé `qpv` : code(s) absent(s) de la liste nationale des QPV 2024 ({self.origine}) : "
                + ", ".join(hints))


def _parse(data: bytes, origine: str) -> ReferenceGeographie:
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    elif data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            name = next(n for n in z.namelist() if n.lower().endswith((".geojson", ".json")))
            data = z.read(name)
    layer = json.loads(data)
    qpv = {}
    for feature in layer["features"]:
        p = {k.lower(): v for k, v in feature["properties"].items()}
        code = str(p["code_qp"])
        communes = tuple(c.strip().zfill(5) for c in str(p.get("insee_com", "")).split(";") if c.strip())
        qpv[code] = QpvReference(code, str(p.get("lib_qp") or p.get("nom_qp") or code), communes, feature["geometry"])
    return ReferenceGeographie(origine=origine, qpv=qpv)


@lru_cache(maxsize=4)
def _load_cached(local: str | None, url: str | None, timeout: float) -> ReferenceGeographie | None:
    if local and Path(local).is_file():
        return _parse(Path(local).read_bytes(), str(local))
    if url:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return _parse(response.read(), url)
        except Exception:  # offline machine: the run goes on without the national list
            return None
    return None


def load_reference(config: ProjectConfig) -> ReferenceGeographie | None:
    settings = config.settings.geographie_reference
    local = str(config.resolve(settings.fichier_local)) if settings.fichier_local else None
    return _load_cached(local, settings.url_telechargement, settings.delai_telechargement_s)
