"""One landlord key: the names partners write several ways are one landlord, in staging, checks and marts."""

from __future__ import annotations

from dagster import AssetKey, DagsterInstance, materialize

from core.resources import BilanSettings, warehouse
from pipelines.definitions import ALL_ASSETS
from tests.conftest import write_csv


def test_landlord_spelled_three_ways_is_one_landlord(tmp_path):
    inbox = tmp_path / "donnees" / "inbox" / "ccco" / "2025"
    inbox.mkdir(parents=True)
    write_csv(inbox / "tfpb_patrimoine_bailleur_a.csv", [
        {"bailleur": "Bailleur-A", "code_qpv": "QN05934M", "annee": "2025", "nb_logements": "100",
         "montant_abattement": "20000"},
        {"bailleur": "BAILLEUR A", "code_qpv": "QN05936M", "annee": "2025", "nb_logements": "50",
         "montant_abattement": "10000"},
    ], sep=";")
    write_csv(inbox / "tfpb_actions_bailleur_a.csv", [
        {"bailleur": "Bailleur A", "code_qpv": "QN05934M", "annee": "2025", "axe": "sur_entretien",
         "intitule_action": "Nettoyage", "montant_valorise": "15000", "cofinancement": ""},
        {"bailleur": "bailleur-a", "code_qpv": "QN05936M", "annee": "2025", "axe": "tranquillite",
         "intitule_action": "Gardiennage", "montant_valorise": "8000", "cofinancement": ""},
    ], sep=";")
    parametres = BilanSettings(racine_donnees=str(tmp_path / "donnees"), sortie=str(tmp_path / "sortie"))
    selection = [AssetKey(["sources", "tfpb"]), AssetKey(["staging", "tfpb"]), AssetKey(["marts", "tfpb"])]
    result = materialize(ALL_ASSETS, selection=selection, partition_key="2025",
                         instance=DagsterInstance.ephemeral(), raise_on_error=False,
                         resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)})
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert result.success and "actions_sur_patrimoine_declare" not in failed
    with warehouse(parametres.warehouse_path).get_connection() as con:
        quarantined = con.execute("SELECT count(*) FROM quarantine.lignes WHERE famille = 'tfpb'").fetchone()[0]
        keys = con.execute("SELECT DISTINCT cle_bailleur FROM staging.tfpb_actions UNION "
                           "SELECT DISTINCT cle_bailleur FROM staging.tfpb_patrimoine").fetchall()
        mart = con.execute("SELECT bailleur, code_qpv, montant_valorise FROM marts.tfpb ORDER BY code_qpv").fetchall()
    assert quarantined == 0
    assert keys == [("bailleur_a",)]
    assert mart == [("BAILLEUR A", "QN05934M", 15000.0), ("BAILLEUR A", "QN05936M", 8000.0)]
