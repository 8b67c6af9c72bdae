"""The content-addressed archive: the same file twice is stored once; a changed file is a new version."""

from __future__ import annotations

from pathlib import Path

import duckdb

from assets.sources import active_deposits, collect, record


def test_versions_and_deduplication(tmp_path, config):
    territoire = config.territoire("ccco")
    inbox = tmp_path / "inbox" / "ccco" / "2025"
    inbox.mkdir(parents=True)
    (inbox / "engagements_caf.csv").write_text("a;b\n1;2\n")
    (inbox / "engagements_caf_copie.csv").write_text("a;b\n1;2\n")
    (inbox / "~$engagements_caf.xlsx").write_text("lock")   # office lock file: not a deposit
    (inbox / "notes.txt").write_text("unknown family")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))

    def run(run_id):
        return record(con, "engagements", 2025, collect("engagements", 2025, [territoire], tmp_path,
                                                        tmp_path / "archive"), run_id)

    first = run("r1")
    assert [(d.nom_fichier, d.version, d.nouveau) for d in first] == [
        ("engagements_caf.csv", 1, True), ("engagements_caf_copie.csv", 1, True)]
    assert len(list((tmp_path / "archive").rglob("*.csv"))) == 1  # same content stored once
    assert not any(d.nouveau for d in run("r2"))                 # nothing new the second time
    (inbox / "engagements_caf.csv").write_text("a;b\n1;3\n")
    third = run("r3")
    assert [(d.nom_fichier, d.version, d.nouveau) for d in third][0] == ("engagements_caf.csv", 2, True)
    versions = con.execute("SELECT version, actif FROM archive.depots WHERE nom_fichier = 'engagements_caf.csv' "
                           "ORDER BY version").fetchall()
    assert versions == [(1, False), (2, True)]                  # both versions recorded, the new one active
    (inbox / "engagements_caf_copie.csv").unlink()
    run("r4")
    assert [d["nom_fichier"] for d in active_deposits(con, "engagements", 2025)] == ["engagements_caf.csv"]


def test_http_source_goes_through_the_same_path(tmp_path, config):
    """A family pulled from an HTTP address is archived and versioned like a dropped file; a failed download
    keeps the last archived version active and the run goes on."""
    import http.server
    import threading

    from core.config.territoire import SourceHttp

    served = {"body": b"code_indicateur,niveau_geo\ntaux_pauvrete,epci\n"}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/indicateurs.csv":
                self.send_error(404)
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(served["body"])

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/indicateurs.csv"
        territoire = config.territoire("ccco").model_copy(update={"sources_http": [
            SourceHttp(famille="indicateurs", url=url, nom_fichier="indicateurs_open_data.csv")]})
        con = duckdb.connect(str(tmp_path / "w.duckdb"))
        messages = []

        def run(run_id):
            return record(con, "indicateurs", 2025, collect("indicateurs", 2025, [territoire], tmp_path,
                                                            tmp_path / "archive", log=messages.append), run_id)

        first = run("r1")
        assert [(d.nom_fichier, d.version, d.origine) for d in first] == [("indicateurs_open_data.csv", 1, url)]
        served["body"] += b"taux_pauvrete,qpv\n"
        assert run("r2")[0].version == 2
        territoire = territoire.model_copy(update={"sources_http": [
            SourceHttp(famille="indicateurs", url=url.replace("indicateurs.csv", "absent.csv"),
                       nom_fichier="indicateurs_open_data.csv")]})
        kept = run("r3")
        assert [(d.version, d.nouveau) for d in kept] == [(2, False)]
        assert "téléchargement impossible" in messages[-1]
    finally:
        server.shutdown()


