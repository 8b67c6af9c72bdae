"""A step computes again only when what it computes from changed (core/reprise.py): the ledger, and what a
family's year is staged from (assets/staging/load.py)."""

from __future__ import annotations

import duckdb
import pandas as pd

from assets.staging.load import StagingInputs, inputs_fingerprint, outputs
from core.familles.registry import FAMILIES
from core.reprise import record, reusable, taken_from


def _warehouse():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging; CREATE TABLE staging.t AS SELECT range AS x, 2025 AS annee FROM range(3)")
    return con


COUNT = {"staging.t": "SELECT count(*) FROM staging.t WHERE annee = 2025"}


def test_the_same_inputs_take_the_result_of_the_run_that_computed_it():
    con = _warehouse()
    assert reusable(con, "etape", 2025, "abc") is None          # never computed
    record(con, "etape", 2025, "abc", "run-1", COUNT, {"lignes": 3})
    last = reusable(con, "etape", 2025, "abc")
    assert last is not None and (last.run_id, last.metadonnees) == ("run-1", {"lignes": 3})
    assert taken_from(last) == "repris du run run-1 (mêmes entrées, même code)"
    assert reusable(con, "etape", 2025, "abd") is None          # other inputs
    assert reusable(con, "etape", 2024, "abc") is None          # another year
    assert reusable(con, "autre", 2025, "abc") is None          # another step


def test_a_table_emptied_or_dropped_since_is_computed_again():
    con = _warehouse()
    record(con, "etape", 2025, "abc", "run-1", COUNT, {})
    con.execute("DELETE FROM staging.t WHERE x = 0")
    assert reusable(con, "etape", 2025, "abc") is None
    record(con, "etape", 2025, "abc", "run-2", COUNT, {})      # the ledger keeps the year's last computation
    assert reusable(con, "etape", 2025, "abc").run_id == "run-2"
    assert con.execute("SELECT count(*) FROM journal.calculs").fetchall() == [(1,)]
    con.execute("DROP TABLE staging.t")
    assert reusable(con, "etape", 2025, "abc") is None


def _inputs(sha: str = "a" * 64, programmation: pd.DataFrame | None = None) -> StagingInputs:
    deposits = [{"territoire": "ccco", "nom_fichier": "engagements_2025_caf.csv", "version": 1, "sha256": sha,
                 "chemin_archive": "/archive/a.csv"},
                {"territoire": "ccco", "nom_fichier": "engagements_2025_cpam.csv", "version": 1, "sha256": "b" * 64,
                 "chemin_archive": "/archive/b.csv"}]
    return StagingInputs(deposits, {} if programmation is None else {"ccco": programmation})


def test_a_family_is_staged_again_when_a_file_its_order_its_programming_or_its_territory_changes(ctx):
    family = FAMILIES["engagements"]
    contexts = {"ccco": ctx}
    first = inputs_fingerprint(family, 2025, contexts, _inputs())
    assert inputs_fingerprint(family, 2025, contexts, _inputs()) == first
    assert inputs_fingerprint(family, 2024, contexts, _inputs()) != first
    assert inputs_fingerprint(family, 2025, contexts, _inputs(sha="c" * 64)) != first
    swapped = _inputs()
    swapped.deposits.reverse()              # a later file may replace an earlier one's rows
    assert inputs_fingerprint(family, 2025, contexts, swapped) != first
    known = pd.DataFrame({"numero_dossier": ["2025-00001"], "annee": [2025], "reference_cpo": [None]})
    with_known = inputs_fingerprint(family, 2025, contexts, _inputs(programmation=known))
    assert with_known != first
    known.loc[0, "reference_cpo"] = "CPO-CCCO-2024-01"
    assert inputs_fingerprint(family, 2025, contexts, _inputs(programmation=known)) != with_known
    renamed = ctx.territoire.model_copy(update={"nom_court": "Autre nom"})
    other = {"ccco": type(ctx)(**{**ctx.__dict__, "territoire": renamed})}
    assert inputs_fingerprint(family, 2025, other, _inputs()) != first
    assert inputs_fingerprint(FAMILIES["tfpb"], 2025, contexts, _inputs()) != first


def test_a_reuse_checks_every_table_the_family_writes():
    assert set(outputs(FAMILIES["tfpb"], 2025)) == {
        "staging.tfpb_patrimoine", "staging.tfpb_actions", "quarantine.lignes", "quarantine.erreurs",
        "staging.qualite_fichiers"}
