"""Keyed pseudonyms for beneficiary identifiers (HMAC-SHA-256), and the key they need.

The same identifier gives the same pseudonym in every file and year as long as the key is the same, so cohort
follow-ups link up; without the key a pseudonym cannot be traced back nor recomputed from a guessed identifier.

The key comes from one of two variables, told apart explicitly so that a mistyped path never becomes the key:
the key itself (`BILAN_CLE_PSEUDONYMISATION`) or the path of a file holding it
(`BILAN_CLE_PSEUDONYMISATION_FICHIER`). A value of the first that looks like a file name or a path is refused in
every environment. In production (`BILAN_ENVIRONNEMENT=production`) the key must also look like what
`secrets.token_urlsafe` or `openssl rand` print: at least 32 random bytes, in hexadecimal (64 characters or more)
or base64 (43 characters or more, 44 with the final `=`), not a repeated character, a run or a pattern; elsewhere
such a key is only warned about. `BILAN_ENVIRONNEMENT` takes `demo` (the same as unset) or `production`, nothing
else: a typo such as `prod` must not quietly mean the demo. Every mistake is a `CleInvalide` with a French
message, never a traceback.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

DEMO_KEY = "cle-de-demonstration-bilan-quartiers-ne-pas-utiliser-en-production"
MIN_LENGTH = 32
# what a production key is made of: 32 random bytes, written in hexadecimal or in base64 (either alphabet)
MIN_KEY_BYTES = 32
ENVIRONNEMENTS = ("demo", "production")   # unset or empty: demo
GENERATE = 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'
_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+={0,2}")
# a name or a path rather than a key: an extension, a folder, a home, a Windows drive or share
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}$")
_WINDOWS = re.compile(r"^(?:[A-Za-z]:|\\\\)")


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


class EnvironnementInvalide(CleInvalide):
    """BILAN_ENVIRONNEMENT names no known environment. A kind of CleInvalide: it decides whether the demo key may be
    used, so it stops a run wherever a key mistake does."""


def environnement() -> str:
    """`demo` or `production`; anything else is refused, never taken for the demo."""
    written = os.environ.get("BILAN_ENVIRONNEMENT", "").strip()
    value = written.lower()
    if not value:
        return "demo"
    if value not in ENVIRONNEMENTS:
        raise EnvironnementInvalide(
            f"BILAN_ENVIRONNEMENT vaut « {written} », une valeur inconnue. Valeurs admises : "
            + ", ".join(f"« {v} »" for v in ENVIRONNEMENTS) + " (variable absente ou vide : « demo »). "
            "Rien n'est lancé : une faute de frappe ne doit jamais valoir le mode démonstration.")
    return value


def in_production() -> bool:
    return environnement() == "production"


def _looks_like_a_path(value: str) -> bool:
    # hexadecimal and base64 never hold a dot, a backslash or a colon; a standard base64 key may hold a slash
    if value.startswith(("/", "~", "./", "../", ".\\", "..\\")) or "\\" in value or _WINDOWS.match(value):
        return True
    if _EXTENSION.search(value):
        return True
    return "/" in value and not any(c.isspace() for c in value) and not _BASE64.fullmatch(value)


def _too_regular(value: str, alphabet_size: int) -> bool:
    """A repeated character, a run (abcdef…, 012345…) or a repeated pattern: typed by hand, not drawn at random.
    Thresholds a random key of the minimum length misses with a vanishing probability."""
    body = value.rstrip("=")
    if len(set(body)) < (10 if alphabet_size == 16 else 16):
        return True
    steps = sum(abs(ord(b) - ord(a)) <= 1 for a, b in zip(body, body[1:]))
    if steps > len(body) // 2:
        return True
    return any(body == (body[:p] * (len(body) // p + 1))[:len(body)] for p in range(1, len(body) // 2 + 1))


def key_problem(value: str) -> str | None:
    """Why `value` does not look like a production key, in French; None when it does."""
    if _HEX.fullmatch(value):
        if len(value) < 2 * MIN_KEY_BYTES:
            return (f"en hexadécimal, elle doit compter au moins {2 * MIN_KEY_BYTES} caractères "
                    f"(elle en a {len(value)})")
        alphabet = 16
    elif _BASE64.fullmatch(value):
        needed = -(-MIN_KEY_BYTES * 8 // 6)
        if len(value.rstrip("=")) < needed:
            return (f"en base64, elle doit compter au moins {needed} caractères hors « = » final "
                    f"(elle en a {len(value.rstrip('='))})")
        alphabet = 64
    else:
        return ("elle contient des caractères qui ne sont ni de l'hexadécimal ni du base64 "
                "(espace, accent, guillemet, ponctuation…)")
    if _too_regular(value, alphabet):
        return "elle est trop régulière pour être aléatoire (caractère répété, suite ou motif qui se répète)"
    return None


def _read_key_file(variable: str, value: str, production: bool, quiet: bool) -> str:
    path = Path(value).expanduser()
    if not path.is_file():
        raise CleInvalide(f"{variable} : fichier de clé « {value} » introuvable")
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        message = (f"{variable} : le fichier de clé « {value} » est lisible par d'autres comptes "
                   f"(droits {stat.filemode(mode)}) : `chmod 600 {value}`")
        if production:
            raise CleInvalide(message)
        if not quiet:
            print(f"ATTENTION : {message}", file=sys.stderr)
    try:
        return path.read_bytes().strip().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CleInvalide(f"{variable} : fichier de clé « {value} » illisible ({type(exc).__name__})") from None


def from_environment(variable: str = "BILAN_CLE_PSEUDONYMISATION",
                     file_variable: str = "BILAN_CLE_PSEUDONYMISATION_FICHIER", quiet: bool = False) -> Pseudonymiser:
    """The key from the environment. Without one: the demo key, announced — unless BILAN_ENVIRONNEMENT=production,
    where nothing runs without a real key. `quiet`: check only, announce nothing (a run's start, a sensor tick)."""
    production = in_production()
    value = os.environ.get(variable, "").strip()
    path = os.environ.get(file_variable, "").strip()
    if value and path:
        raise CleInvalide(f"{variable} et {file_variable} sont toutes deux définies : gardez-en une seule")
    if value and _looks_like_a_path(value):
        # a standard base64 key may start with a slash: such a value is not repeated where it may be logged
        shown = f"« {value} »" if not _BASE64.fullmatch(value.lstrip("/")) else "une valeur (non affichée)"
        raise CleInvalide(f"{variable} contient {shown} qui ressemble à un chemin ou à un nom de fichier, pas à "
                          f"une clé. Pour lire la clé dans un fichier, donnez son chemin complet dans {file_variable} "
                          f"(et laissez {variable} vide) ; si c'est vraiment la clé, générez-en une autre : "
                          f"`{GENERATE}`.")
    if path:
        value, variable = _read_key_file(file_variable, path, production, quiet), file_variable
    if value:
        if len(value) < MIN_LENGTH:
            raise CleInvalide(f"{variable} : la clé de pseudonymisation doit compter au moins {MIN_LENGTH} caractères "
                              f"(elle en a {len(value)})")
        problem = key_problem(value)
        if problem and production:
            raise CleInvalide(f"{variable} : en production, la clé doit être tirée au hasard (au moins "
                              f"{MIN_KEY_BYTES} octets, écrits en hexadécimal ou en base64) : {problem}. "
                              f"Générez-en une : `{GENERATE}` (README, « Données personnelles »).")
        if problem and not quiet:
            print(f"ATTENTION : {variable} : cette clé serait refusée en production — {problem}.", file=sys.stderr)
        return Pseudonymiser(key=value.encode("utf-8"), is_demo=False)
    if production:
        raise CleInvalide(f"ni {variable} ni {file_variable} n'est définie : en production "
                          "(BILAN_ENVIRONNEMENT=production), aucun run ne démarre sans clé de pseudonymisation réelle. "
                          "Voir le README, « Données personnelles ».")
    if not quiet:
        print(f"ATTENTION : ni {variable} ni {file_variable} n'est définie — les identifiants des bénéficiaires sont "
              "pseudonymisés avec la CLÉ DE DÉMONSTRATION. À ne jamais utiliser sur des données réelles.",
              file=sys.stderr)
    return Pseudonymiser(key=DEMO_KEY.encode("utf-8"), is_demo=True)
