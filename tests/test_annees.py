"""`bilan run` skips an earlier year whose inputs are those of its last run for the same scope
(pipelines/annees.py): what changes the fingerprint, and what a run of the year from anywhere does to the record."""

from __future__ import annotations

import os

import duckdb

from core.portee import NATIONALE, Portee
from core.reprise import forget_year, record_year, year_unchanged
from core.resources import BilanSettings
from pipelines.annees import outputs_fingerprint, year_fingerprint
from tests.conftest import config_copy


def _setup(tmp_path):
    config = config_copy(tmp_path)
    for year in (2024, 2025):
        inbox = tmp_path / "d" / "inbox" / "ccco" / str(year)
        inbox.mkdir(parents=True)
        (inbox / f"engagements_{year}.csv").write_text("partenaire;annee\nCAF;2024\n", encoding="utf-8")
    return BilanSettings(racine_donnees=str(tmp_path / "d"), sortie=str(tmp_path / "s"), dossier_config=str(config.dir))


def test_an_earlier_years_fingerprint_follows_its_files_the_configuration_and_the_key(tmp_path, monkeypatch):
    parametres = _setup(tmp_path)
    first = year_fingerprint(parametres, 2024, NATIONALE)
    assert year_fingerprint(parametres, 2024, NATIONALE) == first
    assert year_fingerprint(parametres, 2024, Portee(("ccco",))) != first          # another scope, another record

    later = parametres.data_root / "inbox" / "ccco" / "2025" / "engagements_2025.csv"
    later.write_text("partenaire;annee\nCAF;2025\n", encoding="utf-8")
    assert year_fingerprint(parametres, 2024, NATIONALE) == first                   # a later year's file: no
    assert year_fingerprint(parametres, 2025, NATIONALE) != year_fingerprint(parametres, 2024, NATIONALE)

    own = parametres.data_root / "inbox" / "ccco" / "2024" / "engagements_2024.csv"
    os.utime(own, ns=(own.stat().st_atime_ns, own.stat().st_mtime_ns + 1_000_000))
    touched = year_fingerprint(parametres, 2024, NATIONALE)
    assert touched != first                                                        # its own file: yes

    settings = parametres.config.dir / "settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "\n# relu\n", encoding="utf-8")
    configured = year_fingerprint(parametres, 2024, NATIONALE)
    assert configured != touched                                                   # the configuration: yes

    monkeypatch.setenv("BILAN_CLE_PSEUDONYMISATION", "une-autre-cle-de-pseudonymisation-assez-longue")
    assert year_fingerprint(parametres, 2024, NATIONALE) != configured              # the key: yes


def test_a_record_holds_for_its_scope_until_any_run_of_the_year_forgets_it():
    con = duckdb.connect()
    caph = Portee(("caph",))
    record_year(con, 2024, NATIONALE, "abc", "run-1")
    assert year_unchanged(con, 2024, NATIONALE, "abc") == "run-1"
    assert year_unchanged(con, 2024, NATIONALE, "abd") is None
    assert year_unchanged(con, 2024, caph, "abc") is None
    record_year(con, 2024, caph, "xyz", "run-2")                                   # a scoped run replaces it
    assert year_unchanged(con, 2024, NATIONALE, "abc") is None
    assert year_unchanged(con, 2024, caph, "xyz") == "run-2"
    forget_year(con, 2024)                                                         # the first step of any run
    assert year_unchanged(con, 2024, caph, "xyz") is None


def test_the_requested_years_fingerprint_follows_what_it_published(tmp_path):
    """The requested year is not run again when its inputs and what its last run published are unchanged: a bilan
    removed or touched since, in the scope's territories, makes it run again; another territory's does not."""
    parametres = _setup(tmp_path)
    published = parametres.output_dir / "2025" / "ccco"
    published.mkdir(parents=True)
    (published / "bilan_ccco_2025.pdf").write_bytes(b"%PDF-1.7")
    other = parametres.output_dir / "2025" / "caph"
    other.mkdir()
    (other / "bilan_caph_2025.pdf").write_bytes(b"%PDF-1.7")
    ccco = Portee(("ccco",))
    first = outputs_fingerprint(parametres, 2025, ccco)
    (other / "bilan_caph_2025.pdf").write_bytes(b"%PDF-1.7 autre")
    assert outputs_fingerprint(parametres, 2025, ccco) == first                      # another territory's: no
    (published / "bilan_ccco_2025.pdf").unlink()
    assert outputs_fingerprint(parametres, 2025, ccco) != first                      # its own bilan: yes
