"""The one reader every family goes through: encodings, separators, sheets, header normalisation, row numbers.

It returns text only: typing is the contract's job (parsing.py), so that a bad value becomes a row error
naming its cell instead of a failed read.

It never changes a value silently: what it cannot carry over as written (a control character, a repeated column,
a formula without its computed value, a value outside the header) refuses the file with a message naming the
line and the column. Its work is bounded: the configured limits (`limites` in settings.yaml) are checked before
parsing, so a huge file or a decompression bomb is refused in a fraction of a second.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import posixpath
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
from openpyxl.utils import column_index_from_string, get_column_letter

from core.common import normalise_header
from core.config.settings import Limites

LINE_COLUMN = "_ligne"
SHEET_COLUMN = "_feuille"
# Bumped whenever the reader accepts or refuses differently: a cache of parsed files must not outlive it.
READER_VERSION = "2"

MIB = 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003, and any password-protected Office file
# Line breaks and tabs are ordinary in a cell; every other C0/C1 control character and the bidirectional
# overrides (which make a value display differently from what it holds) are not.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# How a spreadsheet stores a control character XML cannot hold (`_x0000_`, `_x000D_` for a carriage return).
# openpyxl leaves these escapes as text; it turns the escape of a literal `_x…_` into that text, so only the
# control range is undone: a literal `_x0041_` stays as written.
XLSX_ESCAPE = re.compile(r"_x(00[01][0-9A-Fa-f]|007[Ff]|008[0-9A-Fa-f]|009[0-9A-Fa-f])_")
MAX_ZIP_MEMBERS = 10_000  # a workbook holds tens of parts; thousands means something else
RATIO_FLOOR = MIB          # small parts compress very well without being a threat
# what a damaged archive or sheet raises while it is decompressed or parsed
BROKEN = (ElementTree.ParseError, zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, KeyError,
          LookupError, NotImplementedError, RuntimeError)
SHOWN = 5                  # occurrences listed in a refusal; the rest are counted


class FichierIllisible(Exception):
    """The whole file is refused; the message is for the data steward."""


@dataclass
class RawTable:
    """One sheet (or CSV) as text, with the spreadsheet row number of each row."""

    frame: pd.DataFrame  # text cells (or NA), canonical headers, plus LINE_COLUMN and SHEET_COLUMN
    sheet: str | None
    original_headers: dict[str, str] = field(default_factory=dict)  # canonical → as written


@dataclass
class RawFile:
    path: Path
    tables: list[RawTable]
    encoding: str | None = None
    separator: str | None = None


def _mo(n_bytes: float) -> str:
    return f"{n_bytes / MIB:.1f}".replace(".", ",") + " Mo"


def _listing(problems: list[str]) -> str:
    shown = "; ".join(problems[:SHOWN])
    return shown + (f" (et {len(problems) - SHOWN} autre(s))" if len(problems) > SHOWN else "")


def _char_name(ch: str) -> str:
    if ch == "\x00":
        return "caractère nul (U+0000)"
    if "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069":
        return f"caractère de contrôle de sens d'écriture (U+{ord(ch):04X})"
    return f"caractère de contrôle (U+{ord(ch):04X})"


def _shown_value(text: str, limit: int = 40) -> str:
    visible = CONTROL.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)
    return visible if len(visible) <= limit else visible[:limit] + "…"


# --- bytes: size and what the file really is ------------------------------------------------------


def _load_bytes(path: Path, data: bytes | None, limites: Limites, name: str) -> bytes:
    """The file's bytes, refused on size before they are read."""
    limit = int(limites.taille_fichier_mo * MIB)
    if data is None:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            raise FichierIllisible(f"{name} : fichier impossible à ouvrir ({exc.strerror})") from None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise FichierIllisible(f"{name} : ce n'est pas un fichier ordinaire")
            if info.st_size > limit:
                raise _too_big(name, info.st_size, limites)
            data = handle.read(limit + 1)  # the file may grow between the check and the read
    if len(data) > limit:
        raise _too_big(name, len(data), limites)
    if not data.strip():
        raise FichierIllisible(f"{name} : le fichier est vide")
    return data


