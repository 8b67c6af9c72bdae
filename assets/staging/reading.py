"""The one reader every family goes through: encodings, separators, sheets, header normalisation, row numbers.

It returns text only: typing is the contract's job (parsing.py), so that a bad value becomes a row error
naming its cell instead of a failed read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.common import normalise_header

LINE_COLUMN = "_ligne"
SHEET_COLUMN = "_feuille"


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


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    if not data.strip():
        raise FichierIllisible(f"{path.name} : le fichier est vide")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise FichierIllisible(
            f"{path.name} : encodage non reconnu (ni UTF-8 ni Windows-1252, octet illisible à la position {exc.start})"
        ) from None


def _sniff_separator(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if first.count(";") >= first.count(",") and first.count(";") > 0 else ","


def _finish(frame: pd.DataFrame, first_data_row: int, sheet: str | None, path: Path) -> RawTable:
    """Name columns canonically, number rows as the spreadsheet does, drop fully blank rows."""
    headers = list(frame.columns)
    canonical = [normalise_header(h) for h in headers]
    seen: dict[str, int] = {}
    for i, name in enumerate(canonical):
        if not name:
            canonical[i] = f"_colonne_sans_nom_{i + 1}"
        if canonical[i] in seen:
            where = f" (feuille {sheet})" if sheet else ""
            raise FichierIllisible(
                f"{path.name}{where} : la colonne « {headers[i]} » apparaît deux fois dans l'en-tête"
            )
        seen[canonical[i]] = i
    frame = frame.copy()
    frame.columns = canonical
    frame = frame.astype("string").apply(lambda s: s.str.strip()).replace("", pd.NA)
    frame[LINE_COLUMN] = pd.RangeIndex(first_data_row, first_data_row + len(frame))
    frame[SHEET_COLUMN] = sheet
    data_columns = [c for c in canonical if not c.startswith("_colonne_sans_nom_")]
    blank = frame[data_columns].isna().all(axis=1) if data_columns else pd.Series(True, index=frame.index)
    frame = frame.loc[~blank].drop(columns=[c for c in canonical if c.startswith("_colonne_sans_nom_")])
    return RawTable(frame=frame.reset_index(drop=True), sheet=sheet,
                    original_headers=dict(zip(canonical, (str(h) for h in headers))))


def read_csv(path: Path, data: bytes | None = None) -> RawFile:
    data = path.read_bytes() if data is None else data
    text, encoding = _decode(data, path)
    separator = _sniff_separator(text)
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=separator, dtype=str, keep_default_na=False,
            skip_blank_lines=False, quoting=csv.QUOTE_MINIMAL,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FichierIllisible(f"{path.name} : CSV illisible ({str(exc).strip()})") from None
    if frame.columns.empty:
        raise FichierIllisible(f"{path.name} : aucune colonne trouvée")
    # blank lines before the header shift row numbers; keep what the steward sees
    leading_blank = 0
    for line in text.splitlines():
        if line.strip():
            break
        leading_blank += 1
    table = _finish(frame, first_data_row=leading_blank + 2, sheet=None, path=path)
    return RawFile(path=path, tables=[table], encoding=encoding, separator=separator)


def read_xlsx(path: Path, sheets: list[str] | None = None, data: bytes | None = None) -> RawFile:
    """First sheet, or the named sheets (matched after normalisation)."""
    source = io.BytesIO(path.read_bytes() if data is None else data)
    try:
        book = pd.ExcelFile(source, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for a broken zip or a non-xlsx file
        raise FichierIllisible(f"{path.name} : classeur XLSX illisible ({type(exc).__name__})") from None
    available = {normalise_header(s): s for s in book.sheet_names}
    if sheets is None:
        chosen = [book.sheet_names[0]]
    else:
        missing = [s for s in sheets if s not in available]
        if missing:
            raise FichierIllisible(
                f"{path.name} : feuille(s) {', '.join(repr(m) for m in missing)} absente(s) "
                f"(feuilles trouvées : {', '.join(book.sheet_names)})"
            )
        chosen = [available[s] for s in sheets]
    tables = []
    for sheet in chosen:
        grid = book.parse(sheet, header=None, dtype=str)
        non_empty = grid.notna().any(axis=1)
        if not non_empty.any():
            raise FichierIllisible(f"{path.name} : la feuille « {sheet} » est vide")
        header_pos = int(non_empty.to_numpy().argmax())
        frame = grid.iloc[header_pos + 1:].copy()
        frame.columns = grid.iloc[header_pos].tolist()
        frame = frame.loc[:, [c for c in frame.columns if not (isinstance(c, float) and pd.isna(c))]]
        tables.append(_finish(frame, first_data_row=header_pos + 2,
                              sheet=normalise_header(sheet) if sheets else None, path=path))
    return RawFile(path=path, tables=tables)


def read_file(path: Path, sheets: list[str] | None = None, data: bytes | None = None) -> RawFile:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path, data)
    if suffix == ".xlsx":
        return read_xlsx(path, sheets, data)
    raise FichierIllisible(f"{path.name} : format non accepté (seuls .csv et .xlsx le sont)")
