"""Sources: find each family's files for a year (inbox and HTTP pulls) and archive them by content.

One code path for every family. The archive is content-addressed (SHA-256): the same file dropped twice is
stored once; a changed file under the same name becomes a new recorded version; the earlier one stays.
"""

import datetime as dt
import hashlib
import os
import stat
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
from dagster import AssetExecutionContext, AssetKey, DataVersion, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from core.common import sha256_of, write_atomic
from core.config.settings import Limites
from core.config.territoire import Territoire
from core.familles.family import Family
from core.familles.reading import refusal_before_archiving
from core.familles.registry import family_of
from core.logging import say
from core.partitions import annee_partitions
from core.portee import NATIONALE, Portee
from core.reprise import forget_year
from core.resources import BilanSettings
from core.warehouse import insert_frame, transaction

IGNORED_PREFIXES = ("~$", ".~lock", ".")  # office lock files and hidden files are not deposits


@dataclass
class Deposit:
    territoire: str
    annee: int
    famille: str
    nom_fichier: str
    sha256: str
    taille: int
    origine: str        # "boite" or the URL
    chemin_archive: str
    version: int = 0
    nouveau: bool = False
    # when the file was put in the inbox (its modification time; a download: when it was fetched): the date the
    # bilan's data stop at, the same for every run that reads this version
    depose_le: dt.datetime | None = None
    # refused on its size or its workbook's directory before archiving: the reason, and no copy in the archive
    refus: str | None = None




def archive_bytes(archive_dir: Path, data: bytes, suffix: str) -> tuple[str, Path]:
    digest = sha256_of(data)
    target = archive_target(archive_dir, digest, suffix)
    if not target.exists():
        archive_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(archive_dir, 0o700)  # raw partner files may hold personal data: owner only
        write_atomic(target, data, mode=0o600)
    return digest, target


def inbox_dir(racine: Path, territoire: str, annee: int) -> Path:
    return racine / "inbox" / territoire / str(annee)


def inbox_entries(racine: Path, territoire: str, annee: int) -> tuple[list[Path], list[tuple[str, str]]]:
    """The regular files of an inbox, and every other entry with why it is refused. The inbox is a boundary:
    a link is never followed (it could point anywhere on the machine), a pipe or a device never opened."""
    folder = inbox_dir(racine, territoire, annee)
    if not folder.is_dir():
        return [], []
    inside = folder.resolve()
    if inside != (racine / "inbox").resolve() / territoire / str(annee):
        # the territory or year folder is itself a link: what it holds lies outside the inbox
        return [], [(f"{territoire}/{annee}", "dossier de la boîte qui mène hors de inbox/ (lien symbolique) : "
                                              "jamais lu")]
    files, refused = [], []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(IGNORED_PREFIXES):
            continue
        try:
            info = path.lstat()
        except OSError as exc:
            refused.append((path.name, f"entrée illisible ({exc.strerror}) : jamais lue"))
            continue
        if stat.S_ISLNK(info.st_mode):
            refused.append((path.name, "lien symbolique : jamais suivi ni archivé — déposez le fichier lui-même"))
        elif stat.S_ISDIR(info.st_mode):
            refused.append((path.name, "dossier : son contenu n'est pas lu — déposez les fichiers directement dans "
                                       f"inbox/{territoire}/{annee}/"))
        elif not stat.S_ISREG(info.st_mode):
            refused.append((path.name, "ni fichier ni dossier (tube, périphérique ou socket) : jamais lu"))
        # an entry that is no link, listed in a folder that resolves to itself, is inside the inbox: no resolve()
        # per file (4 of the 6 s a fingerprint of 354 territories' inboxes took); a file swapped for a link after
        # this listing is not followed when read (O_NOFOLLOW)
        elif not os.access(path, os.R_OK):
            refused.append((path.name, "fichier illisible (droits insuffisants) : jamais lu"))
        else:
            files.append(path)
    return files, refused


def inbox_files(racine: Path, territoire: str, annee: int) -> list[Path]:
    return inbox_entries(racine, territoire, annee)[0]


