"""The content-addressed archive: the same file twice is stored once; a changed file is a new version."""

from __future__ import annotations

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