def _too_big(name: str, size: int, limites: Limites) -> FichierIllisible:
    return FichierIllisible(
        f"{name} : fichier trop volumineux ({_mo(size)}, limite {_mo(limites.taille_fichier_mo * MIB)}, "
        "réglage limites.taille_fichier_mo) : découpez-le ou retirez les colonnes et lignes inutiles")


def _ole_kind(data: bytes) -> str:
    # the OLE directory names its streams in UTF-16LE; an encrypted Office file has an EncryptedPackage stream
    if "EncryptedPackage".encode("utf-16-le") in data:
        return "classeur protégé par mot de passe : enregistrez-le sans mot de passe et renvoyez-le"
    return ("classeur Excel 97-2003 (.xls) : ouvrez-le et enregistrez-le au format Classeur Excel (.xlsx) "
            "ou CSV UTF-8")


# --- CSV ------------------------------------------------------------------------------------------


BOMS = [  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"), (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"), (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
]


def _decode(data: bytes, name: str) -> tuple[str, str]:
    for bom, codec, label in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), label
            except UnicodeDecodeError as exc:
                raise FichierIllisible(
                    f"{name} : marqué comme encodé en {label.upper()} mais illisible dans cet encodage "
                    f"(octet {exc.start}) : enregistrez-le en CSV UTF-8") from None
    head = data[:4096]
    if head.count(0) * 4 >= len(head):
        # text in UTF-16/32 without its byte-order mark: every other byte of ASCII text is zero
        raise FichierIllisible(
            f"{name} : encodé en UTF-16 ou UTF-32 sans marque d'ordre des octets (BOM) : enregistrez-le en "
            "CSV UTF-8 (Excel : Enregistrer sous > CSV UTF-8 (délimité par des virgules))")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise FichierIllisible(
            f"{name} : encodage non reconnu (ni UTF-8 ni Windows-1252, octet illisible à la position {exc.start}) : "
            "enregistrez-le en CSV UTF-8"
        ) from None


def _refuse_non_text(data: bytes, name: str) -> None:
    if data.startswith(ZIP_MAGIC):
        raise FichierIllisible(f"{name} : c'est un classeur (archive ZIP, XLSX ou ODS) et non un fichier texte CSV : "
                               "donnez-lui l'extension de son format ou enregistrez-le en CSV UTF-8")
    if data.startswith(OLE_MAGIC):
        raise FichierIllisible(f"{name} : ce n'est pas un CSV mais un {_ole_kind(data)}")
    if data.startswith(b"%PDF"):
        raise FichierIllisible(f"{name} : c'est un document PDF, pas un fichier CSV")


