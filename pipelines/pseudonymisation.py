"""Keyed pseudonyms for beneficiary identifiers (HMAC-SHA-256), and the key they need.

The same identifier gives the same pseudonym in every file and year as long as the key is the same, so cohort
follow-ups link up; without the key a pseudonym cannot be traced back nor recomputed from a guessed identifier.

The key comes from one of two variables, told apart explicitly so that a mistyped path never becomes the key:
the key itself (`BILAN_CLE_PSEUDONYMISATION`) or the path of a file holding it
(`BILAN_CLE_PSEUDONYMISATION_FICHIER`). Every mistake is a `CleInvalide` with a French message, never a traceback.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

DEMO_KEY = "cle-de-demonstration-bilan-quartiers-ne-pas-utiliser-en-production"
MIN_LENGTH = 32


_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB of this thread's own (opening one costs more than hashing a file's identifiers)."""
    if getattr(_local, "con", None) is None:
        _local.con = duckdb.connect()
    return _local.con


@dataclass(frozen=True)
class Pseudonymiser:
    key: bytes
    is_demo: bool

    def __call__(self, identifiers: pd.Series) -> pd.Series:
        """HMAC-SHA-256 (RFC 2104) of each identifier, set-based in DuckDB: H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)),
        with the two padded keys computed once here and passed as parameters (never stored)."""
        normalised = identifiers.astype("string").str.strip().str.upper()
        inner, outer = self._pads()
        frame = pd.DataFrame({"identifiant": normalised.astype(object).where(normalised.notna(), None)})
        con = _connection()
        con.register("identifiants", frame)
        try:
            pseudonyms = con.execute(
                "SELECT CASE WHEN identifiant IS NOT NULL THEN 'P' || sha256($outer::BLOB || unhex(sha256("
                "$inner::BLOB || encode(identifiant))))[:20] END FROM identifiants",
                {"inner": inner, "outer": outer}).fetchnumpy()
        finally:
            con.unregister("identifiants")
        return pd.Series(next(iter(pseudonyms.values())), index=identifiers.index, dtype="string")

    def _pads(self) -> tuple[bytes, bytes]:
        block = hashlib.sha256().block_size
        key = (hashlib.sha256(self.key).digest() if len(self.key) > block else self.key).ljust(block, b"\0")
        return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


class CleInvalide(ValueError):
    """The pseudonymisation key is missing, unreadable or unsafe; the message says what to do."""


def in_production() -> bool:
    return os.environ.get("BILAN_ENVIRONNEMENT", "").strip().lower() == "production"


def _looks_like_a_path(value: str) -> bool:
    return value.startswith(("/", "./", "../", "~")) or (os.sep in value and " " not in value and len(value) < 256
                                                        and Path(value).suffix in (".txt", ".key", ".cle", ""))


def _read_key_file(variable: str, value: str) -> str:
    path = Path(value).expanduser()
    if not path.is_file():
        raise CleInvalide(f"{variable} : fichier de clé « {value} » introuvable")
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        message = (f"{variable} : le fichier de clé « {value} » est lisible par d'autres comptes "
                   f"(droits {stat.filemode(mode)}) : `chmod 600 {value}`")
        if in_production():
            raise CleInvalide(message)
        print(f"ATTENTION : {message}", file=sys.stderr)
    try:
        return path.read_bytes().strip().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CleInvalide(f"{variable} : fichier de clé « {value} » illisible ({type(exc).__name__})") from None


def from_environment(variable: str = "BILAN_CLE_PSEUDONYMISATION",
                     file_variable: str = "BILAN_CLE_PSEUDONYMISATION_FICHIER") -> Pseudonymiser:
    """The key from the environment. Without one: the demo key, announced — unless BILAN_ENVIRONNEMENT=production,
    where nothing runs without a real key."""
    value = os.environ.get(variable, "").strip()
    path = os.environ.get(file_variable, "").strip()
    if value and path:
        raise CleInvalide(f"{variable} et {file_variable} sont toutes deux définies : gardez-en une seule")
    if value and _looks_like_a_path(value):
        raise CleInvalide(f"{variable} ressemble à un chemin de fichier (« {value} ») : pour lire la clé dans un "
                          f"fichier, utilisez {file_variable}")
    if path:
        value, variable = _read_key_file(file_variable, path), file_variable
    if value:
        if len(value) < MIN_LENGTH:
            raise CleInvalide(f"{variable} : la clé de pseudonymisation doit compter au moins {MIN_LENGTH} caractères "
                              f"(elle en a {len(value)})")
        return Pseudonymiser(key=value.encode("utf-8"), is_demo=False)
    if in_production():
        raise CleInvalide(f"ni {variable} ni {file_variable} n'est définie : en production "
                          "(BILAN_ENVIRONNEMENT=production), aucun run ne démarre sans clé de pseudonymisation réelle. "
                          "Voir le README, « Données personnelles ».")
    print(f"ATTENTION : ni {variable} ni {file_variable} n'est définie — les identifiants des bénéficiaires sont "
          "pseudonymisés avec la CLÉ DE DÉMONSTRATION. À ne jamais utiliser sur des données réelles.", file=sys.stderr)
    return Pseudonymiser(key=DEMO_KEY.encode("utf-8"), is_demo=True)
