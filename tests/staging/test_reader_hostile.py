"""The reader against careless and hostile files: no value changed silently, true messages, bounded work."""

from __future__ import annotations

import io
import re
import time
import zipfile

import openpyxl
import pytest
import xlsxwriter

from core.config.settings import Limites
from core.familles.family import parse_file
from core.familles.reading import FichierIllisible, read_file
from core.familles.registry import FAMILIES
from pipelines.cli import main

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def refused(path, content: bytes, **kwargs) -> str:
    path.write_bytes(content)
    with pytest.raises(FichierIllisible) as err:
        read_file(path, **kwargs)
    message = str(err.value)
    assert message.startswith(path.name)
    return message


def engagements_xlsx(path, rows: list[list], formulas: dict[str, str] | None = None):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for cell, formula in (formulas or {}).items():
        sheet[cell] = formula   # openpyxl saves formulas without a computed value, as some tools do
    book.save(path)
    return path


# --- 1. no silent change of a value --------------------------------------------------------------


@pytest.mark.parametrize("char,named", [("\x00", "U+0000"), ("\x07", "U+0007"), ("\x1b", "U+001B"),
                                        ("\u202e", "U+202E")])
def test_control_character_in_a_csv_cell_refuses_naming_line_and_column(tmp_path, char, named):
    message = refused(tmp_path / "engagements_x.csv",
                      f"partenaire;annee\nCPAM;2025\nCAF{char} du Nord;2025\n".encode())
    assert "ligne 3, colonne « partenaire »" in message and named in message
    assert "CAF<" + named[:2] in message  # the value is shown with the character made visible


def test_line_breaks_and_tabs_in_a_quoted_cell_are_ordinary_text(tmp_path):
    path = tmp_path / "engagements_x.csv"
    path.write_bytes(b'partenaire;annee\n"CAF\tdu\r\nNord";2025\n')
    assert read_file(path).tables[0].frame["partenaire"].tolist() == ["CAF\tdu\r\nNord"]


def test_control_character_in_an_xlsx_cell_is_found_behind_its_escape(tmp_path):
    path = tmp_path / "engagements_x.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for j, text in enumerate(["partenaire", "annee"]):
        sheet.write_string(0, j, text)
    sheet.write_string(1, 0, "CAF\x00 du Nord")   # stored as CAF_x0000_ du Nord
    sheet.write_string(1, 1, "2025")
    sheet.write_string(2, 0, "litteral _x0041_")  # stored as _x005F_x0041_: a literal text stays as written
    book.close()
    with pytest.raises(FichierIllisible, match=r"ligne 2, colonne « partenaire » : caractère nul \(U\+0000\)"):
        read_file(path)


def test_xlsx_escapes_are_undone_like_a_spreadsheet_does(tmp_path):
    path = tmp_path / "engagements_x.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_string(0, 0, "partenaire")
    sheet.write_string(1, 0, "litteral _x0041_ et ligne\r\nsuivante")
    book.close()
    assert read_file(path).tables[0].frame["partenaire"].tolist() == ["litteral _x0041_ et ligne\r\nsuivante"]


def test_repeated_column_in_csv_is_refused_like_in_xlsx(tmp_path):
    message = refused(tmp_path / "engagements_x.csv", b"partenaire;annee;Partenaire\nCAF;2025;CPAM\n")
    assert "la colonne « Partenaire » apparaît deux fois" in message and "n° 1 et n° 3" in message
    engagements_xlsx(tmp_path / "engagements_y.xlsx", [["partenaire", "annee", "Partenaire"], ["CAF", "2025", "X"]])
    with pytest.raises(FichierIllisible, match="apparaît deux fois.*colonnes A et C"):
        read_file(tmp_path / "engagements_y.xlsx")


def test_formula_without_computed_value_is_refused_naming_the_cell(tmp_path):
    path = engagements_xlsx(tmp_path / "engagements_x.xlsx", [["partenaire", "montant"], ["CAF", None]],
                            {"B2": "=SUM(1,2)"})
    with pytest.raises(FichierIllisible, match=r"formule sans valeur calculée.*cellule B2 \(=SUM\(1,2\)\)"):
        read_file(path)