def test_inbox_is_a_boundary_links_pipes_and_folders_are_refused_and_reported(tmp_path, config):
    import os

    from assets.sources import inbox_entries, inbox_files, unknown_inbox_files

    territoire = config.territoire("ccco")
    inbox = tmp_path / "inbox" / "ccco" / "2025"
    inbox.mkdir(parents=True)
    secret = tmp_path / "hors_boite.csv"
    secret.write_text("partenaire;annee\nsecret;2025\n")
    (inbox / "engagements_ok.csv").write_text("partenaire;annee\nCAF;2025\n")
    (inbox / "engagements_lien.csv").symlink_to(secret)                      # a link outside the inbox
    (inbox / "engagements_lien_interne.csv").symlink_to(inbox / "engagements_ok.csv")
    (inbox / "engagements_dossier.csv").mkdir()                             # a folder named like a file
    os.mkfifo(inbox / "engagements_tube.csv")                               # would block a naive reader

    files, refused = inbox_entries(tmp_path, "ccco", 2025)
    assert [p.name for p in files] == ["engagements_ok.csv"] == [p.name for p in inbox_files(tmp_path, "ccco", 2025)]
    reasons = dict(refused)
    assert set(reasons) == {"engagements_lien.csv", "engagements_lien_interne.csv", "engagements_dossier.csv",
                            "engagements_tube.csv"}
    assert "lien symbolique" in reasons["engagements_lien.csv"]
    assert "dossier" in reasons["engagements_dossier.csv"] and "tube" in reasons["engagements_tube.csv"]

    deposits = collect("engagements", 2025, [territoire], tmp_path, tmp_path / "archive")
    assert [d.nom_fichier for d in deposits] == ["engagements_ok.csv"]
    archived = [p.read_bytes() for p in (tmp_path / "archive").rglob("*.csv")]
    assert archived == [b"partenaire;annee\nCAF;2025\n"]                    # the linked file never copied

    reported = {(name, statut) for _, name, statut, _ in unknown_inbox_files(tmp_path, ["ccco"], 2025)}
    assert reported == {("engagements_lien.csv", "refuse"), ("engagements_lien_interne.csv", "refuse"),
                        ("engagements_dossier.csv", "refuse"), ("engagements_tube.csv", "refuse")}


def test_a_file_swapped_for_a_link_after_listing_is_not_followed(tmp_path, config, monkeypatch):
    import assets.sources as sources

    territoire = config.territoire("ccco")
    inbox = tmp_path / "inbox" / "ccco" / "2025"
    inbox.mkdir(parents=True)
    secret = tmp_path / "hors_boite.csv"
    secret.write_text("secret")
    listed = inbox / "engagements_x.csv"
    listed.write_text("a;b\n1;2\n")
    real_listing = sources.inbox_files

    def listing_then_swap(*args):
        found = real_listing(*args)
        listed.unlink()
        listed.symlink_to(secret)   # the race a hostile depositor would try
        return found

    monkeypatch.setattr(sources, "inbox_files", listing_then_swap)
    messages = []
    assert collect("engagements", 2025, [territoire], tmp_path, tmp_path / "archive", log=messages.append) == []
    assert not list((tmp_path / "archive").rglob("*.csv")) and "non archivé" in messages[0]


def test_large_deposit_is_archived_in_chunks_with_its_digest(tmp_path, config):
    import hashlib

    territoire = config.territoire("ccco")
    inbox = tmp_path / "inbox" / "ccco" / "2025"
    inbox.mkdir(parents=True)
    data = b"partenaire;annee\n" + b"CAF;2025\n" * 400_000   # several chunks
    (inbox / "engagements_gros.csv").write_bytes(data)
    (deposit,) = collect("engagements", 2025, [territoire], tmp_path, tmp_path / "archive")
    assert deposit.sha256 == hashlib.sha256(data).hexdigest() and deposit.taille == len(data)
    assert Path(deposit.chemin_archive).read_bytes() == data
    assert not list((tmp_path / "archive").rglob("*.tmp"))


def test_a_year_folder_linked_elsewhere_is_not_read(tmp_path, config):
    from assets.sources import inbox_entries

    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    (elsewhere / "engagements_x.csv").write_text("a;b\n1;2\n")
    (tmp_path / "inbox" / "ccco").mkdir(parents=True)
    (tmp_path / "inbox" / "ccco" / "2025").symlink_to(elsewhere, target_is_directory=True)
    files, refused = inbox_entries(tmp_path, "ccco", 2025)
    assert files == [] and "hors de inbox/" in refused[0][1]
    assert collect("engagements", 2025, [config.territoire("ccco")], tmp_path, tmp_path / "archive") == []


