"""The templates a partner downloads, built from the family's contract YAML (never written by hand): a CSV per
table (its columns and an example row) and an XLSX workbook (a sheet per table, drop-down lists from the vocabulary,
and a « Notice » sheet: each column, whether it is required, its type and unit, its accepted values and the other
headings accepted for it)."""

from __future__ import annotations

import csv
import io

import xlsxwriter

from core.config.projet import ProjectConfig
from core.familles.contract import Col, TableContract
from core.familles.family import Family

KINDS = {"texte": "texte", "choix": "une valeur de la liste", "entier": "nombre entier", "nombre": "nombre (virgule "
         "décimale acceptée, sans symbole)", "date": "date (JJ/MM/AAAA)", "booleen": "oui / non"}


def _example(col: Col, config: ProjectConfig, territoire: str, annee: int) -> str:
    t = config.territoire(territoire)
    if col.inbox_year:
        return str(annee)
    if col.qpv is not None:
        return t.codes_qpv[0] if t.codes_qpv else ""
    if col.objectif is not None:
        codes = config.referentiel(t.referentiel).codes_objectifs
        return sorted(codes)[0] if codes else ""
    if col.choices:
        return col.choices[0]
    return {"entier": "1", "nombre": "1500", "date": f"31/12/{annee}", "booleen": "oui"}.get(col.kind, "")


def sheet_name(family: Family, table: TableContract) -> str:
    return table.sheet or family.name


def csv_template(family: Family, table: TableContract, config: ProjectConfig, territoire: str, annee: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.column_names)
    writer.writerow([_example(c, config, territoire, annee) for c in table.columns])
    # UTF-8 with its mark: a spreadsheet opens the accents right
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_template(family: Family, config: ProjectConfig, territoire: str, annee: int) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    lists = book.add_worksheet("Listes")
    list_column = 0
    notice = []
    for table in family.tables:
        sheet = book.add_worksheet(sheet_name(family, table))
        for j, col in enumerate(table.columns):
            sheet.write(0, j, col.name, bold)
            sheet.write(1, j, _example(col, config, territoire, annee))
            sheet.set_column(j, j, max(14, len(col.name) + 2))
            if col.choices:
                # the list on a sheet of its own: a validation list written inline stops at 255 characters
                for i, value in enumerate(col.choices):
                    lists.write(i, list_column, value)
                ref = xlsxwriter.utility.xl_range_abs(0, list_column, len(col.choices) - 1, list_column)
                sheet.data_validation(1, j, 5000, j, {"validate": "list", "source": f"=Listes!{ref}",
                                                      "error_title": "Valeur non prévue",
                                                      "error_message": "Choisissez une valeur de la liste."})
                list_column += 1
            notice.append([sheet_name(family, table), col.name, "oui" if col.required else "non", KINDS[col.kind],
                           ", ".join(col.choices), ", ".join(col.aliases),
                           "" if col.minimum is None else f"{'>' if col.minimum_strict else '≥'} {col.minimum:g}"])
        sheet.freeze_panes(1, 0)
    lists.hide()
    info = book.add_worksheet("Notice")
    headers = ["Feuille", "Colonne", "Obligatoire", "Type", "Valeurs autorisées", "Autres intitulés acceptés",
               "Minimum"]
    for j, h in enumerate(headers):
        info.write(0, j, h, bold)
    for i, row in enumerate(notice, start=1):
        for j, value in enumerate(row):
            info.write(i, j, value, wrap)
    info.set_column(0, 1, 22)
    info.set_column(2, 3, 16)
    info.set_column(4, 5, 50)
    info.write(len(notice) + 2, 0, f"{family.description} La deuxième ligne de chaque feuille est un exemple : "
                                   "remplacez-la par vos données.")
    book.close()
    return buffer.getvalue()