def _sniff_separator(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    if first.count("\t") > max(first.count(";"), first.count(",")):
        return "\t"  # a copy-paste from a spreadsheet saved as text
    return ";" if first.count(";") >= first.count(",") and first.count(";") > 0 else ","


def _csv_error(exc: csv.Error, line: int, opened_at: int, name: str) -> FichierIllisible:
    """`opened_at`: the line the record being read began on (where a quote left open was opened)."""
    message = str(exc)
    if "unexpected end of data" in message:
        return FichierIllisible(f"{name} : CSV illisible : un guillemet « \" » ouvert à la ligne {opened_at} n'est "
                                "jamais refermé (tout le reste du fichier serait lu comme une seule valeur)")
    if "expected after" in message:
        why = ("guillemet mal placé : une valeur qui commence par « \" » doit finir par « \" » juste avant le "
               "séparateur (un guillemet à l'intérieur d'une telle valeur s'écrit « \"\" »)")
    else:
        why = message
    return FichierIllisible(f"{name} : CSV illisible à la ligne {line} : {why}")


def read_csv(path: Path, data: bytes | None = None, limites: Limites | None = None,
             name: str | None = None) -> RawFile:
    limites = limites or Limites()
    name = name or path.name
    data = _load_bytes(path, data, limites, name)
    _refuse_non_text(data, name)
    text, encoding = _decode(data, name)
    del data
    separator = _sniff_separator(text)
    # lines bound records from above: only a file with more lines than the limit needs its records counted
    count_records = max(text.count("\n"), text.count("\r")) > limites.lignes
    # no field can be longer than the text: the reader's own cap (131 072 characters by default) would refuse a
    # long cell with a misleading message, before the cell-length rule (limites.longueur_cellule) names the cause
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    records: list[list[str]] = []
    ended_at = 0
    try:
        for record in reader:
            records.append(record)
            ended_at = reader.line_num
            if count_records and len(records) > limites.lignes + 1:
                raise FichierIllisible(
                    f"{name} : plus de {limites.lignes} lignes, au-delà de la limite (réglage limites.lignes de "
                    "config/settings.yaml) : découpez le fichier")
    except csv.Error as exc:
        raise _csv_error(exc, reader.line_num, ended_at + 1, name) from None
    may_hold_controls = CONTROL.search(text) is not None
    del text, reader  # the records hold every value now; a large file should not be held twice
    header_pos = next((i for i, r in enumerate(records) if any(v.strip() for v in r)), None)
    if header_pos is None:
        raise FichierIllisible(f"{name} : aucune colonne trouvée")
    headers = records[header_pos]
    _check_width(len(headers), limites, name, None)
    first_data_row = header_pos + 2  # spreadsheet numbering: the header is on row header_pos + 1
    body = records[header_pos + 1:]
    longer = [(first_data_row + i, r) for i, r in enumerate(body) if len(r) > len(headers)]
    if longer:
        raise FichierIllisible(f"{name} : " + _listing([_extra_fields(line, r, headers, separator)
                                                         for line, r in longer]))
    del records
    for record in body:
        if len(record) < len(headers):  # a short row: the missing cells are empty, as in a spreadsheet
            record.extend([""] * (len(headers) - len(record)))
    frame = pd.DataFrame(body, columns=range(len(headers)), dtype=object) if body else \
        pd.DataFrame(columns=range(len(headers)), dtype=object)
    del body
    table = _finish(frame, headers, [f"n° {i + 1}" for i in range(len(headers))], first_data_row, None, name,
                    limites, may_hold_controls=may_hold_controls)
    return RawFile(path=path, tables=[table], encoding=encoding, separator=separator)


def _extra_fields(line: int, record: list[str], headers: list[str], separator: str) -> str:
    extra = record[len(headers):]
    if not any(v.strip() for v in extra):
        return (f"ligne {line} : {len(record)} champs pour {len(headers)} colonnes d'en-tête (un « {separator} » "
                "en trop en fin de ligne ?)")
    value = next(v for v in extra if v.strip())
    return (f"ligne {line} : {len(record)} champs pour {len(headers)} colonnes d'en-tête, valeur "
            f"« {_shown_value(value)} » hors de toute colonne (un « {separator} » en trop dans la ligne ?)")


def _check_width(width: int, limites: Limites, name: str, sheet: str | None) -> None:
    if width > limites.colonnes:
        where = f" (feuille {sheet})" if sheet else ""
        raise FichierIllisible(f"{name}{where} : {width} colonnes, au-delà de la limite de {limites.colonnes} "
                               "(réglage limites.colonnes)")


# --- the shared finish: headers, checks, row numbers ----------------------------------------------


def _text(value) -> str | None:
    """A cell as text, stripped; None when empty or missing."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    text = (value if isinstance(value, str) else str(value)).strip()
    return text or None



def _finish(frame: pd.DataFrame, headers: list, positions: list[str], first_data_row: int, sheet: str | None,
            name: str, limites: Limites, may_hold_controls: bool = True) -> RawTable:
    """Name columns canonically, refuse what cannot be carried over as written, number rows as the spreadsheet
    does, drop fully blank rows. `positions` says where each column is (`n° 3`, `C`) when it has no name."""
    where = f" (feuille {sheet})" if sheet else ""
    headers = ["" if h is None or (isinstance(h, float) and pd.isna(h)) else str(h) for h in headers]
    canonical = [normalise_header(h) for h in headers]
    seen: dict[str, int] = {}
    for i, column in enumerate(canonical):
        if not column:
            canonical[i] = f"_colonne_sans_nom_{i + 1}"
        if canonical[i] in seen:
            raise FichierIllisible(
                f"{name}{where} : la colonne « {headers[i]} » apparaît deux fois dans l'en-tête (colonnes "
                f"{positions[seen[canonical[i]]]} et {positions[i]})"
            )
        seen[canonical[i]] = i
    frame.columns = canonical  # the frame is the caller's own fresh copy: renamed in place
    lines = pd.RangeIndex(first_data_row, first_data_row + len(frame))

    def label(i: int) -> str:
        return f"« {headers[i].strip()} »" if canonical[i] and not canonical[i].startswith("_colonne_sans_nom_") \
            else positions[i]

    problems = []
    cells = frame.to_numpy(dtype=object)
    texts = [v for v in cells.ravel() if isinstance(v, str)]
    # one pass over every cell finds whether anything needs a closer look: most files hold neither
    if may_hold_controls and any(CONTROL.search(h) for h in headers):
        for i, h in enumerate(headers):
            if (m := CONTROL.search(h)):
                problems.append(f"en-tête, colonne {positions[i]} : {_char_name(m.group())} dans "
                                f"« {_shown_value(h)} »")
    if may_hold_controls and CONTROL.search("\n".join(texts)):
        for i, column in enumerate(canonical):
            values = frame[column]
            hit = values.map(lambda v: isinstance(v, str) and CONTROL.search(v) is not None)
            for pos in hit.to_numpy().nonzero()[0]:
                v = values.iloc[pos]
                found = CONTROL.search(v)
                character = _char_name(found.group() if found else "")
                problems.append(f"ligne {lines[pos]}, colonne {label(i)} : {character} dans « {_shown_value(v)} »")
    if problems:
        raise FichierIllisible(f"{name}{where} : caractère invisible dans une cellule, la valeur serait altérée — "
                               + _listing(problems) + " : retirez-le et renvoyez le fichier")
    if texts and max(map(len, texts)) > limites.longueur_cellule:
        for i, column in enumerate(canonical):
            lengths = frame[column].map(lambda v: len(v) if isinstance(v, str) else 0)
            for pos in (lengths > limites.longueur_cellule).to_numpy().nonzero()[0]:
                problems.append(f"ligne {lines[pos]}, colonne {label(i)} : {lengths.iloc[pos]} caractères")
        raise FichierIllisible(f"{name}{where} : cellule trop longue (limite {limites.longueur_cellule} "
                               "caractères, réglage limites.longueur_cellule) — " + _listing(problems))
    # every cell as stripped text, an empty one as NA: built once rather than column by column
    stripped = np.array([_text(v) for v in cells.ravel()], dtype=object).reshape(cells.shape)
    frame = pd.DataFrame(stripped, columns=canonical).astype("string")
    frame[LINE_COLUMN] = lines
    frame[SHEET_COLUMN] = sheet
    unnamed = [c for c in canonical if c.startswith("_colonne_sans_nom_")]
    for column in unnamed:
        i = canonical.index(column)
        for pos in frame[column].notna().to_numpy().nonzero()[0]:
            problems.append(f"ligne {lines[pos]}, colonne {positions[i]} : « {_shown_value(frame[column].iloc[pos])} »")
    if problems:
        raise FichierIllisible(f"{name}{where} : valeur dans une colonne sans en-tête, elle serait perdue — "
                               + _listing(problems) + " : nommez la colonne ou supprimez la valeur")
    data_columns = [c for c in canonical if c not in unnamed]
    blank = frame[data_columns].isna().all(axis=1) if data_columns else pd.Series(True, index=frame.index)
    frame = frame.loc[~blank].drop(columns=unnamed)
    return RawTable(frame=frame.reset_index(drop=True), sheet=sheet,
                    original_headers=dict(zip(canonical, headers)))


# --- XLSX -----------------------------------------------------------------------------------------


def _zip_directory(handle, limites: Limites, name: str) -> zipfile.ZipFile:
    """A workbook's zip, refused on what its directory declares (parts, encryption, decompressed size, ratio):
    read from the end of the file, nothing decompressed. `handle`: the bytes, or the deposited file itself, so that
    a bomb or a huge workbook is refused before it is archived."""
    try:
        archive = zipfile.ZipFile(handle)
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise FichierIllisible(f"{name} : classeur XLSX illisible, archive ZIP endommagée ({exc})") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise FichierIllisible(f"{name} : archive de {len(members)} éléments, au-delà des {MAX_ZIP_MEMBERS} qu'un "
                               "classeur ordinaire n'atteint jamais : ce n'est pas un classeur ordinaire")
    if any(m.flag_bits & 0x1 for m in members):
        raise FichierIllisible(f"{name} : classeur protégé par mot de passe : enregistrez-le sans mot de passe")
    total = sum(m.file_size for m in members)
    if total > limites.xlsx_decompresse_mo * MIB:
        raise FichierIllisible(
            f"{name} : classeur de {_mo(total)} une fois décompressé, au-delà de la limite de "
            f"{_mo(limites.xlsx_decompresse_mo * MIB)} (réglage limites.xlsx_decompresse_mo) : découpez-le ou "
            "enregistrez-le en CSV")
    for m in members:
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > RATIO_FLOOR and ratio > limites.xlsx_ratio_compression:
            raise FichierIllisible(
                f"{name} : l'élément {m.filename} se décompresse {ratio:.0f} fois (limite "
                f"{limites.xlsx_ratio_compression:g}, réglage limites.xlsx_ratio_compression) : classeur refusé "
                "par précaution (bombe de décompression ?)")
    return archive


def refusal_before_archiving(handle, size: int, suffix: str, limites: Limites, name: str) -> str | None:
    """Why a deposited file is refused on its size, or a workbook on its zip directory, before it is copied into
    the archive (None: it will be archived and read). `handle`: the file, open for reading at its start. A refused
    file is recorded (name, size, hash, reason), never stored whole: the archive grows by at most
    `limites.taille_fichier_mo` per deposit."""
    if size > limites.taille_fichier_mo * MIB:
        return str(_too_big(name, size, limites))
    if suffix.lower() != ".xlsx":
        return None
    starts_as_zip = handle.read(len(ZIP_MAGIC)) == ZIP_MAGIC
    handle.seek(0)
    if not starts_as_zip:
        return None  # not a zip: the reader names what it is
    try:
        _zip_directory(handle, limites, name)
    except FichierIllisible as exc:
        return str(exc)
    finally:
        handle.seek(0)
    return None


def _open_workbook_zip(data: bytes, limites: Limites, name: str) -> zipfile.ZipFile:
    """The workbook's zip, refused on what its directory declares — before anything is decompressed. (zipfile
    stops at the declared size of a member, so a lying directory cannot make it decompress more.)"""
    if data.startswith(OLE_MAGIC):
        raise FichierIllisible(f"{name} : {_ole_kind(data)}")
    if not data.startswith(ZIP_MAGIC):
        kind = "un document PDF" if data.startswith(b"%PDF") else (
            "un fichier texte (CSV ?) : donnez-lui l'extension .csv" if not CONTROL.search(
                data[:4096].decode("utf-8", "replace")) else "un contenu non reconnu")
        raise FichierIllisible(f"{name} : ce n'est pas un classeur XLSX mais {kind}")
    archive = _zip_directory(io.BytesIO(data), limites, name)
    members = archive.infolist()
    names = {m.filename for m in members}
    if "mimetype" in names:
        try:
            mimetype = archive.read("mimetype")[:100]
        except BROKEN:
            mimetype = b""
        if b"opendocument.spreadsheet" in mimetype:
            raise FichierIllisible(f"{name} : classeur OpenDocument (.ods, LibreOffice) : enregistrez-le au format "
                                   "Classeur Excel (.xlsx) ou CSV UTF-8")
    if "xl/workbook.bin" in names:
        raise FichierIllisible(f"{name} : classeur binaire Excel (.xlsb) : enregistrez-le au format .xlsx")
    if "xl/workbook.xml" not in names:
        what = "un document Word" if "word/document.xml" in names else "une archive ZIP"
        raise FichierIllisible(f"{name} : ce n'est pas un classeur XLSX mais {what}")
    return archive


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → its XML part, from the workbook and its relationships."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels if _local(r.tag) == "Relationship"}
    result: dict[str, str] = {}
    for node in book.iter():
        if _local(node.tag) != "sheet":
            continue
        rid = next((v for k, v in node.attrib.items() if _local(k) == "id"), None)
        target = targets.get(rid, "")
        result[node.get("name", "")] = target.lstrip("/") if target.startswith("/") else \
            posixpath.normpath(posixpath.join("xl", target))
    return result


ROW_TAG = re.compile(rb"<(?:\w+:)?row\b[^>]*(?<!/)>")           # a row with content (not `<row .../>`)
CELL_COLUMN = re.compile(rb"<(?:\w+:)?c\s[^>]*?\br=\"([A-Z]{1,3})[0-9]+\"")
FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _scan_sheet(archive: zipfile.ZipFile, member: str, limites: Limites, name: str, sheet: str) -> None:
    """A pass over the sheet's XML before pandas parses it: refuse too many rows or columns, and formulas whose
    computed value was never saved (they would read as empty). Rows and columns are counted on the bytes (fast;
    the member's size is already bounded by limites.xlsx_decompresse_mo); only a sheet holding formulas is
    parsed as XML to find them."""
    where = f"{name} (feuille {sheet})"
    try:
        xml = archive.read(member)
    except BROKEN as exc:
        raise FichierIllisible(f"{where} : feuille illisible ({type(exc).__name__} : {exc})") from None
    if sum(1 for _ in ROW_TAG.finditer(xml)) > limites.lignes + 1:
        raise FichierIllisible(f"{where} : plus de {limites.lignes} lignes (réglage limites.lignes) : "
                               "découpez le classeur")
    widest = max((column_index_from_string(letters.decode()) for letters in
                  {m.group(1) for m in CELL_COLUMN.finditer(xml)}), default=0)
    if widest > limites.colonnes:
        raise FichierIllisible(f"{where} : des cellules jusqu'à la colonne {get_column_letter(widest)}, au-delà de "
                               f"la limite de {limites.colonnes} colonnes (réglage limites.colonnes)")
    if not FORMULA_TAG.search(xml):
        return
    uncomputed = []
    try:
        for _, node in ElementTree.iterparse(io.BytesIO(xml), events=("end",)):
            if _local(node.tag) != "c":
                continue
            children = {_local(child.tag): child for child in node}
            # an empty <v/> is a computed empty text only when the cell says its result is text
            computed = "v" in children and (children["v"].text or node.get("t") == "str")
            if "f" in children and not computed:
                formula = (children["f"].text or "").strip()
                uncomputed.append(f"cellule {node.get('r', '?')}" + (f" (={_shown_value(formula)})"
                                                                      if formula else ""))
            node.clear()
    except BROKEN as exc:
        raise FichierIllisible(f"{where} : feuille illisible ({type(exc).__name__} : {exc})") from None
    if uncomputed:
        raise FichierIllisible(
            f"{where} : formule sans valeur calculée, elle serait lue vide — " + _listing(uncomputed)
            + " : ouvrez le classeur dans Excel ou LibreOffice, laissez-le recalculer et enregistrez-le")


def _unescape_xlsx(value):
    if not isinstance(value, str) or "_x" not in value:
        return value
    return XLSX_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)


def read_xlsx(path: Path, sheets: list[str] | None = None, data: bytes | None = None,
              limites: Limites | None = None, name: str | None = None) -> RawFile:
    """First sheet, or the named sheets (matched after normalisation)."""
    limites = limites or Limites()
    name = name or path.name
    data = _load_bytes(path, data, limites, name)
    archive = _open_workbook_zip(data, limites, name)
    try:
        members = _sheet_members(archive)
        book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
        sheet_names = book.sheet_names
    except FichierIllisible:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise FichierIllisible(f"{name} : classeur XLSX illisible ({type(exc).__name__})") from None
    if not sheet_names:
        raise FichierIllisible(f"{name} : le classeur n'a aucune feuille")
    available = {normalise_header(s): s for s in sheet_names}
    if sheets is None:
        chosen = [sheet_names[0]]
    else:
        missing = [s for s in sheets if s not in available]
        if missing:
            raise FichierIllisible(
                f"{name} : feuille(s) {', '.join(repr(m) for m in missing)} absente(s) "
                f"(feuilles trouvées : {', '.join(sheet_names)})"
            )
        chosen = [available[s] for s in sheets]
    tables = []
    for sheet in chosen:
        if sheet not in members or members[sheet] not in archive.namelist():
            raise FichierIllisible(f"{name} : feuille « {sheet} » introuvable dans le classeur")
        _scan_sheet(archive, members[sheet], limites, name, sheet)
        try:
            grid = book.parse(sheet, header=None, dtype=str)
        except Exception as exc:  # same: a broken sheet surfaces as many exception types
            raise FichierIllisible(f"{name} (feuille {sheet}) : feuille illisible ({type(exc).__name__})") from None
        grid = grid.map(_unescape_xlsx)
        non_empty = grid.notna().any(axis=1)
        if not non_empty.any():
            raise FichierIllisible(f"{name} : la feuille « {sheet} » est vide")
        header_pos = int(non_empty.to_numpy().argmax())
        frame = grid.iloc[header_pos + 1:].copy()
        frame.columns = range(grid.shape[1])
        tables.append(_finish(frame, grid.iloc[header_pos].tolist(),
                              [get_column_letter(i + 1) for i in range(grid.shape[1])], header_pos + 2,
                              normalise_header(sheet) if sheets else None, name, limites))
    return RawFile(path=path, tables=tables)


NOT_ACCEPTED = {
    ".xls": "classeur Excel 97-2003 (.xls)", ".xlsm": "classeur Excel avec macros (.xlsm)",
    ".xlsb": "classeur binaire Excel (.xlsb)", ".ods": "classeur OpenDocument (.ods, LibreOffice)",
}


def read_file(path: Path, sheets: list[str] | None = None, data: bytes | None = None,
              limites: Limites | None = None, name: str | None = None) -> RawFile:
    """`limites` default to the settings' defaults; `name` is how messages call the file (the name it was
    deposited under, when `path` is its archived copy)."""
    name = name or path.name
    suffix = Path(name).suffix.lower() or path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path, data, limites, name)
    if suffix == ".xlsx":
        return read_xlsx(path, sheets, data, limites, name)
    if suffix in NOT_ACCEPTED:
        raise FichierIllisible(f"{name} : {NOT_ACCEPTED[suffix]} non accepté : ouvrez-le et enregistrez-le au "
                               "format Classeur Excel (.xlsx) ou CSV UTF-8")
    raise FichierIllisible(f"{name} : format non accepté (seuls .csv et .xlsx le sont)")
