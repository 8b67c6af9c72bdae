"""A second contract beside CCCO (issue 31, items 6–8): La Porte du Hainaut as the README's worked example
configures it (config/exemples/caph/), with a small synthetic inbox (tests/fixtures/caph/). Its poches de pauvreté
are targeted by programming rows and an indicator, and reported apart from the QPV; its transversal axes count each
dossier once per axis and once in their total. The figures below are computed by hand from the fixture files."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from core.config.base import PROJECT_ROOT
from core.resources import BilanSettings, warehouse
from pipelines.definitions import ALL_ASSETS
from tests.conftest import DEMO_DATA, config_copy

EXEMPLE = PROJECT_ROOT / "config" / "exemples" / "caph"
INBOX = PROJECT_ROOT / "tests" / "fixtures" / "caph" / "inbox" / "caph" / "2025"

# QPV populations of the example (config/exemples/caph/territoires/caph.yaml) the dossiers name
SCHNEIDER, ESCAUDAIN_POCHE = 2270, 1000
# granted money per dossier (programmation_2025_caph.csv): C001 20 000 (QN05950M), C002 15 000 (TOUS), C003
# 10 000 (Schneider + the Escaudain poche), C004 7 000 (the Haveluy poche alone), C005 7 000, C007 15 000; C006 is
# refused, C008 (T9) and C009 (PP-DENAIN) are quarantined
C003_QPV = 10_000 * SCHNEIDER / (SCHNEIDER + ESCAUDAIN_POCHE)
C003_POCHE = 10_000 * ESCAUDAIN_POCHE / (SCHNEIDER + ESCAUDAIN_POCHE)
QPV_TOTAL = 20_000 + 15_000 + C003_QPV + 7_000 + 15_000


@dataclass
class CaphRun:
    sortie: Path
    con: duckdb.DuckDBPyConnection

    def mesure(self, code: str, cle: str | None = None, perimetre: str = "territoire",
               territoire: str = "caph") -> float | None:
        row = self.con.execute("SELECT valeur FROM publication.mesures WHERE territoire = ? AND annee = 2025 AND "
                               "code_mesure = ? AND perimetre = ? AND cle IS NOT DISTINCT FROM ?",
                               [territoire, code, perimetre, cle]).fetchone()
        return None if row is None else row[0]

    def html(self, territoire: str) -> str:
        return (self.sortie / "2025" / territoire / f"bilan_{territoire}_2025.html").read_text(encoding="utf-8")


def caph_beside_ccco(root: Path) -> BilanSettings:
    """A deployment of two contracts in `root`: CAPH as its example configures it, with the fixture inbox, and
    CCCO with the demo's programming files only (PDF off)."""
    config = config_copy(root)
    shutil.copy(EXEMPLE / "territoires" / "caph.yaml", config.dir / "territoires" / "caph.yaml")
    shutil.copy(EXEMPLE / "referentiels" / "caph.yaml", config.dir / "referentiels" / "caph.yaml")
    donnees = root / "donnees"
    shutil.copytree(INBOX, donnees / "inbox" / "caph" / "2025")
    shutil.copytree(INBOX.parents[2] / "contours", donnees / "contours")
    ccco = donnees / "inbox" / "ccco" / "2025"
    ccco.mkdir(parents=True)
    for f in (DEMO_DATA / "inbox" / "ccco" / "2025").glob("programmation_*"):
        shutil.copy(f, ccco / f.name)
    return BilanSettings(racine_donnees=str(donnees), sortie=str(root / "sortie"), dossier_config=str(config.dir),
                         pdf=False)


@pytest.fixture(scope="module")
def caph_run(tmp_path_factory) -> CaphRun:
    root = tmp_path_factory.mktemp("caph")
    parametres = caph_beside_ccco(root)
    result = materialize(ALL_ASSETS, partition_key="2025", instance=DagsterInstance.ephemeral(),
                         resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)})
    assert result.success
    con = duckdb.connect(str(parametres.warehouse_path), read_only=True)
    yield CaphRun(sortie=root / "sortie", con=con)
    con.close()


def test_the_rows_naming_an_unknown_poche_or_transversal_axis_are_quarantined_in_french(caph_run):
    errors = caph_run.con.execute("SELECT fichier, ligne, colonne, regle, message FROM publication.erreurs WHERE "
                                  "territoire = 'caph' ORDER BY fichier, ligne").fetchall()
    assert [(f, ligne, c, r) for f, ligne, c, r, _ in errors] == [
        ("indicateurs_2025_caph.csv", 6, "code_geo", "hors_territoire"),
        ("programmation_2025_caph.csv", 12, "axes_transversaux", "transversal_inconnu"),
        ("programmation_2025_caph.csv", 13, "qpv_cibles", "qpv_inconnu")]
    messages = [m for *_, m in errors]
    assert "« PP-XXX » n'est pas un quartier de la géographie complémentaire du territoire caph" in messages[0]
    assert "« T9 » : axe(s) transversal(aux) inconnu(s) du référentiel (déclarés : T1, T2, T3, T4, T5, T6)" \
        in messages[1]
    assert "« PP-DENAIN » n'est pas un QPV ni un quartier de la géographie complémentaire" in messages[2]


