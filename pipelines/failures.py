"""A failure told to the data steward: one French paragraph per failed step (what failed, the file named, what to
do) on the console, and the technical detail (Python traces) in a journal readable by this account only."""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from pathlib import Path

JOURNAUX = "journaux"
# the project's own errors, whose message is written for the data steward; any other is "unexpected"
FRENCH_ERRORS = {
    "CleInvalide": "corrigez la clé de pseudonymisation (README, « Données personnelles »), puis relancez",
    "EnvironnementInvalide": "corrigez BILAN_ENVIRONNEMENT (README, « Données personnelles »), puis relancez",
    "ConfigurationError": "corrigez le fichier de configuration nommé, puis relancez",
    "WarehouseBusy": "attendez la fin de l'autre run, puis relancez",
    "FichierIllisible": "faites corriger le fichier par le partenaire (`bilan verifier FICHIER` le contrôle avant "
                        "un run), puis relancez",
    "PdfError": "suivez le message, puis relancez",
    "Failure": "suivez le message, puis relancez",
}
UNEXPECTED_TODO = ("relancez ; si l'erreur revient, transmettez le journal ci-dessous à l'équipe technique, par un "
                   "canal sûr")
# a file named in an error's message (never in its traces, which name the program's own files)
_FILE = re.compile(r"[\w./\\~-]*[\w-]\.(?:csv|tsv|txt|xlsx|xlsm|xls|xlsb|ods|yaml|yml|sql|json|geojson|parquet|duckdb|"
                   r"html|pdf|zip|gz)\b", re.IGNORECASE)


def write_journal(output_dir: Path | None, name: str, text: str) -> Path | None:
    """The technical detail of a failure, readable by this account only: a trace may quote a cell of a file.
    In sortie/journaux/, else in the temporary folder; None when nothing can be written at all."""
    content = f"bilan — {dt.datetime.now().isoformat(timespec='seconds')} — pid {os.getpid()}\n\n{text}"
    if output_dir is not None:
        folder = output_dir / JOURNAUX
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            path = folder / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                if hasattr(os, "fchmod"):
                    os.fchmod(out.fileno(), 0o600)  # a journal left by an earlier run keeps no wider mode
                out.write(content)
            return path
        except OSError:
            pass
    try:
        fd, temporary = tempfile.mkstemp(prefix=f"bilan_{Path(name).stem}_", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(content)
        return Path(temporary)
    except OSError:
        return None


def journal_line(journal: Path | None) -> str:
    if journal is None:
        return ("Le journal technique n'a pas pu être écrit (ni dans le dossier de sortie ni dans le dossier "
                "temporaire).")
    return f"Journal complet (détail technique, traces Python ; il peut citer des données) : {journal}"


def _error_chain(info) -> list:
    chain: list = []
    while info is not None and len(chain) < 20:
        chain.append(info)
        info = info.cause or info.context
    return chain


def _message(info) -> str:
    return re.sub(rf"^[\w.]*\b{re.escape(info.cls_name)}: ", "", (info.message or "").strip())


def step_name(step_key: str) -> str:
    """A step in the project's words: the asset it makes (`staging/programmation`), or the checks it runs."""
    node, _, operation = step_key.partition(".")
    if "__" not in node:
        return f"les contrôles « {node} »" if node.startswith("great_expectations") else f"l'étape « {step_key} »"
    where = f" (opération « {operation} »)" if operation else ""
    return f"l'actif « {node.replace('__', '/')} »{where}"


def paragraph(subject: str, info) -> str:
    """One failure for the data steward: what failed, why in the project's words, the file named, what to do."""
    chain = _error_chain(info)
    known = next((i for i in chain if i.cls_name in FRENCH_ERRORS), None)
    if known is not None:
        why, todo = _message(known), FRENCH_ERRORS[known.cls_name]
    else:
        # the first error below Dagster's own wrapping is the program's; its English message stays in the journal
        cause = next((i for i in chain if not i.cls_name.startswith("Dagster")), chain[-1] if chain else None)
        why = f"erreur inattendue du programme ({cause.cls_name if cause is not None else 'inconnue'})"
        todo = UNEXPECTED_TODO
    files = dict.fromkeys(m.group(0) for i in chain for m in _FILE.finditer(i.message or ""))
    named = f" Fichier en cause : {', '.join(files)}." if files else ""
    why = why.rstrip(".")
    return f"- {subject[0].upper()}{subject[1:]} a échoué : {why}.{named} Que faire : {todo}."


