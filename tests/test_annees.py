"""`bilan run` skips a year whose inputs are, territory by territory, those of the last run that made it
(pipelines/annees.py): what changes a territory's fingerprint, and what a run of the year does to the records."""

from __future__ import annotations

import os
import shutil

import duckdb

from core.config.base import PROJECT_ROOT
from core.portee import NATIONALE, Portee
from core.reprise import forget_year, record_year, year_unchanged
from core.resources import BilanSettings
from pipelines.annees import Empreinte, changes, outputs_fingerprint, year_fingerprint
from tests.conftest import config_copy

EXEMPLE = PROJECT_ROOT / "config" / "exemples" / "caph"


def _setup(tmp_path):
    config = config_copy(tmp_path)
    for folder in ("territoires", "referentiels"):   # a second territory beside the demo's
        shutil.copy(EXEMPLE / folder / "caph.yaml", config.dir / folder / "caph.yaml")
    for year in (2024, 2025):
        inbox = tmp_path / "d" / "inbox" / "ccco" / str(year)
        inbox.mkdir(parents=True)
        (inbox / f"engagements_{year}.csv").write_text("partenaire;annee\nCAF;2024\n", encoding="utf-8")
    return BilanSettings(racine_donnees=str(tmp_path / "d"), sortie=str(tmp_path / "s"), dossier_config=str(config.dir))


def test_an_earlier_years_fingerprint_follows_its_files_the_configuration_and_the_key(tmp_path, monkeypatch):
    parametres = _setup(tmp_path)
    first = year_fingerprint(parametres, 2024, NATIONALE)
    assert set(first) == set(parametres.config.territoires) and "caph" in first
    assert year_fingerprint(parametres, 2024, NATIONALE) == first
    # a territory's fingerprint is the same whichever run asks: a national pass's record serves a territory's run
    assert year_fingerprint(parametres, 2024, Portee(("ccco",))) == {"ccco": first["ccco"]}

    later = parametres.data_root / "inbox" / "ccco" / "2025" / "engagements_2025.csv"
    later.write_text("partenaire;annee\nCAF;2025\n", encoding="utf-8")
    assert year_fingerprint(parametres, 2024, NATIONALE) == first                   # a later year's file: no
    assert year_fingerprint(parametres, 2025, NATIONALE) != year_fingerprint(parametres, 2024, NATIONALE)

    own = parametres.data_root / "inbox" / "ccco" / "2024" / "engagements_2024.csv"
    os.utime(own, ns=(own.stat().st_atime_ns, own.stat().st_mtime_ns + 1_000_000))
    touched = year_fingerprint(parametres, 2024, NATIONALE)
    assert touched["ccco"] != first["ccco"]                                        # its own file: yes
    assert touched["caph"] == first["caph"]                                        # another territory's: no

    settings = parametres.config.dir / "settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "\n# relu\n", encoding="utf-8")
    configured = year_fingerprint(parametres, 2024, NATIONALE)
    assert all(configured[t] != touched[t] for t in configured)                    # the configuration: yes

    monkeypatch.setenv("BILAN_CLE_PSEUDONYMISATION", "une-autre-cle-de-pseudonymisation-assez-longue")
    keyed = year_fingerprint(parametres, 2024, NATIONALE)
    assert all(keyed[t] != configured[t] for t in keyed)                           # the key: yes


def test_a_territorys_record_holds_whichever_run_made_it_until_a_run_of_that_territory_forgets_it():
    con = duckdb.connect()
    caph = Portee(("caph",))
    record_year(con, 2024, NATIONALE, {"ccco": "a", "caph": "b"}, "run-1")
    assert year_unchanged(con, 2024, {"ccco": "a", "caph": "b"}) == "run-1"
    assert year_unchanged(con, 2024, {"ccco": "a"}) == "run-1"                     # the national pass serves ccco's run
    assert year_unchanged(con, 2024, {"ccco": "a", "caph": "x"}) is None
    assert year_unchanged(con, 2024, {"ccco": "a", "autre": "a"}) is None          # a territory never run
    assert year_unchanged(con, 2024, {}) is None
    record_year(con, 2024, caph, {"caph": "x"}, "run-2")                           # a scoped run: its territory only
    assert year_unchanged(con, 2024, {"ccco": "a", "caph": "x"}) == "run-2"
    forget_year(con, 2024, caph)                                                   # the first step of caph's run
    assert year_unchanged(con, 2024, {"ccco": "a"}) == "run-1"
    assert year_unchanged(con, 2024, {"caph": "x"}) is None
    forget_year(con, 2024)                                                         # the first step of a national run
    assert year_unchanged(con, 2024, {"ccco": "a"}) is None


def test_a_record_written_before_territories_is_read_as_no_record():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA journal; CREATE TABLE journal.annees (annee INTEGER, portee VARCHAR, "
                "empreinte VARCHAR, run_id VARCHAR, le TIMESTAMP)")
    con.execute("INSERT INTO journal.annees VALUES (2024, '*', 'a', 'run-0', now())")
    assert year_unchanged(con, 2024, {"ccco": "a"}) is None
    record_year(con, 2024, NATIONALE, {"ccco": "a"}, "run-1")
    assert con.execute("SELECT territoire, run_id FROM journal.annees").fetchall() == [("ccco", "run-1")]