def test_the_complementary_geography_is_outside_every_qpv_total(caph_run):
    assert caph_run.mesure("prog.montant_accorde") == pytest.approx(QPV_TOTAL)
    qpv_sum = caph_run.con.execute("SELECT sum(valeur) FROM publication.mesures WHERE territoire = 'caph' AND "
                                   "annee = 2025 AND code_mesure = 'prog.montant_accorde' AND cle IS NULL AND "
                                   "perimetre <> 'territoire'").fetchone()[0]
    assert qpv_sum == pytest.approx(QPV_TOTAL)               # the QPV add up to the total, no poche inside
    assert caph_run.mesure("prog.dossiers_accordes") == 5    # C004 went to a poche alone: not a QPV dossier
    assert caph_run.mesure("prog.montant_complementaire") == pytest.approx(C003_POCHE + 7_000)
    assert caph_run.mesure("prog.montant_complementaire", "PP-HAVELUY") == pytest.approx(7_000)
    assert caph_run.mesure("prog.montant_complementaire", "PP-ESCAUDAIN") == pytest.approx(C003_POCHE)
    assert caph_run.mesure("prog.dossiers_complementaire") == 2
    assert caph_run.mesure("prog.montant_bop147_complementaire") == pytest.approx(C003_POCHE + 2_000)
    assert caph_run.mesure("prog.population_complementaire", "PP-MORTAGNE") == 1000
    # a local indicator of a poche reaches its own perimeter, and the referential that cites it
    assert caph_run.mesure("indicateur.taux_pauvrete", perimetre="PP-HAVELUY") == pytest.approx(36.2)
    assert caph_run.mesure("indicateur.taux_pauvrete") == pytest.approx(44.1)   # the EPCI's QPV row, not the poche
    assert caph_run.con.execute("SELECT valeur FROM publication.referentiel WHERE territoire = 'caph' AND annee = "
                                "2025 AND code_indicateur = 'I3.2'").fetchone()[0] == pytest.approx(36.2)


def test_each_dossier_counts_once_per_transversal_axis_and_once_in_their_total(caph_run):
    by_axis = {k: caph_run.mesure("prog.dossiers_transversal", k) for k in ("T1", "T2", "T3", "T4", "T5", "T6")}
    # T1: C002 by its own tag (C004's T1 went to a poche); T2: C003's tag; T3: C002 by its objective OG.2.1;
    # T4: C005's tag; T5: C001 by OG.1.1; T6: C003 and C007 by OG.3.1, C005 by OG.5.1
    assert by_axis == {"T1": 1, "T2": 1, "T3": 1, "T4": 1, "T5": 1, "T6": 3}
    assert caph_run.mesure("prog.montant_transversal", "T6") == pytest.approx(C003_QPV + 15_000 + 7_000)
    assert caph_run.mesure("prog.montant_transversal", "T2") == pytest.approx(C003_QPV)
    assert caph_run.mesure("prog.dossiers_transversal") == 5                   # not the 8 of the rows
    assert caph_run.mesure("prog.montant_transversal") == pytest.approx(QPV_TOTAL)
    axes_sum = sum(caph_run.mesure("prog.montant_transversal", k) or 0 for k in by_axis)
    assert axes_sum > QPV_TOTAL                                                 # why the rows are not added up


def test_the_bilan_of_la_porte_du_hainaut_reports_its_poches_and_transversal_axes(caph_run):
    html = caph_run.html("caph")
    assert "La géographie complémentaire du contrat" in html and "Les axes transversaux" in html
    assert "Haveluy — Centre et cités" in html and "poche de pauvreté" in html
    assert "aucun n'est compris dans les totaux des QPV" in html
    assert "Encourager la participation citoyenne" in html and "les lignes ne s'additionnent pas" in html
    assert "10 058 €" in html.replace("\u202f", " ").replace("\xa0", " ")      # C003's poche share + C004
    # the outline deposited for Haveluy is drawn beside the QPV, with a legend that tells them apart
    section = html.split("La géographie complémentaire du contrat</h2>", 1)[1]
    assert "La géographie complémentaire et les QPV" in section and "<svg" in section.split("<table", 1)[0]
    assert "Contour non tracé" not in section
    # CCCO declares neither: its bilan has no such section
    ccco = caph_run.html("ccco")
    assert "Les axes transversaux" not in ccco and "géographie complémentaire du contrat" not in ccco