def unknown_inbox_files(racine: Path, territoires: list[str], annee: int, families: dict[str, Family] | None = None
                        ) -> list[tuple[str, str, str, str]]:
    """What the inbox holds but the run leaves aside: (territoire, nom, statut, message), statut `ignore` for a
    file of no known family, `refuse` for an entry that is not a readable regular file."""
    found = []
    for t in territoires:
        files, refused = inbox_entries(racine, t, annee)
        found += [(t, p.name, "ignore", "nom de fichier sans famille connue : laissé de côté")
                  for p in files if family_of(p.name, families) is None]
        found += [(t, name, "refuse", why) for name, why in refused]
    return found


def unknown_territory_folders(racine: Path, territoires: list[str], annee: int) -> list[tuple[str, str, str, str]]:
    """The inbox folders that are not a configured territory (a typo, a territory not configured yet): each file of
    their year, as (folder, file, `refuse`, why), so that the quality report and the run say what was not read —
    never skipped in silence, never given to another territory."""
    inbox = racine / "inbox"
    if not inbox.is_dir():
        return []
    known = ", ".join(sorted(territoires))
    found = []
    for folder in sorted(p for p in inbox.iterdir() if p.is_dir() and not p.name.startswith(IGNORED_PREFIXES)):
        if folder.name in territoires:
            continue
        why = (f"dossier inbox/{folder.name}/ : « {folder.name} » n'est pas un territoire configuré (territoires : "
               f"{known}) — fichier non lu ; déposez-le dans le dossier de son territoire, ou configurez le "
               f"territoire (config/territoires/{folder.name}.yaml)")
        year = folder / str(annee)
        names = sorted(p.name for p in year.iterdir() if not p.name.startswith(IGNORED_PREFIXES)) \
            if year.is_dir() and not year.is_symlink() else []
        found += [(folder.name, name, "refuse", why) for name in names]
    return found


