"""The portal's own small state, in a SQLite file of its own (never the warehouse, which a run may hold): the
partners' invitations (a token stored only as its hash), their deposits and verdicts, the reminders sent, the
stewards' accounts (password hashed with scrypt) and the secret the forms' CSRF tokens are derived from."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS invitations (
    id INTEGER PRIMARY KEY, empreinte_jeton TEXT UNIQUE NOT NULL, territoire TEXT NOT NULL, annee INTEGER NOT NULL,
    partenaire TEXT NOT NULL, familles TEXT NOT NULL, courriel TEXT, cree_le TEXT NOT NULL, expire_le TEXT NOT NULL,
    revoque_le TEXT);
CREATE TABLE IF NOT EXISTS depots (
    id INTEGER PRIMARY KEY, invitation INTEGER NOT NULL REFERENCES invitations(id), famille TEXT NOT NULL,
    fichier_boite TEXT, sha256 TEXT NOT NULL, taille INTEGER NOT NULL, recu_le TEXT NOT NULL, accepte INTEGER NOT NULL,
    lignes_lues INTEGER NOT NULL, lignes_a_corriger INTEGER NOT NULL, verdict TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS relances (
    id INTEGER PRIMARY KEY, invitation INTEGER NOT NULL REFERENCES invitations(id), envoyee_le TEXT NOT NULL,
    motif TEXT NOT NULL, par TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS referents (identifiant TEXT PRIMARY KEY, sel TEXT NOT NULL, empreinte TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS secret (valeur TEXT NOT NULL);
"""


def token_hash(jeton: str) -> str:
    return hashlib.sha256(jeton.encode()).hexdigest()


def _scrypt(password: str, salt: bytes) -> str:
    return hashlib.scrypt(password.encode(), salt=salt, n=2 ** 14, r=8, p=1).hex()


@dataclass(frozen=True)
class Invitation:
    id: int
    empreinte_jeton: str
    territoire: str
    annee: int
    partenaire: str
    familles: tuple[str, ...]
    courriel: str | None
    expire_le: dt.datetime
    revoque_le: dt.datetime | None

    def valide(self, now: dt.datetime) -> bool:
        return self.revoque_le is None and now < self.expire_le


