"""The XLSX annex a reader can use: labels beside codes, French booleans, numbers as rounded, formatted numbers."""

from __future__ import annotations

import openpyxl
import pytest

from core.config.projet import ProjectConfig
from reports.annexe import SECRET_HEADER, UNIT_FORMATS, unit_format


def _decimals(value: float) -> int:
    text = repr(float(value))
    return 0 if text.endswith(".0") else len(text.split(".")[1])


def test_unit_formats_round_to_the_unit():
    assert unit_format(12.0, "nombre") == (0, "#,##0")
    assert unit_format(12.34, "nombre") == (1, "#,##0.0")        # a mean keeps one decimal
    assert unit_format(41.26, "pourcentage") == UNIT_FORMATS["pourcentage"] == (1, "0.0")
    assert unit_format(1234.5, "euros")[0] == 0


@pytest.fixture(scope="module")
def annexe(demo_run_partage):
    return openpyxl.load_workbook(demo_run_partage.sortie / "2025" / "ccco" / "bilan_ccco_2025_annexe.xlsx")


def test_the_demo_annex_is_readable(annexe):
    numeric = 0
    for feuille in ProjectConfig().bilan.annexe:
        sheet_name, columns = feuille.feuille, dict(feuille.colonnes)
        sheet = annexe[sheet_name]
        headers = [c.value for c in sheet[1]]
        if len(headers) == 1:
            continue
        assert sheet.freeze_panes == "A2", sheet_name
        kinds = {h: k for h, k in columns.values()}
        for code in feuille.libelles:
            header = columns[code][0]
            if header in headers:                                  # a label column beside each code column
                assert headers[headers.index(header) + 1] == f"{header} (libellé)", (sheet_name, header)
        for row in sheet.iter_rows(min_row=2):
            for cell, header in zip(row, headers):
                assert not isinstance(cell.value, bool) and cell.value not in ("True", "False"), (sheet_name, header)
                if isinstance(cell.value, (int, float)):
                    numeric += 1
                    assert cell.number_format != "General", (sheet_name, header)
                    shown = cell.number_format.split(".")[1] if "." in cell.number_format else ""
                    allowed = shown.count("0") + (2 if shown.endswith("%") else 0)   # a share: 0.0% is 3 decimals
                    assert _decimals(cell.value) <= allowed, (sheet_name, header, cell.value)
                elif kinds.get(header) not in (None, "t", "b") and cell.value is not None:
                    pytest.fail(f"{sheet_name} / {header} : nombre écrit en texte ({cell.value!r})")
    assert numeric > 500


def test_labels_and_booleans_in_french(annexe):
    programmation = list(annexe["Programmation"].iter_rows(values_only=True))
    headers = programmation[0]
    statut = headers.index("Statut (libellé)")
    assert {"accordé"} <= {r[statut] for r in programmation[1:]}
    nature = headers.index("Nature (libellé)")
    assert "droit commun" in {r[nature] for r in programmation[1:]}
    mesures = list(annexe["Mesures"].iter_rows(values_only=True))
    libelle = mesures[0].index("Code de mesure (libellé)")
    assert all(r[libelle] for r in mesures[1:])                     # every measure code has its label
    engagements = list(annexe["Engagements"].iter_rows(values_only=True))
    flag = engagements[0].index("Non renseigné")
    assert {r[flag] for r in engagements[1:]} <= {"oui", "non"}


def test_cohort_counts_are_numbers_and_secrecy_is_said_apart(annexe):
    rows = list(annexe["Cohortes"].iter_rows(values_only=True))
    headers = rows[0]
    attendus, observes, secret = (headers.index(h) for h in ("Attendus", "Observés", SECRET_HEADER))
    assert all(r[attendus] is None or isinstance(r[attendus], int) for r in rows[1:])
    assert any(isinstance(r[observes], int) for r in rows[1:])
    hidden = [r for r in rows[1:] if r[attendus] is None]
    assert hidden and all("Attendus : " in (r[secret] or "") for r in hidden)
    assert {"Entrée", "12 mois"} <= {r[headers.index("Jalon (libellé)")] for r in rows[1:]}
