"""The year's data-quality exports for data stewards: per-file summary and the quarantine, as CSV."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from assets.sources import unknown_inbox_files, unknown_territory_folders
from assets.staging.expected_files import write_missing_files
from core.common import inert_frame, write_atomic
from core.familles.family import Family
from core.familles.registry import family_of
from core.logging import say
from core.partitions import annee_partitions
from core.resources import BilanSettings


def export_quality(con, output_dir, annee: int, unknown: list[tuple[str, str, str, str]],
                   families: dict[str, Family] | None = None) -> dict:
    folder = output_dir / str(annee)
    quality = con.execute(
        "SELECT famille, territoire, fichier, version, statut, lignes_lues, lignes_retenues, lignes_quarantaine, "
        "avertissements, colonnes_inconnues, colonnes_supprimees, encodage, separateur, message, sha256 "
        "FROM staging.qualite_fichiers WHERE annee_boite = ? ORDER BY territoire, famille, fichier", [annee]).df()
    for territoire, fichier, statut, message in unknown:
        family = family_of(fichier, families)
        quality.loc[len(quality)] = {"famille": family.name if family else "inconnue", "territoire": territoire,
                                     "fichier": fichier, "statut": statut, "message": message}
    errors = con.execute(
        "SELECT territoire, famille, fichier, feuille, ligne, colonne, valeur, regle, gravite, message "
        "FROM quarantine.erreurs WHERE annee_boite = ? ORDER BY ALL", [annee]).df()
    paths = {"qualite_fichiers": folder / "qualite_fichiers.csv", "quarantaine": folder / "quarantaine.csv"}
    # partner text reaches these files: a value written as a formula must stay text in a spreadsheet, and a line
    # break inside a value (CR included) must be quoted, so the lines end as RFC 4180 says
    for key, frame in (("qualite_fichiers", quality), ("quarantaine", errors)):
        text = inert_frame(frame).to_csv(index=False, sep=";", lineterminator="\r\n")
        write_atomic(paths[key], text.encode("utf-8-sig"))
    return {"paths": paths, "quality": quality, "errors": errors}


def build_rapport_qualite(families: dict[str, Family]):
    """The quality report of the graph's families."""

    @asset(
        key=AssetKey(["staging", "rapport_qualite"]),
        group_name="staging",
        partitions_def=annee_partitions,
        deps=[AssetKey(["staging", f]) for f in families],
        kinds={"csv"},
        owners=["team:donnees"],
        description="Rapport de qualité de l'année pour les référents données : une ligne par fichier reçu (lignes "
                    "lues, retenues, en quarantaine, colonnes inconnues, fichiers ignorés) et la liste des problèmes "
                    "en quarantaine (fichier, ligne, colonne, règle, message), en CSV dans sortie/<annee>/ ; et les "
                    "fichiers attendus non reçus (engagements des partenaires, TFPB des bailleurs, familles sans "
                    "fichier) dans la table staging.fichiers_manquants que lisent les retours aux partenaires et le "
                    "bilan.",
    )
    def rapport_qualite(context: AssetExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
        annee = int(context.partition_key)
        # the year's CSV lists every territory's files: a scoped run lists the inbox folders again (no file is
        # read) so that the other territories' lines stay as they were
        territoires = list(parametres.config.territoires)
        unknown = (unknown_inbox_files(parametres.data_root, territoires, annee, families)
                   + unknown_territory_folders(parametres.data_root, territoires, annee))
        for territoire, name, _, message in unknown:
            say(context, f"  {territoire}/{annee}/{name} : {message}")
        with entrepot.get_connection() as con:
            out = export_quality(con, parametres.output_dir, annee, unknown, families)
            missing = write_missing_files(con, parametres.territoires_du_run(context, log=lambda m: None),
                                          parametres.config.vocabulaire.codes("familles"), annee,
                                          parametres.portee_du_run(context))
        q = out["quality"]
        return MaterializeResult(metadata={
            "fichiers": len(q), "lignes_lues": int(q["lignes_lues"].fillna(0).sum()),
            "lignes_quarantaine": int(q["lignes_quarantaine"].fillna(0).sum()),
            "fichiers_inconnus": len(unknown),
            "fichiers_manquants": len(missing),
            **{name: MetadataValue.path(str(p)) for name, p in out["paths"].items()},
        })

    return rapport_qualite
