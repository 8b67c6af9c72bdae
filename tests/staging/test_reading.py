"""The shared reader: encodings, separators, French numbers and dates, headers, sheets, row numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from core.common import normalise_header
from core.familles.contract import parse_date, parse_number
from core.familles.family import parse_file
from core.familles.reading import FichierIllisible, read_file
from core.familles.registry import FAMILIES, family_of
from tests.conftest import write_xlsx


@pytest.mark.parametrize("written,canonical", [
    ("Montant accordé (€)", "montant_accorde"), ("  N° dossier ", "n_dossier"), ("Code QPV", "code_qpv"),
    ("Intitulé de l'action", "intitule_de_l_action"), ("ANNÉE", "annee"),
    ("Bénéficiaires - femmes", "beneficiaires_femmes"),
])
def test_header_normalisation(written, canonical):
    assert normalise_header(written) == canonical


def test_french_numbers():
    text = pd.Series(["1 234,5 €", "1\u00a0234\u202f567", "37,5 %", "1234.5", "1,234.5", "12", "abc", None])
    got = parse_number(text)
    assert got.iloc[:6].tolist() == [1234.5, 1234567.0, 37.5, 1234.5, 1234.5, 12.0]
    assert got.iloc[6:].isna().all()


def test_dates_in_both_forms():
    got = parse_date(pd.Series(["2025-03-01", "01/03/2025", "2025-03-01 00:00:00", "31/02/2025", "mars 2025"]))
    assert got.iloc[:3].dt.strftime("%Y-%m-%d").tolist() == ["2025-03-01"] * 3
    assert got.iloc[3:].isna().all()


def test_windows_1252_semicolon_csv_with_blank_lines_keeps_spreadsheet_row_numbers(tmp_path):
    text = "Partenaire;Année;Intitulé\nCAF du Nord;2025;Crèche\n;;\nCPAM;2025;Santé é\n"
    path = tmp_path / "engagements_x.csv"
    path.write_bytes(text.encode("cp1252"))
    raw = read_file(path)
    table = raw.tables[0].frame
    assert raw.encoding == "windows-1252" and raw.separator == ";"
    assert list(table.columns[:3]) == ["partenaire", "annee", "intitule"]
    assert table["_ligne"].tolist() == [2, 4]
    assert table["intitule"].tolist() == ["Crèche", "Santé é"]


def test_utf8_bom_comma_csv(tmp_path):
    path = tmp_path / "engagements_y.csv"
    path.write_bytes("\ufeffPartenaire,Année\nCAF,2025\n".encode("utf-8"))
    raw = read_file(path)
    assert raw.encoding == "utf-8" and raw.separator == ","
    assert raw.tables[0].frame["partenaire"].tolist() == ["CAF"]


def test_xlsx_header_below_a_title_row_and_named_sheets(tmp_path):
    path = tmp_path / "tfpb_sia.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame([["Bailleur", "Code QPV"], ["SIA Habitat", "QN05934M"]]).to_excel(
            writer, sheet_name="Patrimoine", index=False, header=False, startrow=2)
        pd.DataFrame([["Bailleur"], ["SIA Habitat"]]).to_excel(writer, sheet_name="Actions", index=False, header=False)
    raw = read_file(path, sheets=["patrimoine", "actions"])
    patrimoine, actions = raw.tables
    assert patrimoine.frame["_ligne"].tolist() == [4]   # header on row 3 of the sheet
    assert patrimoine.frame["_feuille"].tolist() == ["patrimoine"]
    assert actions.frame["_ligne"].tolist() == [2]


@pytest.mark.parametrize("name,content,message", [
    ("engagements_vide.csv", b"", "vide"),
    ("engagements_x.txt", b"a;b\n1;2\n", "format non accepté"),
    ("engagements_bin.csv", b"partenaire;annee\n\x81\x8d\x8f;2025\n", "encodage non reconnu"),
    ("engagements_faux.xlsx", b"PK\x03\x04 pas un classeur", "XLSX illisible"),
])
def test_unreadable_files_are_refused_with_a_reason(tmp_path, ctx, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FichierIllisible, match=message) as err:
        parse_file(FAMILIES["engagements"], path, ctx)
    assert name in str(err.value)


def test_missing_required_column_names_it(tmp_path, ctx):
    path = tmp_path / "programmation_2025.csv"
    path.write_text("numero_dossier;annee;porteur\n2025-00001;2025;CS\n", encoding="utf-8")
    with pytest.raises(FichierIllisible, match="intitule_action"):
        parse_file(FAMILIES["programmation"], path, ctx)


def test_tfpb_csv_must_say_which_sheet_it_is(tmp_path, ctx):
    path = tmp_path / "tfpb_norevie.csv"
    path.write_text("bailleur;code_qpv\nNorévie;QN05934M\n", encoding="utf-8")
    with pytest.raises(FichierIllisible, match="tfpb_patrimoine"):
        parse_file(FAMILIES["tfpb"], path, ctx)


def test_tfpb_workbook_with_missing_sheet_is_refused(tmp_path, ctx):
    path = write_xlsx(tmp_path / "tfpb_sigh.xlsx", {"patrimoine": [{"bailleur": "SIGH"}]})
    with pytest.raises(FichierIllisible, match="actions"):
        parse_file(FAMILIES["tfpb"], path, ctx)


def test_family_is_the_start_of_the_name():
    assert family_of("bilans_actions_2025_cs.xlsx").name == "bilans_actions"
    assert family_of("TFPB_patrimoine_sia.csv").name == "tfpb"
    assert family_of("notes_reunion.docx") is None


def test_unknown_columns_are_listed_and_ignored(tmp_path, ctx):
    path = tmp_path / "indicateurs_x.csv"
    path.write_text("code_indicateur,niveau_geo,code_geo,millesime,valeur,unite,source,Remarque interne\n"
                    "taux_pauvrete,epci,245901152,2020,20,pourcentage,INSEE,à revoir\n", encoding="utf-8")
    parsed = parse_file(FAMILIES["indicateurs"], path, ctx)
    assert parsed.unknown_columns == ["Remarque interne"]
    assert "remarque_interne" not in parsed.tables["indicateurs"].raw.columns
