"""Territory-scoped runs (issue 32, item 1): a run tagged `bilan/territoires` reads and writes its territories only.
CCCO and La Porte du Hainaut share a warehouse; a corrected CAPH file is run for CAPH alone, and every CCCO row and
file is left as it was, byte for byte."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from assets.marts.sql import run_script, scoped
from core.config.base import PROJECT_ROOT
from core.portee import TAG, Portee, PorteeInvalide, of_tags, parse
from core.resources import BilanSettings, warehouse
from pipelines.definitions import ALL_ASSETS
from pipelines.sensors import scan
from tests.conftest import config_copy
from tests.test_caph import caph_beside_ccco

EXEMPLE = PROJECT_ROOT / "config" / "exemples" / "caph"
SCHEMAS = ("archive", "staging", "quarantine", "marts", "referentiel", "publication", "journal")


# --- the scope itself -------------------------------------------------------------------------------------------


def test_a_scope_is_read_from_the_run_tag_and_checked_against_the_configured_territories():
    assert of_tags({}).national and of_tags({TAG: "*"}).national
    assert of_tags({TAG: " caph, ccco ,caph"}, ["ccco", "caph"]).territoires == ("caph", "ccco")
    assert parse(["ccco", "caph,ccco"]).key == "caph,ccco"
    with pytest.raises(PorteeInvalide, match="territoire « cccp » non configuré .*territoires : caph, ccco"):
        parse("cccp", ["ccco", "caph"])
    with pytest.raises(PorteeInvalide, match="n'est pas un code de territoire"):
        parse("ccco'); DROP TABLE x; --")


def test_a_scoped_script_replaces_its_territories_rows_and_refuses_any_other_write(tmp_path):
    caph = Portee(("caph",))
    assert scoped("DELETE FROM marts.t WHERE annee = $annee", caph) == \
        "DELETE FROM marts.t WHERE annee = $annee AND territoire IN ('caph')"
    with pytest.raises(ValueError, match="écriture dans marts.t"):
        scoped("UPDATE marts.t SET v = 0", caph)
    assert scoped("UPDATE _temporaire SET v = 0", caph) == "UPDATE _temporaire SET v = 0"

    (tmp_path / "m.sql").write_text(
        "CREATE OR REPLACE TEMP VIEW _s AS SELECT territoire, sum(v) AS v FROM staging.s WHERE annee = $annee "
        "GROUP BY ALL;\nDELETE FROM marts.t WHERE annee = $annee;\n"
        "INSERT INTO marts.t BY NAME\nWITH x AS (SELECT * FROM _s)\nSELECT territoire, $annee AS annee, v FROM x;\n")
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging; CREATE SCHEMA marts; CREATE TABLE staging.s (territoire VARCHAR, annee INT, "
                "v INT); CREATE TABLE marts.t (territoire VARCHAR, annee INT, v INT)")
    con.execute("INSERT INTO staging.s VALUES ('ccco', 2025, 1), ('caph', 2025, 2)")
    run_script(con, "m.sql", 2025, folder=tmp_path)
    con.execute("UPDATE staging.s SET v = v * 10")
    run_script(con, "m.sql", 2025, folder=tmp_path, portee=caph)
    assert con.execute("SELECT * FROM marts.t ORDER BY territoire").fetchall() == [("caph", 2025, 20),
                                                                                  ("ccco", 2025, 1)]


def test_the_inbox_sensor_asks_for_the_territories_whose_files_changed(tmp_path):
    config = config_copy(tmp_path)
    shutil.copy(EXEMPLE / "territoires" / "caph.yaml", config.dir / "territoires" / "caph.yaml")
    shutil.copy(EXEMPLE / "referentiels" / "caph.yaml", config.dir / "referentiels" / "caph.yaml")
    parametres = BilanSettings(racine_donnees=str(tmp_path / "d"), dossier_config=str(config.dir))
    files = {}
    for code in ("ccco", "caph"):
        inbox = tmp_path / "d" / "inbox" / code / "2025"
        inbox.mkdir(parents=True)
        files[code] = inbox / f"engagements_{code}.csv"
        files[code].write_text("partenaire;annee\nCAF;2025\n")
    t0 = max(f.stat().st_mtime for f in files.values())
    runs, cursor, _ = scan(parametres, {}, t0 + 1)
    runs, cursor, _ = scan(parametres, cursor, t0 + 90)
    assert [(r.partition_key, r.tags.get(TAG)) for r in runs] == [("2025", None)]    # both new: one national run

    files["caph"].write_text("partenaire;annee\nCAF;2025\nCAF;2025\n")
    os.utime(files["caph"], (t0 + 100, t0 + 100))
    runs, cursor, waiting = scan(parametres, cursor, t0 + 110)
    assert runs == [] and waiting == ["caph/2025/engagements_caph.csv"]
    runs, cursor, _ = scan(parametres, cursor, t0 + 300)
    assert [(r.partition_key, r.tags.get(TAG)) for r in runs] == [("2025", "caph")]
    assert scan(parametres, cursor, t0 + 400)[0] == []


# --- a scoped run beside a national one ---------------------------------------------------------------------------


def _rows_of(con: duckdb.DuckDBPyConnection, territoire: str) -> dict[str, list]:
    """Every row of `territoire` in every warehouse table that has territories, sorted."""
    tables = con.execute("SELECT table_schema, table_name FROM information_schema.columns WHERE column_name = "
                         "'territoire' AND table_schema IN (SELECT unnest(?::VARCHAR[])) ORDER BY ALL",
                         [list(SCHEMAS)]).fetchall()
    return {f"{s}.{t}": sorted(map(repr, con.execute(f"SELECT * FROM {s}.{t} WHERE territoire = ?",
                                                     [territoire]).fetchall())) for s, t in tables}


def _files_of(sortie: Path, territoire: str) -> dict[str, tuple[str, int]]:
    """Each output file of the territory: its content hash and modification time."""
    found = [p for folder in (sortie / "2025" / territoire, sortie / "2025" / "retours" / territoire)
             for p in folder.rglob("*") if p.is_file()]
    return {str(p.relative_to(sortie)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in found}


@pytest.fixture(scope="module")
def deux_territoires(tmp_path_factory):
    parametres = caph_beside_ccco(tmp_path_factory.mktemp("portee"))
    instance = DagsterInstance.ephemeral()

    def run(tags: dict | None = None):
        return materialize(ALL_ASSETS, partition_key="2025", instance=instance, tags=tags or {},
                           resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)},
                           raise_on_error=False)

    assert run().success
    return parametres, run


def test_a_run_scoped_to_one_territory_leaves_every_other_territory_byte_identical(deux_territoires):
    parametres, run = deux_territoires
    sortie = parametres.output_dir
    with duckdb.connect(str(parametres.warehouse_path), read_only=True) as con:
        ccco_rows, caph_before = _rows_of(con, "ccco"), _rows_of(con, "caph")
        granted = con.execute("SELECT valeur FROM publication.mesures WHERE territoire = 'caph' AND annee = 2025 AND "
                              "code_mesure = 'prog.montant_accorde' AND perimetre = 'territoire' AND cle IS NULL"
                              ).fetchone()[0]
    ccco_files, caph_files = _files_of(sortie, "ccco"), _files_of(sortie, "caph")
    assert any(name.endswith("bilan_ccco_2025.html") for name in ccco_files)
    assert any("retours/ccco/" in name for name in ccco_files)

    # CAPH's steward corrects its programming (C001's BOP 147 line granted 12 000 → 13 000)
    prog = Path(parametres.racine_donnees) / "inbox" / "caph" / "2025" / "programmation_2025_caph.csv"
    text = prog.read_text(encoding="utf-8")
    assert text.count(",12000,12000,accorde") == 1
    prog.write_text(text.replace(",12000,12000,accorde", ",12000,13000,accorde"), encoding="utf-8")
    # the CCCO inbox also changes, unseen by a run scoped to CAPH
    (Path(parametres.racine_donnees) / "inbox" / "ccco" / "2025" / "tfpb_nouveau_bailleur.csv").write_text("x;y\n")

    result = run({TAG: "caph"})
    assert result.success
    with duckdb.connect(str(parametres.warehouse_path), read_only=True) as con:
        assert _rows_of(con, "ccco") == ccco_rows
        caph_after = _rows_of(con, "caph")
        regranted = con.execute("SELECT valeur FROM publication.mesures WHERE territoire = 'caph' AND annee = 2025 "
                                "AND code_mesure = 'prog.montant_accorde' AND perimetre = 'territoire' AND cle IS NULL"
                                ).fetchone()[0]
        unseen = con.execute("SELECT count(*) FROM archive.depots WHERE nom_fichier = 'tfpb_nouveau_bailleur.csv'"
                             ).fetchone()[0]
    assert _files_of(sortie, "ccco") == ccco_files
    assert regranted == pytest.approx(granted + 1000)
    assert caph_after["staging.programmation"] != caph_before["staging.programmation"]
    assert unseen == 0
    # CAPH's bilan and its programming workbook are published again, with the corrected figure
    caph_now = _files_of(sortie, "caph")
    html = "2025/caph/bilan_caph_2025.html"
    assert caph_now[html][0] != caph_files[html][0]
    assert set(caph_now) == set(caph_files)


def test_a_run_scoped_to_an_unknown_territory_stops_before_any_step_with_a_french_message(deux_territoires):
    _, run = deux_territoires
    result = run({TAG: "cccp"})
    assert not result.success
    messages = " ".join(str(getattr(e.event_specific_data, "error", "") or "") for e in result.all_events)
    assert "territoire « cccp » non configuré" in messages



def test_bilan_run_refuses_a_territory_that_is_not_configured(capsys, tmp_path):
    from pipelines.cli import main

    code = main(["run", "--annee", "2025", "--territoire", "cccp", "--sortie", str(tmp_path / "sortie")])
    assert code == 2
    assert "--territoire : portée du run : territoire « cccp » non configuré (territoires : ccco" in \
        capsys.readouterr().err
