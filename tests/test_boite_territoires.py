"""An inbox folder that is not a configured territory (issue 31, item 4): reported by the quality report and the
run's summary, refused by `bilan verifier` with the list of territories — never skipped in silence, never given to
another territory."""

from __future__ import annotations

import pandas as pd
from dagster import AssetKey, DagsterInstance, materialize

from assets.sources import unknown_territory_folders
from core.resources import BilanSettings, warehouse
from pipelines.cli import _summary, main
from pipelines.definitions import ALL_ASSETS
from tests.conftest import write_csv

ENGAGEMENT = {"partenaire": "CAF du Nord", "type_partenaire": "operateur_etat", "annee": "2025",
              "code_objectif": "OG.4.2", "engagement": "Parentalité", "indicateur": "actions financées",
              "unite": "nombre", "valeur_cible": "12", "valeur_realisee": "10", "code_qpv": "",
              "montant_droit_commun": "", "commentaire": ""}


def _inbox(root):
    for territoire in ("ccco", "zzz"):
        folder = root / "inbox" / territoire / "2025"
        folder.mkdir(parents=True)
        write_csv(folder / "engagements_2025_caf.csv", [ENGAGEMENT], sep=";")
    return root


def test_a_folder_of_no_territory_is_listed_file_by_file(tmp_path):
    found = unknown_territory_folders(_inbox(tmp_path), ["ccco"], 2025)
    assert [(f, n, s) for f, n, s, _ in found] == [("zzz", "engagements_2025_caf.csv", "refuse")]
    assert "« zzz » n'est pas un territoire configuré (territoires : ccco)" in found[0][3]
    assert unknown_territory_folders(tmp_path, ["ccco"], 2024) == []          # nothing for that year
    assert unknown_territory_folders(tmp_path, ["ccco", "zzz"], 2025) == []


def test_verifier_refuses_a_file_of_an_unknown_territory_folder(tmp_path, capsys):
    _inbox(tmp_path)
    code = main(["verifier", str(tmp_path / "inbox" / "zzz" / "2025" / "engagements_2025_caf.csv"),
                 "--sortie", str(tmp_path / "sortie")])
    err = capsys.readouterr().err
    assert code == 2 and "inbox/zzz/ n'est pas un territoire configuré" in err and "ccco" in err
    assert "--territoire" in err
    # told which territory, it checks the file
    assert main(["verifier", str(tmp_path / "inbox" / "zzz" / "2025" / "engagements_2025_caf.csv"),
                 "--territoire", "ccco", "--sortie", str(tmp_path / "sortie")]) == 0


def test_the_quality_report_and_the_run_summary_name_the_files_not_read(tmp_path, capsys):
    _inbox(tmp_path / "donnees")
    parametres = BilanSettings(racine_donnees=str(tmp_path / "donnees"), sortie=str(tmp_path / "sortie"), pdf=False)
    selection = [AssetKey([layer, f]) for f in ("programmation", "engagements") for layer in ("sources", "staging")]
    result = materialize(ALL_ASSETS, selection=[*selection, AssetKey(["staging", "rapport_qualite"])],
                         partition_key="2025", instance=DagsterInstance.ephemeral(),
                         resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)})
    assert result.success
    quality = pd.read_csv(tmp_path / "sortie" / "2025" / "qualite_fichiers.csv", sep=";", encoding="utf-8-sig")
    stray = quality[quality["territoire"] == "zzz"]
    assert stray[["famille", "fichier", "statut"]].values.tolist() == [
        ["engagements", "engagements_2025_caf.csv", "refuse"]]
    assert "n'est pas un territoire configuré" in stray["message"].iloc[0]
    assert (quality.loc[quality["territoire"] == "ccco", "statut"] == "accepte").all()
    _summary(warehouse(parametres.warehouse_path), parametres, 2025)
    out = capsys.readouterr().out
    assert "1 fichier(s) non lu(s)" in out and "inbox/zzz/2025/engagements_2025_caf.csv" in out
