"""A Great Expectations site is validated and built again only when its suites or its rows changed: a second run
on the same data reuses the results and leaves the Data Docs as they were; one changed row runs it again."""

from __future__ import annotations

import shutil

import duckdb

from checks.controles import REGISTRE
from checks.expectations import EMPREINTE, run_suites


def test_same_rows_reuse_the_validation_a_changed_row_runs_it_again(demo_run_partage, tmp_path, config):
    warehouse = tmp_path / "entrepot.duckdb"
    shutil.copy(demo_run_partage.parametres.warehouse_path, warehouse)
    sortie = tmp_path / "sortie"
    with duckdb.connect(str(warehouse)) as con:
        first = run_suites(con, REGISTRE, config.vocabulaire, sortie, 2025, "staging", ["staging/tfpb"])
        index = first["index"]
        built = index.stat().st_mtime_ns
        again = run_suites(con, REGISTRE, config.vocabulaire, sortie, 2025, "staging", ["staging/tfpb"])
        assert (first["reutilise"], again["reutilise"]) == (False, True)
        assert again["resultats"] == first["resultats"] and index.stat().st_mtime_ns == built
        assert (index.parent / EMPREINTE).is_file()

        # one landlord's row changes: the suite runs again and finds it
        con.execute("UPDATE staging.tfpb_patrimoine SET nb_logements = -1 WHERE rowid = (SELECT min(rowid) FROM "
                    "staging.tfpb_patrimoine WHERE annee = 2025)")
        changed = run_suites(con, REGISTRE, config.vocabulaire, sortie, 2025, "staging", ["staging/tfpb"])
    assert changed["reutilise"] is False and changed["resultats"] != first["resultats"]