def test_a_file_already_archived_is_hashed_and_never_copied_again(tmp_path, config, monkeypatch):
    """A rerun reads each deposit once to hash it and writes nothing: the archive already holds its content."""
    import assets.sources as sources

    territoire = config.territoire("ccco")
    inbox = tmp_path / "inbox" / "ccco" / "2025"
    inbox.mkdir(parents=True)
    (inbox / "engagements_caf.csv").write_text("a;b\n1;2\n")
    (first,) = collect("engagements", 2025, [territoire], tmp_path, tmp_path / "archive")
    copies = []
    real_stream = sources.archive_stream
    monkeypatch.setattr(sources, "archive_stream", lambda *a: copies.append(a) or real_stream(*a))
    (again,) = collect("engagements", 2025, [territoire], tmp_path, tmp_path / "archive")
    assert (again.sha256, again.chemin_archive, copies) == (first.sha256, first.chemin_archive, [])
    (inbox / "engagements_caf.csv").write_text("a;b\n1;3\n")          # new content: copied, by its new hash
    (changed,) = collect("engagements", 2025, [territoire], tmp_path, tmp_path / "archive")
    assert len(copies) == 1 and changed.sha256 != first.sha256
    assert Path(changed.chemin_archive).read_text() == "a;b\n1;3\n"


def test_thousands_of_files_are_versioned_in_a_few_statements(tmp_path, config):
    """The same versions as file by file: unchanged, changed (next version), new, gone (inactive)."""
    from assets.sources import Deposit

    con = duckdb.connect()

    def deposits(changed: set[int], count: int) -> list[Deposit]:
        return [Deposit("ccco", 2025, "engagements", f"engagements_{i}.csv", ("b" if i in changed else "a") * 64,
                        10, "boite", f"/archive/{i}") for i in range(count)]

    record(con, "engagements", 2025, deposits(set(), 3000), "r1")
    second = record(con, "engagements", 2025, deposits({7, 8}, 2999), "r2")
    assert [d.version for d in second if d.nouveau] == [2, 2]
    assert sum(d.nouveau for d in second) == 2 and len(second) == 2999
    rows = dict(((n, v), a) for n, v, a in con.execute(
        "SELECT nom_fichier, version, actif FROM archive.depots").fetchall())
    assert rows[("engagements_7.csv", 1)] is False and rows[("engagements_7.csv", 2)] is True
    assert rows[("engagements_2999.csv", 1)] is False                  # not deposited again: no longer active
    assert sum(rows.values()) == 2999


def test_a_file_refused_for_its_size_or_structure_is_recorded_never_copied(tmp_path, config, ctx):
    """The archive grows by at most `limites.taille_fichier_mo` per deposit: a larger file, or a workbook whose zip
    directory is refused (a decompression bomb), is hashed and recorded with its reason, and staging says why."""
    import hashlib

    from assets.staging.load import read_deposit
    from core.config.settings import Limites
    from core.familles.registry import FAMILIES
    from tests.staging.test_reader_hostile import bomb

    territoire = config.territoire("ccco")
    inbox = tmp_path / "inbox" / "ccco" / "2025"
    inbox.mkdir(parents=True)
    big = b"partenaire;annee\n" + b"CAF;2025\n" * 20_000                # 180 Ko, over a 0.15 Mo limit
    (inbox / "engagements_gros.csv").write_bytes(big)
    (inbox / "engagements_bombe.xlsx").write_bytes(bomb(400_000))      # ~60 Ko that decompress to ~20 Mo
    (inbox / "engagements_ok.csv").write_bytes(b"partenaire;annee\nCAF;2025\n")
    limites = Limites(taille_fichier_mo=0.15)
    con = duckdb.connect()
    deposits = {d.nom_fichier: d for d in record(con, "engagements", 2025, collect(
        "engagements", 2025, [territoire], tmp_path, tmp_path / "archive", limites=limites), "r1")}
    assert deposits["engagements_gros.csv"].sha256 == hashlib.sha256(big).hexdigest()
    assert deposits["engagements_gros.csv"].taille == len(big) and deposits["engagements_gros.csv"].chemin_archive == ""
    assert "trop volumineux" in deposits["engagements_gros.csv"].refus
    assert "bombe de décompression" in deposits["engagements_bombe.xlsx"].refus
    assert deposits["engagements_ok.csv"].refus is None
    archived = [p for p in (tmp_path / "archive").rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in archived] == [b"partenaire;annee\nCAF;2025\n"]   # the accepted file only
    active = {d["nom_fichier"]: d for d in active_deposits(con, "engagements", 2025)}
    assert active["engagements_gros.csv"]["refus"] == deposits["engagements_gros.csv"].refus
    outcome = read_deposit(FAMILIES["engagements"], active["engagements_gros.csv"], ctx, tmp_path / "cache")
    assert outcome.refused == deposits["engagements_gros.csv"].refus and outcome.parsed is None