def _open_regular(path: Path):
    """Open without following a link and without blocking on a pipe: the entry may have changed since it was
    listed."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        handle.close()
        raise OSError(f"{path.name} n'est plus un fichier ordinaire")
    return handle


def archive_stream(archive_dir: Path, handle, suffix: str) -> tuple[str, int, Path]:
    """Like archive_bytes, for a file read in chunks: memory stays flat whatever its size."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(archive_dir, 0o700)
    digest, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(dir=archive_dir, prefix=".depot.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        os.chmod(tmp, 0o600)
        hexdigest = digest.hexdigest()
        target = archive_target(archive_dir, hexdigest, suffix)
        if target.exists():
            os.unlink(tmp)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return hexdigest, size, target


def archive_target(archive_dir: Path, digest: str, suffix: str) -> Path:
    return archive_dir / digest[:2] / f"{digest}{suffix.lower()}"


@dataclass(frozen=True)
class Archived:
    sha256: str
    taille: int
    chemin: Path | None     # None: refused before archiving, never copied
    depose_le: dt.datetime
    refus: str | None = None


def archive_file(archive_dir: Path, path: Path, limites: Limites | None = None) -> Archived:
    """A deposited file archived by content. It is hashed first, without writing anything: a file already archived
    (every file of a rerun) is read once and never copied. A new one is then copied and hashed again as it is
    copied, and that second hash is the one kept: the file may have changed in between. A file refused on its size
    or its workbook's directory (`limites`) is hashed and never copied."""
    with _open_regular(path) as handle:
        info = os.fstat(handle.fileno())
        deposited = dt.datetime.fromtimestamp(info.st_mtime)
        refus = refusal_before_archiving(handle, info.st_size, path.suffix, limites or Limites(), path.name)
        digest, size = hashlib.sha256(), 0
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    if refus is not None:
        return Archived(digest.hexdigest(), size, None, deposited, refus)
    target = archive_target(archive_dir, digest.hexdigest(), path.suffix)
    if target.is_file():
        return Archived(digest.hexdigest(), size, target, deposited)
    with _open_regular(path) as handle:
        return Archived(*archive_stream(archive_dir, handle, path.suffix), deposited)


def _download(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "bilan-quartiers"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def collect(famille: str, annee: int, territoires: list[Territoire], racine: Path, archive_dir: Path,
            log=print, timeout: float = 30, families: dict[str, Family] | None = None,
            limites: Limites | None = None) -> list[Deposit]:
    """Every file of `famille` for `annee`, from every territory's inbox and HTTP sources, archived (but for those
    refused on their size or structure before archiving, `limites`)."""
    deposits = []
    for territoire in territoires:
        for path in inbox_files(racine, territoire.code, annee):
            fam = family_of(path.name, families)
            if fam is None or fam.name != famille:
                continue
            try:
                kept = archive_file(archive_dir, path, limites)
            except OSError as exc:
                log(f"{territoire.code}/{annee} : {path.name} non archivé ({exc})")
                continue
            deposits.append(Deposit(territoire.code, annee, famille, path.name, kept.sha256, kept.taille, "boite",
                                    str(kept.chemin) if kept.chemin else "", depose_le=kept.depose_le,
                                    refus=kept.refus))
        for source in territoire.sources_http:
            if source.famille != famille or (source.annees and annee not in source.annees):
                continue
            try:
                data = _download(source.url, timeout)
            except Exception as exc:  # network errors come in many types; the run goes on without this file
                log(f"{territoire.code}/{annee} : téléchargement impossible de {source.url} ({exc}) — "
                    "la dernière version archivée sera utilisée si elle existe")
                deposits.append(Deposit(territoire.code, annee, famille, source.nom_fichier, "", 0, source.url, ""))
                continue
            digest, stored = archive_bytes(archive_dir, data, Path(source.nom_fichier).suffix)
            deposits.append(Deposit(territoire.code, annee, famille, source.nom_fichier, digest, len(data),
                                    source.url, str(stored), depose_le=dt.datetime.now()))
    return deposits


ARCHIVE_DDL = """
CREATE SCHEMA IF NOT EXISTS archive;
CREATE TABLE IF NOT EXISTS archive.depots (
    territoire VARCHAR, annee INTEGER, famille VARCHAR, nom_fichier VARCHAR, version INTEGER,
    sha256 VARCHAR, taille BIGINT, origine VARCHAR, chemin_archive VARCHAR,
    premier_vu_le TIMESTAMP, dernier_vu_le TIMESTAMP, run_id VARCHAR, actif BOOLEAN,
    PRIMARY KEY (territoire, annee, famille, nom_fichier, version)
);
ALTER TABLE archive.depots ADD COLUMN IF NOT EXISTS depose_le TIMESTAMP;
ALTER TABLE archive.depots ADD COLUMN IF NOT EXISTS refus VARCHAR;
"""


def record(con: duckdb.DuckDBPyConnection, famille: str, annee: int, deposits: list[Deposit],
           run_id: str, portee: Portee = NATIONALE) -> list[Deposit]:
    """Version each file by name: same content → same version; new content → next version. The files present
    now are the active ones (of the scope's territories: another territory's files stay as its last run saw them);
    a failed download keeps the last archived version active. A few statements whatever the number of files (ten
    thousand a year at national scale)."""
    con.execute(ARCHIVE_DDL)
    now = dt.datetime.now()
    latest = {(t, n): (v, sha, chemin, taille) for t, n, v, sha, chemin, taille in con.execute(
        "SELECT territoire, nom_fichier, max(version), arg_max(sha256, version), arg_max(chemin_archive, version), "
        "arg_max(taille, version) FROM archive.depots WHERE annee = ? AND famille = ? GROUP BY ALL",
        [annee, famille]).fetchall()}
    new_rows, seen = [], []
    for d in deposits:
        last = latest.get((d.territoire, d.nom_fichier))
        if not d.sha256:  # download failed
            if last is None:
                continue
            d.version, d.sha256, d.chemin_archive, d.taille = last
        elif last is None or last[1] != d.sha256:
            d.version, d.nouveau = (last[0] + 1 if last else 1), True
            latest[(d.territoire, d.nom_fichier)] = (d.version, d.sha256, d.chemin_archive, d.taille)
            new_rows.append([d.territoire, annee, famille, d.nom_fichier, d.version, d.sha256, d.taille, d.origine,
                             d.chemin_archive, now, now, run_id, True, d.depose_le or now, d.refus])
            continue
        else:
            d.version = last[0]
        seen.append([d.territoire, d.nom_fichier, d.version])
    with transaction(con):
        con.execute(f"UPDATE archive.depots SET actif = FALSE WHERE famille = ? AND annee = ? AND "
                    f"{portee.predicate()}", [famille, annee])
        if seen:
            con.register("_vus", pd.DataFrame(seen, columns=["territoire", "nom_fichier", "version"]))
            try:
                con.execute("UPDATE archive.depots d SET actif = TRUE, dernier_vu_le = ? FROM _vus v "
                            "WHERE d.territoire = v.territoire AND d.nom_fichier = v.nom_fichier "
                            "AND d.version = v.version AND d.annee = ? AND d.famille = ?", [now, annee, famille])
            finally:
                con.unregister("_vus")
        if new_rows:
            insert_frame(con, "archive.depots", pd.DataFrame(new_rows, columns=[
                "territoire", "annee", "famille", "nom_fichier", "version", "sha256", "taille", "origine",
                "chemin_archive", "premier_vu_le", "dernier_vu_le", "run_id", "actif", "depose_le", "refus"]))
    return [d for d in deposits if d.sha256]


def active_deposits(con: duckdb.DuckDBPyConnection, famille: str, annee: int) -> list[dict]:
    """The active files of a family and year, in deposit order (a later file replaces an earlier one)."""
    con.execute(ARCHIVE_DDL)
    rows = con.execute(
        "SELECT territoire, nom_fichier, version, sha256, chemin_archive, premier_vu_le, refus FROM archive.depots "
        "WHERE famille = ? AND annee = ? AND actif ORDER BY territoire, premier_vu_le, nom_fichier",
        [famille, annee]).fetchall()
    keys = ["territoire", "nom_fichier", "version", "sha256", "chemin_archive", "premier_vu_le", "refus"]
    return [dict(zip(keys, r)) for r in rows]


# --- Dagster assets -------------------------------------------------------------------------------


def deposits_version(deposits: list, portee: Portee) -> DataVersion:
    """The family's files of the year, by content: Dagster's data version of the source. The same files give the
    same version whichever run reads them, so what is computed from them is not shown as stale; a changed byte
    gives another (a scoped run's version covers its territories' files)."""
    digest = hashlib.sha256(portee.key.encode())
    for d in sorted(deposits, key=lambda d: (d.territoire, d.nom_fichier, d.sha256)):
        digest.update(f"|{d.territoire}|{d.nom_fichier}|{d.sha256}".encode())
    return DataVersion(digest.hexdigest()[:24])


def build_source_asset(famille: str, families: dict[str, Family]):
    @asset(
        key=AssetKey(["sources", famille]),
        group_name="sources",
        partitions_def=annee_partitions,
        kinds={"file", "duckdb"},
        owners=["team:donnees"],
        description=(f"Fichiers « {famille}* » de l'année déposés dans la boîte de chaque territoire "
                     f"(inbox/<territoire>/<annee>/) ou tirés d'une adresse HTTP(S) configurée, archivés par "
                     f"empreinte SHA-256 : un fichier identique n'est stocké qu'une fois, un fichier modifié "
                     f"devient une nouvelle version enregistrée (table archive.depots)."),
    )
    def _source(context: AssetExecutionContext, parametres: BilanSettings,
                entrepot: DuckDBResource) -> MaterializeResult:
        annee = int(context.partition_key)
        portee = parametres.portee_du_run(context)
        territoires = parametres.territoires_du_run(context, log=lambda m: say(context, m))
        deposits = collect(famille, annee, territoires, parametres.data_root, parametres.archive_dir,
                           log=lambda m: say(context, m), families=families,
                           limites=parametres.config.settings.limites)
        with entrepot.get_connection() as con:
            # whatever launched this run, the year's data may change: `bilan run` must not take it as unchanged
            forget_year(con, annee, portee)
            deposits = record(con, famille, annee, deposits, context.run_id, portee)
        new = [d for d in deposits if d.nouveau]
        say(context,
            f"sources/{famille} {annee} : {len(deposits)} fichier(s), dont {len(new)} nouveau(x) ou modifié(s)")
        return MaterializeResult(data_version=deposits_version(deposits, portee), metadata={
            "fichiers": len(deposits),
            "nouveaux_ou_modifies": len(new),
            "portee": portee.label(),
            "depots": MetadataValue.md(
                "| territoire | fichier | version | sha256 | origine |\n|---|---|---|---|---|\n" + "\n".join(
                    f"| {d.territoire} | {d.nom_fichier} | {d.version} | `{d.sha256[:16]}…` | {d.origine} |"
                    for d in deposits) if deposits else "_aucun fichier_"),
            "dagster/uri": MetadataValue.path(str(parametres.data_root / "inbox")),
        })

    return _source

