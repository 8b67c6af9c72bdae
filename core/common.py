"""The ground floor: small helpers every layer may use. This module imports nothing of the project, so that
sources, staging, marts, reports and wiring all stand on it without cycles."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def normalise_header(name: object) -> str:
    """`Montant accordé (€)` → `montant_accorde`; `N° dossier` → `n_dossier`. Also the landlord and partner key."""
    text = "" if name is None else str(name)
    text = re.sub(r"\s*\([^)]*\)\s*$", "", text.strip())  # a trailing unit in parentheses
    text = unicodedata.normalize("NFKD", text.replace("°", "")).encode("ascii", "ignore").decode()
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text.lower()).strip("_")
    return text


def nearest(code: str, candidates: list[str]) -> str | None:
    """The closest candidate to a mistyped code, for the « vouliez-vous dire … ? » hints."""
    match = difflib.get_close_matches(code, candidates, n=1, cutoff=0.6)
    return match[0] if match else None


def slug(text: str) -> str:
    """`Auberchicourt-Nord` → `auberchicourt-nord`: a file-name-safe form of a name."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def code_version(*paths: Path, payload: object = None) -> str:
    """A short fingerprint of what an asset's result depends on — its files (SQL, templates, modules) and, for a
    family, its resolved contract (`payload`, as JSON): Dagster's `code_version` and the read cache's key, so a
    changed file or rule shows the asset as changed and nothing else is."""
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode())
    for path in sorted(set(paths), key=str):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Temp file in the same folder, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


VERSIONS = ".versions"


@contextmanager
def folder_to_publish(published: Path) -> Iterator[Path]:
    """Build a set of files that must be seen together (a territory's HTML, PDF, XLSX and commune bilans), then
    publish it in one rename. `published` is a symbolic link to a complete folder under `.versions/`: a reader, or
    a run killed at any point, sees the previous complete set or the new complete set, never a mix. A failed or
    killed build leaves only an unused folder under `.versions/`, removed by the next publication."""
    versions = published.parent / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(dir=versions, prefix=f"{published.name}-"))
    try:
        yield build
        os.chmod(build, 0o755)
        if published.is_dir() and not published.is_symlink():  # a folder from before versioned publication
            os.replace(published, Path(tempfile.mkdtemp(dir=versions, prefix=f"{published.name}-")) / "ancien")
        link = versions / f".{build.name}.lien"
        os.symlink(Path(VERSIONS) / build.name, link)
        os.replace(link, published)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    for old in versions.glob(f"{published.name}-*"):
        if old != build:
            shutil.rmtree(old, ignore_errors=True)


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+([.,][0-9]+)?")


def inert_text(value: object) -> object:
    """A text cell a spreadsheet would run as a formula (`=HYPERLINK(…)`, `-2+3+cmd|…`) gets a leading apostrophe,
    so an exported CSV opened in Excel or LibreOffice shows it instead of evaluating it. A plain signed number
    (`-12,5`) is no formula and stays as written; non-text values are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def inert_frame(frame):
    """A copy of a pandas DataFrame with inert_text applied to every text cell, for CSV exports."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype).startswith("string"):
            frame[column] = frame[column].map(inert_text, na_action="ignore")
    return frame
