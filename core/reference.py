"""The national 2024 QPV layer (ANCT) and the commune contours (IGN ADMIN EXPRESS): external sources read from a
local copy or downloaded, never committed."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import urllib.request
import zipfile
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from core.common import nearest
from core.config.base import ConfigurationError
from core.config.projet import ProjectConfig
from core.config.territoire import Territoire


@dataclass(frozen=True)
class QpvReference:
    code: str
    nom: str
    communes: tuple[str, ...]
    geometry: dict


@dataclass(frozen=True)
class CommuneReference:
    code: str
    nom: str
    geometry: dict


@dataclass(frozen=True)
class ReferenceGeographie:
    origine: str
    qpv: dict[str, QpvReference]
    # where the commune contours are read from (local file, address, timeout); read only by a process that draws
    # a map, and only the communes it draws (`commune_features`)
    communes_source: tuple[str | None, str | None, float] | None = None

    def commune_features(self, codes: list[str]) -> list[dict]:
        """The given communes as GeoJSON features (properties `code`, `nom`), in the given order; a code absent
        from the contours is left out (the map then shows the QPV without that commune)."""
        if self.communes_source is None:
            return []
        communes = _communes_of(self.communes_source, tuple(codes))
        return [{"type": "Feature", "geometry": communes[c].geometry,
                 "properties": {"code": c, "nom": communes[c].nom}} for c in codes if c in communes]

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


def _layer(data: bytes) -> dict:
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    elif data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            name = next(n for n in z.namelist() if n.lower().endswith((".geojson", ".json")))
            data = z.read(name)
    return json.loads(data)


def _parse(data: bytes, origine: str) -> ReferenceGeographie:
    layer = _layer(data)
    qpv = {}
    for feature in layer["features"]:
        p = {k.lower(): v for k, v in feature["properties"].items()}
        code = str(p["code_qp"])
        communes = tuple(c.strip().zfill(5) for c in str(p.get("insee_com", "")).split(";") if c.strip())
        qpv[code] = QpvReference(code, str(p.get("lib_qp") or p.get("nom_qp") or code), communes, feature["geometry"])
    return ReferenceGeographie(origine=origine, qpv=qpv)


def _parse_communes(data: bytes) -> dict[str, CommuneReference]:
    out = {}
    for feature in _layer(data)["features"]:
        p = {k.lower(): v for k, v in feature["properties"].items()}
        code = str(p.get("code") or p.get("insee_com") or p.get("code_insee")).zfill(5)
        out[code] = CommuneReference(code, str(p.get("nom") or p.get("nom_com") or code), feature["geometry"])
    return out


def read_source(local: str | None, url: str | None, timeout: float) -> tuple[bytes, str] | None:
    if local and Path(local).is_file():
        return Path(local).read_bytes(), str(local)
    if url:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return response.read(), url
        except Exception:  # offline machine: the run goes on without this layer
            return None
    return None


@lru_cache(maxsize=4)
def _load_cached(local: str | None, url: str | None, timeout: float) -> ReferenceGeographie | None:
    read = read_source(local, url, timeout)
    return _parse(*read) if read else None


@lru_cache(maxsize=2)
def _load_communes(local: str | None, url: str | None, timeout: float) -> dict[str, CommuneReference]:
    read = read_source(local, url, timeout)
    return _parse_communes(read[0]) if read else {}


# The national commune layer costs ≈ 4 s and 500 MB to parse, for the ten communes a bilan draws: it is parsed
# once per source (path, size and date, or address) into a DuckDB table in the user's cache, where each render
# process reads only its communes. Derived data, rebuilt when the source changes; written whole (temp + rename).
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bilan-quartiers" / "reference"


def _source_key(local: str | None, url: str | None) -> str | None:
    import duckdb

    if local and Path(local).is_file():
        st = Path(local).stat()
        ident = f"{Path(local).resolve()}|{st.st_size}|{st.st_mtime_ns}"
    elif url:
        ident = url
    else:
        return None
    # the file format is DuckDB's: another version writes its own
    return hashlib.sha256(f"{ident}|{duckdb.__version__}".encode()).hexdigest()[:16]


def _communes_table(local: str | None, url: str | None, timeout: float) -> Path | None:
    key = _source_key(local, url)
    if key is None:
        return None
    path = CACHE_DIR / f"contours_communes_{key}.duckdb"
    if path.is_file():
        return path
    communes = _load_communes(local, url, timeout)
    if not communes:
        return None
    import duckdb
    import pandas as pd

    rows = pd.DataFrame({"code": list(communes), "nom": [c.nom for c in communes.values()],
                         "geometrie": [json.dumps(c.geometry, separators=(",", ":")) for c in communes.values()]})
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with duckdb.connect(str(temporary)) as con:
        con.register("lignes", rows)
        con.execute("CREATE TABLE contours AS SELECT * FROM lignes ORDER BY code")
    os.replace(temporary, path)
    _load_communes.cache_clear()  # the table holds them now: the parsed layer's memory is given back
    return path


def _communes_of(source: tuple[str | None, str | None, float], codes: tuple[str, ...]) -> dict[str, CommuneReference]:
    import duckdb

    try:
        table = _communes_table(*source)
        if table is not None:
            with duckdb.connect(str(table), read_only=True) as con:
                found = con.execute("SELECT code, nom, geometrie FROM contours WHERE list_contains(?, code)",
                                    [list(codes)]).fetchall()
            return {code: CommuneReference(code, nom, json.loads(geometrie)) for code, nom, geometrie in found}
    except (OSError, duckdb.Error):  # no writable cache (read-only home), a damaged file: parsed in this process
        pass
    return {c: r for c, r in _load_communes(*source).items() if c in codes}


def load_reference(config: ProjectConfig) -> ReferenceGeographie | None:
    settings = config.settings.geographie_reference
    local = str(config.resolve(settings.fichier_local)) if settings.fichier_local else None
    reference = _load_cached(local, settings.url_telechargement, settings.delai_telechargement_s)
    source = settings.contours_communes
    if reference is None or source is None:
        return reference
    local_communes = str(config.resolve(source.fichier_local)) if source.fichier_local else None
    return replace(reference, communes_source=(local_communes, source.url_telechargement,
                                               settings.delai_telechargement_s))