def test_formula_with_computed_value_reads_its_value(tmp_path):
    path = tmp_path / "engagements_x.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_string(0, 0, "montant")
    sheet.write_formula(1, 0, "=1+2", None, 3)
    book.close()
    assert read_file(path).tables[0].frame["montant"].tolist() == ["3"]


@pytest.mark.parametrize("line,expected", [
    (b"CAF;2025;\n", "un « ; » en trop en fin de ligne"),
    (b"CAF;2025;oops\n", "valeur « oops » hors de toute colonne"),
])
def test_row_with_more_fields_than_the_header_is_refused_naming_the_line(tmp_path, line, expected):
    message = refused(tmp_path / "engagements_x.csv", b"partenaire;annee\nCPAM;2025\n" + line)
    assert "ligne 3 : 3 champs pour 2 colonnes d'en-tête" in message and expected in message


def test_value_under_no_header_is_refused_in_csv_and_xlsx(tmp_path):
    message = refused(tmp_path / "engagements_x.csv", b"partenaire;annee;\nCAF;2025;note\n")
    assert "colonne sans en-tête" in message and "ligne 2, colonne n° 3 : « note »" in message
    engagements_xlsx(tmp_path / "engagements_y.xlsx", [["partenaire", "annee"], ["CAF", "2025", None, "note"]])
    with pytest.raises(FichierIllisible, match="ligne 2, colonne D : « note »"):
        read_file(tmp_path / "engagements_y.xlsx")


def test_unclosed_quote_no_longer_swallows_the_rest_of_the_file(tmp_path):
    message = refused(tmp_path / "engagements_x.csv", b'partenaire;annee\n"CAF;2025\nCPAM;2025\n')
    assert "jamais refermé" in message


def test_many_problems_are_listed_then_counted(tmp_path):
    body = "".join(f"CAF\x00{i};2025\n" for i in range(8))
    message = refused(tmp_path / "engagements_x.csv", ("partenaire;annee\n" + body).encode())
    assert "ligne 6," in message and "ligne 7," not in message and "(et 3 autre(s))" in message


@pytest.mark.parametrize("content", [
    b"partenaire;annee\nCAF\x00 du Nord;2025\n",
    b"partenaire;annee;partenaire\nCAF;2025;X\n",
    b"partenaire;annee\nCAF;2025;\n",
])
def test_verifier_never_calls_such_a_file_clean(tmp_path, capsys, content):
    path = tmp_path / "engagements_2025_x.csv"
    path.write_bytes(content)
    assert main(["verifier", str(path), "--annee", "2025", "--territoire", "ccco",
                 "--sortie", str(tmp_path / "sortie")]) == 2
    assert "FICHIER REFUSÉ" in capsys.readouterr().out


# --- 2. true messages ----------------------------------------------------------------------------


@pytest.mark.parametrize("codec,label", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8"), ("utf-16", "utf-16"),
                                         ("utf-16-be", "utf-16"), ("utf-32", "utf-32"), ("cp1252", "windows-1252")])
def test_encodings_are_detected_read_and_named(tmp_path, codec, label):
    text = "partenaire;intitule\nCAF;Crèche « Les Lutins » été\n"
    data = text.encode(codec)
    if codec == "utf-16-be":
        data = "\ufeff".encode("utf-16-be") + data   # big-endian with its byte-order mark
    path = tmp_path / "engagements_x.csv"
    path.write_bytes(data)
    raw = read_file(path)
    assert raw.encoding == label
    assert raw.tables[0].frame["intitule"].tolist() == ["Crèche « Les Lutins » été"]


def test_utf16_without_bom_is_named_never_a_missing_column(tmp_path, ctx):
    path = tmp_path / "programmation_2025.csv"
    path.write_bytes("numero_dossier;annee\n2025-00001;2025\n".encode("utf-16-le"))
    with pytest.raises(FichierIllisible, match="encodé en UTF-16") as err:
        parse_file(FAMILIES["programmation"], path, ctx)
    assert "absente" not in str(err.value) and "enregistrez-le en CSV UTF-8" in str(err.value)


