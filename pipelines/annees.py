"""A year is run again by `bilan run` only when what its data is made of changed.

`bilan run --annee 2025` loads the earlier years first (reports and cohorts refer to their programming). Run again
with nothing changed, each step of those years takes its result from the ledger, but forty steps still cost their
overhead: twenty seconds of a territory's sixty. A year is not run at all when, for every territory of the run's
scope, its inputs are those of the last run that made that territory's year; the requested year neither, when
what that run published for it is also as it left it (`--forcer` runs it all the same, each step then taking its
result from the ledger). A territory's inputs: its inbox files of that year and every earlier one (name, size,
modification time), the configuration folder, the code, the national reference files and the pseudonymisation key
(as a hash). Kept by territory, so a steward's run of one territory after a national pass loads none of the
earlier years again.
Any run of the year, from anywhere, forgets its territories' records at its first step (`assets/sources.py`), so a
year changed by a run from the UI or the sensor is never taken as unchanged."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from assets.sources import inbox_files
from core.config.base import PROJECT_ROOT
from core.config.projet import ProjectConfig
from core.familles.registry import build_families, family_of
from core.portee import Portee
from core.resources import BilanSettings

CODE_FOLDERS = ("assets", "checks", "core", "pipelines", "reports")
CODE_SUFFIXES = {".py", ".sql", ".j2", ".yaml", ".css"}


_FAMILIES: dict[tuple[str, str], dict] = {}


def _families(config: ProjectConfig, identity: str) -> dict:
    """The families of a configuration, built once for each state of its folder."""
    key = (str(config.dir), identity)
    if key not in _FAMILIES:
        _FAMILIES[key] = build_families(config)
    return _FAMILIES[key]


def _hash_files(digest, root, files) -> None:
    for path in sorted(files):
        digest.update(f"{path.relative_to(root).as_posix()}\0".encode() + hashlib.sha256(path.read_bytes()).digest())


def _published(parametres: BilanSettings, annee: int, territoire: str) -> list[Path]:
    """What a run of the year publishes for a territory: its bilans (behind the published link) and its partners'
    feedback workbooks. The year's files on every territory (quarantine, files' quality) are rewritten by any run
    and left out: a run of another territory would otherwise make this one's record stale."""
    year = parametres.output_dir / str(annee)
    folders = (year / territoire, year / "retours" / territoire)
    return [p for folder in folders if folder.exists() for p in folder.resolve().rglob("*") if p.is_file()]


def outputs_fingerprint(parametres: BilanSettings, annee: int, portee: Portee) -> dict[str, str]:
    """What the year's run published for each territory of the scope, by name, size and modification time (the
    requested year: a bilan removed or touched since is made again). Taken after the run, beside the inputs' taken
    before it: a file dropped in the inbox meanwhile is not taken as read."""
    out = {}
    for territoire in [t for t in parametres.config.territoires if portee.keeps(t)]:
        digest = hashlib.sha256()
        for path in sorted(_published(parametres, annee, territoire)):
            info = path.stat()
            digest.update(f"{path}|{info.st_size}|{info.st_mtime_ns}".encode())
        out[territoire] = digest.hexdigest()
    return out


@dataclass(frozen=True)
class Empreinte:
    """A territory's year as `bilan run` records it: what every territory shares (configuration, code, references,
    key), its earlier years' files, its files of the year family by family (`?`: a file of no family), and what the
    run published for it (and whether it rendered its bilans)."""

    commun: str
    anterieur: str
    familles: tuple[tuple[str, str], ...]
    sorties: str = ""

    def avec_sorties(self, sorties: str) -> Empreinte:
        return replace(self, sorties=sorties)

    def texte(self) -> str:
        return json.dumps({"commun": self.commun, "anterieur": self.anterieur, "familles": dict(self.familles),
                           "sorties": self.sorties}, sort_keys=True)


def changes(last: str, now: Empreinte) -> set[str] | None:
    """What changed in a territory's year since the record `last`: the families whose files of the year changed,
    and `bilan` when only what was published did; None when anything else did (the whole year runs again)."""
    try:
        before = json.loads(last)
    except ValueError:
        return None
    if not isinstance(before, dict) or before.get("commun") != now.commun or before.get("anterieur") != now.anterieur:
        return None
    familles = dict(now.familles)
    changed = {f for f in familles.keys() | before.get("familles", {}).keys()
               if familles.get(f) != before.get("familles", {}).get(f)}
    if "?" in changed:
        return None
    return changed | ({"bilan"} if before.get("sorties") != now.sorties else set())


def year_fingerprint(parametres: BilanSettings, annee: int, portee: Portee) -> dict[str, Empreinte]:
    """Each territory of the scope: its inbox files of the year and the earlier ones, with what every territory
    shares (configuration, code, references, key)."""
    config = parametres.config
    common = hashlib.sha256(f"{annee}|{parametres.data_root}".encode())
    identity = config.identity()
    common.update(identity.encode())
    _hash_files(common, PROJECT_ROOT, [p for folder in CODE_FOLDERS for p in (PROJECT_ROOT / folder).rglob("*")
                                       if p.suffix in CODE_SUFFIXES and p.is_file()])
    settings = config.settings
    names = settings.pseudonymisation
    key_file = os.environ.get(names.variable_fichier_cle, "")
    key = os.environ.get(names.variable_cle, "") + "|" + os.environ.get("BILAN_ENVIRONNEMENT", "")
    if key_file and os.path.isfile(key_file):
        key += "|" + open(key_file, "rb").read().hex()
    common.update(hashlib.sha256(key.encode()).digest())
    families = _families(config, identity)
    out = {}
    for territoire in [t for t in config.territoires if portee.keeps(t)]:
        earlier = hashlib.sha256()
        of_year: dict[str, hashlib._Hash] = {}
        for year in sorted(y for y in config.settings.annees if y <= annee):
            for path in inbox_files(parametres.data_root, territoire, year):
                info = path.stat()
                line = f"{territoire}|{year}|{path.name}|{info.st_size}|{info.st_mtime_ns}".encode()
                if year < annee:
                    earlier.update(line)
                else:
                    family = family_of(path.name, families)
                    of_year.setdefault(family.name if family else "?", hashlib.sha256()).update(line)
        # a file pulled from an address may have changed there: its family never counts as unchanged (a token of
        # this reading), nor the years after one it fed
        for source in config.territoires[territoire].sources_http:
            for year in [y for y in config.settings.annees if y <= annee and (not source.annees or y in source.annees)]:
                token = f"{source.url}|{os.urandom(8).hex()}".encode()
                (earlier if year < annee else of_year.setdefault(source.famille, hashlib.sha256())).update(token)
        out[territoire] = Empreinte(common.hexdigest(), earlier.hexdigest(),
                                    tuple(sorted((f, d.hexdigest()) for f, d in of_year.items())))
    return out
