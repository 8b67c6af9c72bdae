"""A year is run again by `bilan run` only when what its data is made of changed.

`bilan run --annee 2025` loads the earlier years first (reports and cohorts refer to their programming). Run again
with nothing changed, each step of those years takes its result from the ledger, but forty steps still cost their
overhead: twenty seconds of a territory's sixty. A year whose inputs are those of its last run for the same scope
is not run at all; the requested year neither, when what it published is also as that run left it (`--forcer` runs
it all the same, each step then taking its result from the ledger). Its inputs: the scope's inbox files of that
year and every earlier one (name, size, modification time), the configuration folder, the code, the national
reference files and the pseudonymisation key (as a hash).
Any run of the year, from anywhere, forgets the record at its first step (`assets/sources.py`), so a year changed
by a run from the UI or the sensor is never taken as unchanged."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from assets.sources import inbox_files
from core.config.base import PROJECT_ROOT
from core.portee import Portee
from core.resources import BilanSettings

CODE_FOLDERS = ("assets", "checks", "core", "pipelines", "reports")
CODE_SUFFIXES = {".py", ".sql", ".j2", ".yaml", ".css"}


def _hash_files(digest, root, files) -> None:
    for path in sorted(files):
        digest.update(f"{path.relative_to(root).as_posix()}\0".encode() + hashlib.sha256(path.read_bytes()).digest())


def _outputs(parametres: BilanSettings, annee: int, territoires: list[str]) -> list[Path]:
    """What a run of the year publishes for these territories: their bilans (behind the published link), their
    partners' feedback workbooks and the year's files on every file and row."""
    year = parametres.output_dir / str(annee)
    folders = [year / t for t in territoires] + [year / "retours" / t for t in territoires]
    files = [p for folder in folders if folder.exists() for p in folder.resolve().rglob("*") if p.is_file()]
    return files + [p for p in (year / "quarantaine.csv", year / "qualite_fichiers.csv",
                                year / "retours" / "fichiers_manquants.xlsx") if p.is_file()]


def outputs_fingerprint(parametres: BilanSettings, annee: int, portee: Portee) -> str:
    """What the year's run published for the scope, by name, size and modification time (the requested year: a
    bilan removed or touched since is made again). Taken after the run, beside the inputs' taken before it: a file
    dropped in the inbox meanwhile is not taken as read."""
    digest = hashlib.sha256()
    territoires = [t for t in parametres.config.territoires if portee.keeps(t)]
    for path in sorted(_outputs(parametres, annee, territoires)):
        info = path.stat()
        digest.update(f"{path}|{info.st_size}|{info.st_mtime_ns}".encode())
    return digest.hexdigest()


def year_fingerprint(parametres: BilanSettings, annee: int, portee: Portee) -> str:
    config = parametres.config
    digest = hashlib.sha256(f"{annee}|{portee.key}|{parametres.data_root}".encode())
    territoires = [t for t in config.territoires if portee.keeps(t)]
    for year in sorted(y for y in config.settings.annees if y <= annee):
        for territoire in territoires:
            for path in inbox_files(parametres.data_root, territoire, year):
                info = path.stat()
                digest.update(f"{territoire}|{year}|{path.name}|{info.st_size}|{info.st_mtime_ns}".encode())
    digest.update(config.identity().encode())
    _hash_files(digest, PROJECT_ROOT, [p for folder in CODE_FOLDERS for p in (PROJECT_ROOT / folder).rglob("*")
                                       if p.suffix in CODE_SUFFIXES and p.is_file()])
    settings = config.settings
    names = settings.pseudonymisation
    key_file = os.environ.get(names.variable_fichier_cle, "")
    key = os.environ.get(names.variable_cle, "") + "|" + os.environ.get("BILAN_ENVIRONNEMENT", "")
    if key_file and os.path.isfile(key_file):
        key += "|" + open(key_file, "rb").read().hex()
    digest.update(hashlib.sha256(key.encode()).digest())
    return digest.hexdigest()