@pytest.mark.parametrize("name,content,expected", [
    ("engagements_x.xlsx", OLE + bytes(200) + "EncryptedPackage".encode("utf-16-le"), "protégé par mot de passe"),
    ("engagements_x.csv", OLE + bytes(200) + "EncryptedPackage".encode("utf-16-le"), "protégé par mot de passe"),
    ("engagements_x.xlsx", OLE + bytes(200) + "Workbook".encode("utf-16-le"), r"Excel 97-2003 \(.xls\)"),
    ("engagements_x.xls", OLE + bytes(200), r"Excel 97-2003 \(.xls\) non accepté"),
    ("engagements_x.ods", b"PK\x03\x04", r"OpenDocument \(.ods"),
    ("engagements_x.xlsx", b"partenaire;annee\nCAF;2025\n", "pas un classeur XLSX mais un fichier texte"),
    ("engagements_x.csv", b"%PDF-1.7\n...", "PDF"),
])
def test_formats_are_named_for_what_they_are(tmp_path, name, content, expected):
    assert re.search(expected, refused(tmp_path / name, content))


def test_ods_or_zip_encrypted_renamed_xlsx_is_named(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<x/>")
    assert "OpenDocument" in refused(tmp_path / "engagements_x.xlsx", buffer.getvalue())
    xlsx = engagements_xlsx(tmp_path / "engagements_y.xlsx", [["partenaire"], ["CAF"]]).read_bytes()
    flagged = bytearray(xlsx)
    # set the "encrypted" flag of the first member's local and central headers, as zip tools do with a password
    flagged[6] |= 1
    central = flagged.find(b"PK\x01\x02")
    flagged[central + 8] |= 1
    assert "protégé par mot de passe" in refused(tmp_path / "engagements_z.xlsx", bytes(flagged))


def test_damaged_csv_renamed_workbook_is_named(tmp_path):
    xlsx = engagements_xlsx(tmp_path / "engagements_y.xlsx", [["partenaire"], ["CAF"]]).read_bytes()
    assert "classeur (archive ZIP" in refused(tmp_path / "engagements_x.csv", xlsx)


# --- 3. bounded work -----------------------------------------------------------------------------


def bomb(rows: int) -> bytes:
    """A valid workbook whose sheet XML is large and compresses very well."""
    buffer = io.BytesIO()
    engagements_xlsx(buffer, [["partenaire"]])
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * rows
                                    + b"</sheetData>")
            archive.writestr(info.filename, data)
    return out.getvalue()


def test_zip_bomb_is_refused_before_decompressing(tmp_path):
    data = bomb(400_000)   # ~20 Mo of sheet XML in ~60 Ko
    started = time.perf_counter()
    message = refused(tmp_path / "engagements_x.xlsx", data)
    assert time.perf_counter() - started < 1
    assert "bombe de décompression" in message and "limites.xlsx_ratio_compression" in message
    message = refused(tmp_path / "engagements_x.xlsx", data,
                      limites=Limites(xlsx_decompresse_mo=5, xlsx_ratio_compression=10_000))
    assert "une fois décompressé" in message and "limites.xlsx_decompresse_mo" in message


def test_file_size_is_checked_before_reading(tmp_path):
    message = refused(tmp_path / "engagements_x.csv", b"partenaire;annee\n" + b"CAF;2025\n" * 2000,
                      limites=Limites(taille_fichier_mo=0.01))
    assert "fichier trop volumineux" in message and "limites.taille_fichier_mo" in message


def test_rows_columns_and_cell_length_limits(tmp_path):
    csv_rows = b"partenaire;annee\n" + b"CAF;2025\n" * 30
    assert "plus de 20 lignes" in refused(tmp_path / "engagements_x.csv", csv_rows, limites=Limites(lignes=20))
    path = tmp_path / "engagements_ok.csv"
    path.write_bytes(csv_rows)
    assert len(read_file(path, limites=Limites(lignes=30)).tables[0].frame) == 30
    multiline = b"partenaire;annee\n" + b'"CAF\ndu\nNord";2025\n' * 10   # 31 lines, 10 records
    path.write_bytes(multiline)
    assert len(read_file(path, limites=Limites(lignes=10)).tables[0].frame) == 10
    assert "plus de 20 lignes" in refused(tmp_path / "engagements_x.xlsx", bomb(30), limites=Limites(lignes=20))
    wide = (";".join(f"c{i}" for i in range(12)) + "\n").encode()
    assert "12 colonnes" in refused(tmp_path / "engagements_x.csv", wide, limites=Limites(colonnes=10))
    engagements_xlsx(tmp_path / "engagements_w.xlsx", [[f"c{i}" for i in range(12)]])
    with pytest.raises(FichierIllisible, match="colonne L"):
        read_file(tmp_path / "engagements_w.xlsx", limites=Limites(colonnes=10))
    message = refused(tmp_path / "engagements_x.csv", b"partenaire;annee\n" + b"C" * 200 + b";2025\n",
                      limites=Limites(longueur_cellule=100))
    assert "ligne 2, colonne « partenaire » : 200 caractères" in message


