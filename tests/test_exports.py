"""Exports are inert: partner text written as a formula stays text in every CSV and XLSX the project writes."""

from __future__ import annotations

import csv
import io

import duckdb
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.escape import unescape

from assets.retours import _xlsx
from assets.staging.quality_report import export_quality
from core.common import FORMULA_PREFIXES, inert_frame, inert_text

HOSTILE = ["=HYPERLINK(\"http://exemple.invalid\",\"clic\")", "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(1,1)",
           "\t=1+1", "\r=1+1"]

# only the columns export_quality selects: the loader's own DDL is not this test's subject
TABLES = """
CREATE SCHEMA staging; CREATE SCHEMA quarantine;
CREATE TABLE staging.qualite_fichiers (famille VARCHAR, territoire VARCHAR, annee_boite INTEGER, fichier VARCHAR,
    version INTEGER, sha256 VARCHAR, statut VARCHAR, lignes_lues INTEGER, lignes_retenues INTEGER,
    lignes_quarantaine INTEGER, avertissements INTEGER, colonnes_inconnues VARCHAR, colonnes_supprimees VARCHAR,
    encodage VARCHAR, separateur VARCHAR, message VARCHAR);
CREATE TABLE quarantine.erreurs (famille VARCHAR, territoire VARCHAR, annee_boite INTEGER, fichier VARCHAR,
    feuille VARCHAR, ligne INTEGER, colonne VARCHAR, valeur VARCHAR, regle VARCHAR, gravite VARCHAR, message VARCHAR);
"""


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_like_text_gets_a_leading_apostrophe(value):
    assert inert_text(value) == "'" + value


@pytest.mark.parametrize("value", ["CAF du Nord", "-12", "+3,5", "-0.25", "", "a=b", "12 %", None, -5, 3.5])
def test_ordinary_values_and_plain_numbers_stay_as_written(value):
    assert inert_text(value) == value


def test_inert_frame_leaves_numbers_and_missing_values(tmp_path):
    frame = pd.DataFrame({"texte": ["=1+1", None, "ok"], "nombre": [-1, 2, 3],
                          "chaine": pd.Series(["@x", pd.NA, "-1"], dtype="string")})
    out = inert_frame(frame)
    assert out["texte"].tolist() == ["'=1+1", None, "ok"] and out["nombre"].tolist() == [-1, 2, 3]
    assert out["chaine"].tolist() == ["'@x", pd.NA, "-1"]
    assert frame["texte"].iloc[0] == "=1+1"   # the caller's frame is not modified


def test_quality_csvs_neutralise_every_prefix(tmp_path):
    con = duckdb.connect()
    con.execute(TABLES)
    for i, value in enumerate(HOSTILE):
        con.execute("INSERT INTO quarantine.erreurs VALUES ('engagements', 'ccco', 2025, ?, NULL, ?, 'partenaire', "
                    "?, 'obligatoire', 'erreur', ?)", [value, i + 2, value, f"valeur « {value} »"])
        con.execute("INSERT INTO staging.qualite_fichiers (famille, territoire, annee_boite, fichier, statut, message) "
                    "VALUES ('engagements', 'ccco', 2025, ?, 'refuse', ?)", [f"engagements_{i}.csv", value])
    out = export_quality(con, tmp_path, 2025, [("ccco", "=cmd|x.csv", "ignore", "nom de fichier sans famille")])
    errors = pd.read_csv(out["paths"]["quarantaine"], sep=";", encoding="utf-8-sig", dtype=str,
                         keep_default_na=False)
    assert sorted(errors["valeur"]) == sorted("'" + v for v in HOSTILE)
    assert sorted(errors["fichier"]) == sorted("'" + v for v in HOSTILE)
    quality = pd.read_csv(out["paths"]["qualite_fichiers"], sep=";", encoding="utf-8-sig", dtype=str,
                          keep_default_na=False)
    assert set(quality["message"]) == {"'" + v for v in HOSTILE} | {"nom de fichier sans famille"}
    assert "'=cmd|x.csv" in set(quality["fichier"])
    for path in out["paths"].values():   # as a spreadsheet splits the file: no cell may start a formula
        with open(path, encoding="utf-8-sig", newline="") as handle:
            cells = [c for row in csv.reader(handle, delimiter=";") for c in row]
        assert len(cells) > 20 and not [c for c in cells if c.startswith(FORMULA_PREFIXES)]


def test_feedback_workbook_holds_no_formula(tmp_path):
    data = _xlsx({"Problèmes": (["Fichier", "Valeur", "Message"], [[v, v, f"texte {v}"] for v in HOSTILE])},
                 "Retour")
    book = openpyxl.load_workbook(io.BytesIO(data))   # not data_only: a formula would read as "=…" with type f
    cells = [c for row in book["Problèmes"].iter_rows(min_row=2) for c in row]
    assert len(cells) == 3 * len(HOSTILE)
    assert all(c.data_type == "s" for c in cells)
    # kept as written, as text (xlsxwriter stores a CR as the escape _x000D_, which openpyxl leaves as is)
    assert [unescape(c.value) for c in cells[::3]] == HOSTILE
