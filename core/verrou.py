"""One run at a time per warehouse: an advisory lock (`fcntl.flock`) on a file beside `entrepot.duckdb`.

Taken by `bilan run` before anything is written and by the `entrepot` resource when Dagster starts a run (UI,
schedule, sensor, `dagster asset materialize`), so a second run waits for the first, then stops with a French
message. The kernel drops a flock when its process dies: a killed run never leaves a stale lock.

Re-entrant inside one process: `bilan run` holds it across its years and its summary while each `materialize` it
calls takes it again through the resource (a second flock on a new descriptor would wait for ourselves). Inherited
by the holder's own processes: the step processes of a run on Dagster's multiprocess executor (the bilan's render
batches, `bilan run --processus N`) work under the lock their run holds, named in the environment they inherit
(`BILAN_VERROU_ENTREPOT` = holder pid and lock path); any other process still waits.
`bilan verifier` never takes it: it reads the snapshot a run leaves in `sortie/instantane/`."""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

LOCK_NAME = "entrepot.verrou"
POLL_S = 0.2


class WarehouseBusy(RuntimeError):
    """Another run still holds the warehouse after the configured wait (French message, for the data steward)."""


_held: dict[str, tuple[int, int]] = {}   # lock path -> (descriptor, depth), for re-entry inside this process
_guard = threading.Lock()
INHERITED = "BILAN_VERROU_ENTREPOT"
_FROM_ANCESTOR = -1                      # the descriptor of a lock held by an ancestor process


def lock_path(warehouse_path: Path | str) -> Path:
    return Path(warehouse_path).resolve().parent / LOCK_NAME


def holder(warehouse_path: Path | str) -> str:
    """Who holds the lock, as written by the holder (pid, start, command), or '' when unknown."""
    try:
        return lock_path(warehouse_path).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _ancestors() -> set[int]:
    """This process's parent, its parent's parent… (Linux /proc; the parent alone elsewhere)."""
    found: set[int] = set()
    pid = os.getpid()
    for _ in range(64):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            pid = int(fields[1])
        except (OSError, IndexError, ValueError):
            return found | {os.getppid()}
        if pid <= 1:
            return found
        found.add(pid)
    return found


def _held_by_ancestor(key: str) -> bool:
    holder_pid, _, path = os.environ.get(INHERITED, "").partition(":")
    return path == key and holder_pid.isdigit() and int(holder_pid) != os.getpid() \
        and int(holder_pid) in _ancestors()


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def acquire(warehouse_path: Path | str, attente_s: float, log: Callable[[str], None] | None = None,
            clock: Callable[[], float] = time.monotonic) -> None:
    """Take the warehouse lock, waiting at most `attente_s` seconds; raise WarehouseBusy after that."""
    path = lock_path(warehouse_path)
    key = str(path)
    with _guard:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
            return
        if _held_by_ancestor(key):
            _held[key] = (_FROM_ANCESTOR, 1)
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = clock() + attente_s
        told = False
        while not _try_lock(fd):
            if clock() >= deadline:
                raise WarehouseBusy(_busy_message(warehouse_path, attente_s))
            if not told and log is not None:
                who = holder(warehouse_path)
                log(f"Un autre run écrit dans l'entrepôt {Path(warehouse_path)}"
                    f"{f' ({who})' if who else ''} : attente de sa fin, {attente_s:g} s au plus…")
                told = True
            time.sleep(POLL_S)
    except BaseException:
        os.close(fd)
        raise
    # who holds it, for the message of the run that waits (the content is informative, the flock is the lock)
    os.ftruncate(fd, 0)
    os.pwrite(fd, (f"pid {os.getpid()}, depuis {datetime.now():%Y-%m-%d %H:%M:%S}, "
                   f"{' '.join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv))}\n").encode(), 0)
    with _guard:
        _held[key] = (fd, 1)
        os.environ[INHERITED] = f"{os.getpid()}:{key}"


def release(warehouse_path: Path | str) -> None:
    key = str(lock_path(warehouse_path))
    with _guard:
        if key not in _held:
            return
        fd, depth = _held[key]
        if depth > 1:
            _held[key] = (fd, depth - 1)
            return
        del _held[key]
        if fd == _FROM_ANCESTOR:
            return
        if os.environ.get(INHERITED, "").partition(":")[2] == key:
            del os.environ[INHERITED]
    os.ftruncate(fd, 0)
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


@contextmanager
def verrou_entrepot(warehouse_path: Path | str, attente_s: float,
                    log: Callable[[str], None] | None = None) -> Iterator[None]:
    acquire(warehouse_path, attente_s, log)
    try:
        yield
    finally:
        release(warehouse_path)


def _busy_message(warehouse_path: Path | str, attente_s: float) -> str:
    who = holder(warehouse_path)
    return (f"L'entrepôt {Path(warehouse_path)} est toujours utilisé par un autre run"
            f"{f' ({who})' if who else ''} après {attente_s:g} s d'attente. Ce run s'arrête sans avoir rien "
            "écrit : relancez-le quand l'autre est terminé, ou allongez l'attente (`entrepot.attente_verrou_s` "
            "dans config/settings.yaml, ou `bilan run --attente SECONDES`).")
