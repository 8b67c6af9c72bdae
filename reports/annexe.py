"""The XLSX annex of a bilan: the `publication` tables as a reader uses them. Beside each internal code its French
label (config/vocabulaire.yaml, config/mesures.yaml); numbers stored as numbers, rounded to their unit's decimals and
formatted; booleans in French; a cohort count under secrecy left empty, what is shown instead in its own column."""

from __future__ import annotations

import io

import pandas as pd

from reports.data import BilanData
from reports.sections.methode import method_notes

# Decimals and Excel number format (Excel shows its own locale's separators) of a value in each unit; a count in
# `nombre` that is not whole (a mean) keeps one decimal.
UNIT_FORMATS: dict[str, tuple[int, str]] = {
    "pourcentage": (1, "0.0"), "points": (1, "0.0"), "euros": (0, '#,##0 "€"'), "ratio": (2, "0.00"),
    "indice": (1, "0.0"), "nombre": (0, "#,##0")}
KIND_FORMATS: dict[str, tuple[int, str]] = {
    "i": (0, "#,##0"), "c": (0, "#,##0"), "y": (0, "0"), "e": (0, '#,##0 "€"'), "p": (1, "0.0"), "r": (3, "0.0%"),
    "n": (2, "#,##0.##")}
SECRET_HEADER = "Secret statistique (cellules non publiées)"
EXCEL_DATA_ROWS = 1_048_575  # rows of an Excel sheet under its header
RECORDS_PER_BLOCK = 50_000   # rows turned into Python objects at a time


def unit_format(value: float, unite) -> tuple[int, str]:
    """Decimals and number format of a value in its unit (a missing or unknown unit: a number)."""
    unite = unite if isinstance(unite, str) and unite in UNIT_FORMATS else "nombre"
    decimals, code = UNIT_FORMATS[unite]
    if unite == "nombre" and not float(round(value, 1)).is_integer():
        return 1, "#,##0.0"
    return decimals, code


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v))


def _labels(data: BilanData, domaine: str) -> dict[str, str]:
    return data.libelles_mesures if domaine == "mesures" else data.vocabulaire.libelles(domaine)


def annex_sheets(data: BilanData, frames: dict[str, pd.DataFrame]):
    """(sheet, table, {column: (header, kind)}, {code column: vocabulary list}) for each sheet of config/bilan.yaml,
    then one for each table a section reads that no sheet shows (its columns as they are: text or number)."""
    shown = {f.table for f in data.annexe}
    for f in data.annexe:
        yield f.feuille, f.table, dict(f.colonnes), f.libelles
    for table in sorted(set(data.tables) - shown):
        frame = frames[table]
        yield table[:28], table, {c: (c, "n" if pd.api.types.is_numeric_dtype(frame[c])
                                      and not pd.api.types.is_bool_dtype(frame[c]) else "t")
                                  for c in frame.columns}, {}


def render_xlsx(data: BilanData) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    # partner text is data, never a formula or a link: every string is written as a string cell. Rows go to
    # temporary files as they are written (a file at the row limit makes 1,6 million measures, which held in memory
    # took the annex alone to gigabytes): written in order, each sheet's header first.
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    book.set_properties({"title": f"Annexe du bilan {data.annee} — {data.territoire.nom}", "author": "bilan-quartiers",
                         "comments": f"run {data.run_id}, référentiel {data.referentiel_version}"})
    header = book.add_format({"bold": True, "bg_color": "#EEF3F8", "border": 1, "text_wrap": True, "valign": "top"})
    number_formats: dict[str, object] = {}

    def fmt(code: str):
        if code not in number_formats:
            number_formats[code] = book.add_format({"num_format": code})
        return number_formats[code]

    frames = {"referentiel": data.referentiel, "mesures": data.measures, "qualite": data.qualite,
              "sources": data.sources, **data.tables}
    for sheet_name, key, columns, labels in annex_sheets(data, frames):
        frame = frames[key]
        sheet = book.add_worksheet(sheet_name)
        present = [c for c in columns if c in frame.columns] if len(frame.columns) else []
        if not present:
            sheet.write_string(0, 0, "Aucune donnée pour cette année (famille absente).")
            sheet.set_column(0, 0, 60)
            continue
        labelled = {c: _labels(data, d) for c, d in labels.items() if c in present}
        # the sheet's columns: each table column, its label beside a code column, the cohort secret column last
        layout: list[tuple[str, str, str]] = []   # (table column, header, role)
        for c in present:
            layout.append((c, columns[c][0], "value"))
            if c in labelled:
                layout.append((c, f"{columns[c][0]} (libellé)", "label"))
        counts = [c for c in present if columns[c][1] == "c"]
        if counts:
            layout.append(("", SECRET_HEADER, "secret"))
        table = frame[present]
        # past the rows of an Excel sheet the table goes on in « Mesures (2) »…: xlsxwriter would drop them silently
        for part, start in enumerate(range(0, max(len(table), 1), EXCEL_DATA_ROWS), start=1):
            if part > 1:
                sheet = book.add_worksheet(f"{sheet_name} ({part})")
            for j, (_, title, _) in enumerate(layout):
                sheet.write_string(0, j, title, header)
            end = min(start + EXCEL_DATA_ROWS, len(table))
            widths = [len(h) for _, h, _ in layout]
            for block in range(start, end, RECORDS_PER_BLOCK):
                records = table.iloc[block:min(block + RECORDS_PER_BLOCK, end)].to_dict("records")
                for i, row in enumerate(records, start=block - start + 1):
                    for j, (c, _, role) in enumerate(layout):
                        if role == "secret":
                            hidden = [f"{columns[k][0]} : {row[k]}" for k in counts
                                      if not _missing(row[k]) and not str(row[k]).isdigit()]
                            text = " ; ".join(hidden)
                        elif role == "label":
                            text = "" if _missing(row[c]) else labelled[c].get(str(row[c]), "")
                        else:
                            text = _write_value(sheet, i, j, row[c], columns[c][1], row.get("unite"), fmt)
                        if text:
                            sheet.write_string(i, j, text)
                            widths[j] = max(widths[j], len(text))
            for j, (c, _, role) in enumerate(layout):
                numeric = role == "value" and columns[c][1] not in ("t", "b")
                sheet.set_column(j, j, 14 if numeric else min(max(widths[j], 8) + 2, 60))
            sheet.freeze_panes(1, 0)
            sheet.autofilter(0, 0, end - start, len(layout) - 1)
    notes = book.add_worksheet("Méthode")
    for i, text in enumerate(method_notes(data)):
        notes.write_string(i, 0, text)
    notes.set_column(0, 0, 140)
    book.close()
    return buffer.getvalue()


def _write_value(sheet, i: int, j: int, v, kind: str, unite, fmt) -> str:
    """Writes a number cell, or returns the text to write (empty: nothing)."""
    if _missing(v):
        return ""
    if isinstance(v, bool) or type(v).__name__ == "bool_":
        return "oui" if v else "non"
    if kind == "c":   # published as text: a digit string is the count, anything else is what secrecy shows
        if str(v).isdigit():
            sheet.write_number(i, j, int(str(v)), fmt(KIND_FORMATS["c"][1]))
        return ""
    if kind == "t" or isinstance(v, str):
        return str(v)  # a string cell: a leading = stays text
    value = float(v)
    decimals, code = unit_format(value, unite) if kind == "u" else KIND_FORMATS[kind]
    sheet.write_number(i, j, round(value, decimals), fmt(code))
    return ""