def test_limits_are_validated_settings(config, tmp_path):
    # the shipped settings are the reader's defaults, used when a caller passes no limits
    assert config.settings.limites == Limites()
    (tmp_path / "settings.yaml").write_text(
        (config.dir / "settings.yaml").read_text(encoding="utf-8").replace("lignes: 500000", "lignes: 0"),
        encoding="utf-8")
    from core.config.base import ConfigurationError
    from core.config.projet import ProjectConfig

    with pytest.raises(ConfigurationError, match="limites.lignes"):
        _ = ProjectConfig(tmp_path).settings


def test_verifier_names_a_folder_for_what_it_is(tmp_path, capsys):
    folder = tmp_path / "engagements_2025_x.csv"
    folder.mkdir()
    assert main(["verifier", str(folder)]) == 2
    assert "ce n'est pas un fichier" in capsys.readouterr().err


def test_tab_separated_text_is_read_by_its_separator(tmp_path):
    path = tmp_path / "engagements_x.csv"
    path.write_bytes(b"partenaire\tannee\nCAF du Nord\t2025\n")
    raw = read_file(path)
    assert raw.separator == "\t" and raw.tables[0].frame["partenaire"].tolist() == ["CAF du Nord"]


def test_old_mac_line_endings_still_count_rows_against_the_limit(tmp_path):
    message = refused(tmp_path / "engagements_x.csv", b"partenaire;annee\r" + b"CAF;2025\r" * 30,
                      limites=Limites(lignes=20))
    assert "plus de 20 lignes" in message


def test_the_settings_limits_reach_the_reader_and_the_cache_key(tmp_path, ctx):
    """The limits a data steward sets in settings.yaml are the ones the staging pass reads with."""
    from dataclasses import replace

    import pytest

    from core.config.settings import Limites
    from core.familles.family import parse_file
    from core.familles.reading import FichierIllisible
    from core.familles.registry import FAMILIES

    path = tmp_path / "engagements_2025.csv"
    path.write_text("partenaire;annee;code_objectif;engagement;indicateur;unite\n"
                    + "".join(f"CAF;2025;OG.1.1;E{i};I;nombre\n" for i in range(5)), encoding="utf-8")
    family = FAMILIES["engagements"]
    assert parse_file(family, path, ctx).rows_read == 5
    strict = replace(ctx, limites=Limites(lignes=3))
    with pytest.raises(FichierIllisible, match="lignes"):
        parse_file(family, path, strict, display_name="engagements_caf.csv")
    assert strict.fingerprint(family) != ctx.fingerprint(family)


def test_a_long_cell_is_refused_for_its_length_naming_the_setting(tmp_path):
    """A 2 MB text cell is longer than the CSV reader's own default cap (131 072 characters): the message names the
    real cause, the limit, its value and the setting, never a quote left open."""
    big = b"partenaire;commentaire\nCAF;" + b"x" * 2_000_000 + b"\n"
    message = refused(tmp_path / "engagements_x.csv", big)
    assert "cellule trop longue" in message and "limite 32767" in message and "limites.longueur_cellule" in message
    assert "guillemet" not in message and "2000000 caractères" in message and "ligne 2" in message
    path = tmp_path / "engagements_ok.csv"
    path.write_bytes(big)
    frame = read_file(path, limites=Limites(longueur_cellule=2_000_000)).tables[0].frame
    assert frame["commentaire"].str.len().tolist() == [2_000_000]      # allowed by the setting: read whole


def test_a_quote_left_open_is_said_with_the_line_it_opens_on(tmp_path):
    text = b'partenaire;commentaire\nCAF;ok\nCPAM;"ouvert\nMSA;suite\nDRAC;fin\n'
    message = refused(tmp_path / "engagements_x.csv", text)
    assert "ouvert à la ligne 3" in message and "jamais refermé" in message