class Etat:
    """One portal's state: `<sortie>/portail/portail.sqlite`, owner-only (it holds hashes and contacts)."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        with self._connect() as con:
            con.executescript(SCHEMA)
            if con.execute("SELECT count(*) FROM secret").fetchone()[0] == 0:
                con.execute("INSERT INTO secret VALUES (?)", [secrets.token_hex(32)])
        os.chmod(path, 0o600)

    def _connect(self) -> sqlite3.Connection:
        # one connection per call: the server answers from several threads
        con = sqlite3.connect(self.path, timeout=10)
        con.execute("PRAGMA journal_mode=WAL")
        return con

    # --- invitations ----------------------------------------------------------------------------------------

    def invite(self, territoire: str, annee: int, partenaire: str, familles: list[str], jours: int,
               courriel: str | None = None, now: dt.datetime | None = None) -> str:
        """A new personal link's token (returned once, stored only as its hash)."""
        now = now or dt.datetime.now()
        jeton = secrets.token_urlsafe(32)
        with self._connect() as con:
            con.execute("INSERT INTO invitations (empreinte_jeton, territoire, annee, partenaire, familles, courriel, "
                        "cree_le, expire_le) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [token_hash(jeton), territoire, annee, partenaire, json.dumps(familles), courriel,
                         now.isoformat(), (now + dt.timedelta(days=jours)).isoformat()])
        return jeton

    def revoke(self, territoire: str, annee: int, partenaire: str) -> int:
        with self._connect() as con:
            return con.execute("UPDATE invitations SET revoque_le = ? WHERE territoire = ? AND annee = ? AND "
                               "partenaire = ? AND revoque_le IS NULL",
                               [dt.datetime.now().isoformat(), territoire, annee, partenaire]).rowcount

    def invitation(self, jeton: str) -> Invitation | None:
        with self._connect() as con:
            row = con.execute("SELECT id, empreinte_jeton, territoire, annee, partenaire, familles, courriel, "
                              "expire_le, revoque_le FROM invitations WHERE empreinte_jeton = ?",
                              [token_hash(jeton)]).fetchone()
        return None if row is None else _invitation(row)

    def invitations(self, territoire: str | None = None, annee: int | None = None) -> list[Invitation]:
        with self._connect() as con:
            rows = con.execute("SELECT id, empreinte_jeton, territoire, annee, partenaire, familles, courriel, "
                               "expire_le, revoque_le FROM invitations WHERE (? IS NULL OR territoire = ?) AND "
                               "(? IS NULL OR annee = ?) ORDER BY territoire, annee, partenaire, id",
                               [territoire, territoire, annee, annee]).fetchall()
        return [_invitation(r) for r in rows]

    # --- deposits and reminders ---------------------------------------------------------------------------

    def record_deposit(self, invitation: Invitation, famille: str, fichier_boite: str | None, sha256: str,
                       taille: int, accepte: bool, lignes_lues: int, lignes_a_corriger: int, verdict: dict) -> int:
        with self._connect() as con:
            return int(con.execute(
                "INSERT INTO depots (invitation, famille, fichier_boite, sha256, taille, recu_le, accepte, "
                "lignes_lues, lignes_a_corriger, verdict) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [invitation.id, famille, fichier_boite, sha256, taille, dt.datetime.now().isoformat(timespec="seconds"),
                 int(accepte), lignes_lues, lignes_a_corriger, json.dumps(verdict, ensure_ascii=False)]).fetchone()[0])

    def deposits(self, invitation: Invitation) -> list[dict]:
        """The invitation's deposits, the latest first (a partner sees its own only)."""
        with self._connect() as con:
            con.row_factory = sqlite3.Row
            rows = con.execute("SELECT * FROM depots WHERE invitation = ? ORDER BY id DESC", [invitation.id]).fetchall()
        return [{**dict(r), "verdict": json.loads(r["verdict"])} for r in rows]

    def record_reminder(self, invitation: Invitation, motif: str, par: str) -> None:
        with self._connect() as con:
            con.execute("INSERT INTO relances (invitation, envoyee_le, motif, par) VALUES (?, ?, ?, ?)",
                        [invitation.id, dt.datetime.now().isoformat(timespec="seconds"), motif, par])

    def reminders(self, invitation: Invitation) -> list[tuple[str, str]]:
        with self._connect() as con:
            return con.execute("SELECT envoyee_le, motif FROM relances WHERE invitation = ? ORDER BY id",
                               [invitation.id]).fetchall()

    # --- stewards and forms -------------------------------------------------------------------------------

    def set_steward(self, identifiant: str, password: str) -> None:
        salt = secrets.token_bytes(16)
        with self._connect() as con:
            con.execute("INSERT OR REPLACE INTO referents VALUES (?, ?, ?)",
                        [identifiant, salt.hex(), _scrypt(password, salt)])

    def check_steward(self, identifiant: str, password: str) -> bool:
        with self._connect() as con:
            row = con.execute("SELECT sel, empreinte FROM referents WHERE identifiant = ?", [identifiant]).fetchone()
        if row is None:
            _scrypt(password, b"0" * 16)  # the same time whether the account exists or not
            return False
        return hmac.compare_digest(_scrypt(password, bytes.fromhex(row[0])), row[1])

    def csrf(self, owner: str) -> str:
        """The form token of one owner (an invitation's token hash, a steward's name): derived, never stored."""
        with self._connect() as con:
            secret = con.execute("SELECT valeur FROM secret").fetchone()[0]
        return hmac.new(bytes.fromhex(secret), f"csrf|{owner}".encode(), hashlib.sha256).hexdigest()


def _invitation(row) -> Invitation:
    return Invitation(id=row[0], empreinte_jeton=row[1], territoire=row[2], annee=row[3], partenaire=row[4],
                      familles=tuple(json.loads(row[5])), courriel=row[6], expire_le=dt.datetime.fromisoformat(row[7]),
                      revoque_le=dt.datetime.fromisoformat(row[8]) if row[8] else None)