def test_the_requested_years_fingerprint_follows_what_it_published(tmp_path):
    """The requested year is not run again when its inputs and what its last run published are unchanged: a bilan
    removed or touched since makes its territory's year run again; another territory's does not."""
    parametres = _setup(tmp_path)
    published = parametres.output_dir / "2025" / "ccco"
    published.mkdir(parents=True)
    (published / "bilan_ccco_2025.pdf").write_bytes(b"%PDF-1.7")
    other = parametres.output_dir / "2025" / "caph"
    other.mkdir()
    (other / "bilan_caph_2025.pdf").write_bytes(b"%PDF-1.7")
    ccco = Portee(("ccco",))
    first = outputs_fingerprint(parametres, 2025, ccco)
    assert list(first) == ["ccco"]
    national = outputs_fingerprint(parametres, 2025, NATIONALE)
    assert national["ccco"] == first["ccco"]
    (other / "bilan_caph_2025.pdf").write_bytes(b"%PDF-1.7 autre")
    assert outputs_fingerprint(parametres, 2025, ccco) == first                      # another territory's: no
    assert outputs_fingerprint(parametres, 2025, NATIONALE)["caph"] != national["caph"]
    (published / "bilan_ccco_2025.pdf").unlink()
    assert outputs_fingerprint(parametres, 2025, ccco) != first                      # its own bilan: yes


def test_what_changed_in_a_territorys_year_names_the_families_to_run_again(tmp_path):
    parametres = _setup(tmp_path)
    inbox = parametres.data_root / "inbox" / "ccco"
    (inbox / "2025" / "tfpb_bailleur_2025.csv").write_text("bailleur\nNorévie\n", encoding="utf-8")
    last = year_fingerprint(parametres, 2025, NATIONALE)["ccco"].avec_sorties("publie")
    assert changes(last.texte(), last) == set()
    engagements = inbox / "2025" / "engagements_2025.csv"
    engagements.write_text("partenaire;annee\nCAF;2026\n", encoding="utf-8")
    now = year_fingerprint(parametres, 2025, NATIONALE)["ccco"]
    assert changes(last.texte(), now.avec_sorties("publie")) == {"engagements"}
    assert changes(last.texte(), now.avec_sorties("retouche")) == {"engagements", "bilan"}
    (inbox / "2025" / "notes_du_comite.txt").write_text("?", encoding="utf-8")          # a file of no family
    assert changes(last.texte(), year_fingerprint(parametres, 2025, NATIONALE)["ccco"].avec_sorties("publie")) is None
    (inbox / "2025" / "notes_du_comite.txt").unlink()
    (inbox / "2024" / "engagements_2024.csv").write_text("partenaire;annee\nCAF;2023\n", encoding="utf-8")
    assert changes(last.texte(), year_fingerprint(parametres, 2025, NATIONALE)["ccco"]) is None   # an earlier year
    assert changes("empreinte d'avant", now) is None                                              # an older record


def test_a_run_after_one_familys_files_changed_selects_what_depends_on_them(capsys):
    from dagster import AssetKey

    from pipelines.cli import _stale
    from pipelines.definitions import WITHOUT_BILAN

    before = Empreinte("c", "a", (("engagements", "1"), ("tfpb", "2")), "s")
    after = Empreinte("c", "a", (("engagements", "9"), ("tfpb", "2")), "s")
    records = {"ccco": (before.texte(), "run-1"), "caph": (before.texte(), "run-1")}
    keys = _stale(records, {"ccco": after, "caph": before}, None, 2025)
    paths = {k.to_user_string() for k in keys}
    assert {"sources/engagements", "staging/engagements", "marts/engagements", "marts/mesures_rejets",
            "referentiel/referentiel", "publication/tableaux", "bilan/bilan"} <= paths
    assert not paths & {"sources/tfpb", "staging/tfpb", "marts/tfpb", "staging/programmation", "marts/indicateurs"}
    assert "seuls ont changé engagements" in capsys.readouterr().out
    # the data pass without its bilans keeps within its own selection
    assert AssetKey(["bilan", "bilan"]) not in _stale(records, {"ccco": after, "caph": before}, WITHOUT_BILAN, 2025)
    # only a bilan touched by hand: the bilan's assets alone
    touched = {"ccco": Empreinte("c", "a", before.familles, "autre"), "caph": before}
    assert {k.path[0] for k in _stale(records, touched, None, 2025)} == {"bilan"}
    # a territory never run, or whose configuration changed: everything
    assert _stale({"ccco": records["ccco"]}, {"ccco": after, "caph": before}, None, 2025) is None
    assert _stale(records, {"ccco": Empreinte("autre", "a", before.familles, "s"), "caph": before}, None, 2025) is None


def test_a_family_pulled_from_an_address_is_never_taken_as_unchanged(tmp_path):
    """A file downloaded at each run may have changed at its address: its family runs again every time."""
    config = config_copy(tmp_path, {"territoires/ccco.yaml": ("sources_http: []", (
        "sources_http:\n- famille: indicateurs\n  url: https://donnees.example.org/indicateurs.csv\n"
        "  nom_fichier: indicateurs_observatoire.csv\n  annees: [2025]"))})
    parametres = BilanSettings(racine_donnees=str(tmp_path / "d"), sortie=str(tmp_path / "s"),
                               dossier_config=str(config.dir))
    first = year_fingerprint(parametres, 2025, NATIONALE)["ccco"]
    assert changes(first.texte(), year_fingerprint(parametres, 2025, NATIONALE)["ccco"]) == {"indicateurs"}
    assert year_fingerprint(parametres, 2024, NATIONALE) == year_fingerprint(parametres, 2024, NATIONALE)
    later = year_fingerprint(parametres, 2026, NATIONALE)["ccco"]           # a later year, fed by the 2025 download
    assert changes(later.texte(), year_fingerprint(parametres, 2026, NATIONALE)["ccco"]) is None
