"""Feedback to partners: for each file of the year, a French XLSX listing every problem (row, column, value, rule,
what to do), ready to send back; and the list of expected files not received, per partner."""

import duckdb
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from assets.publication.vues import publish_views
from assets.staging.family import Family
from pipelines.common import slug, write_atomic
from pipelines.logging import say
from pipelines.partitions import annee_partitions
from pipelines.resources import BilanSettings


def _xlsx(sheets: dict[str, tuple[list[str], list[list]]], title: str) -> bytes:
    import io

    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    book.set_properties({"title": title, "author": "bilan-quartiers"})
    header = book.add_format({"bold": True, "bg_color": "#EEF3F8", "border": 1, "text_wrap": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    for name, (columns, rows) in sheets.items():
        sheet = book.add_worksheet(name)
        for j, c in enumerate(columns):
            sheet.write_string(0, j, c, header)
            sheet.set_column(j, j, 45 if c in ("Problème", "Que faire", "Message") else 16, wrap)
        for i, row in enumerate(rows, start=1):
            for j, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    sheet.write_number(i, j, v)
                else:
                    sheet.write_string(i, j, str(v))
        sheet.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()


def write_feedback(con: duckdb.DuckDBPyConnection, parametres: BilanSettings, annee: int,
                   families: dict[str, Family]) -> dict:
    folder = parametres.output_dir / str(annee) / "retours"
    publish_views(con)  # what leaves the pipeline is read from the publication schema only
    written, missing_rows = [], []
    for territoire in parametres.territoires(log=lambda m: None):
        files = con.execute("SELECT famille, fichier, version, sha256, statut, lignes_lues, lignes_retenues, "
                            "lignes_quarantaine, colonnes_inconnues, colonnes_supprimees, message "
                            "FROM publication.qualite_fichiers WHERE territoire = ? AND annee_boite = ? "
                            "ORDER BY fichier",
                            [territoire.code, annee]).fetchall()
        qpv_rows = [[q.code, q.nom, ", ".join(q.communes)] for q in territoire.qpv]
        for (famille, fichier, version, sha, statut, lues, retenues, quarantaine, inconnues, supprimees,
             message) in files:
            problems = con.execute(
                "SELECT ligne, feuille, colonne, valeur, regle, gravite, message FROM publication.erreurs "
                "WHERE territoire = ? AND annee_boite = ? AND fichier = ? ORDER BY feuille NULLS FIRST, ligne, colonne",
                [territoire.code, annee, fichier]).fetchall()
            family = families[famille]   # what to do is said once, in the family's contract YAML
            rows = [[ligne, feuille, colonne, valeur, regle, "erreur : ligne non retenue" if gravite == "erreur"
                     else "avertissement : ligne retenue", msg, family.que_faire(regle)]
                    for ligne, feuille, colonne, valeur, regle, gravite, msg in problems]
            if statut == "refuse":
                rows.insert(0, [None, None, None, None, "fichier_refuse", "fichier entièrement refusé", message,
                                family.que_faire("fichier_refuse")])
            summary = [["Fichier", fichier], ["Version reçue", version], ["Empreinte SHA-256", sha],
                       ["Famille", famille], ["Statut", "refusé" if statut == "refuse" else "accepté"],
                       ["Lignes lues", lues], ["Lignes retenues", retenues], ["Lignes à corriger", quarantaine],
                       ["Colonnes ignorées", inconnues or "aucune"], ["Colonnes supprimées (données personnelles)",
                                                                      supprimees or "aucune"]]
            content = _xlsx({
                "Problèmes": (["Ligne", "Feuille", "Colonne", "Valeur", "Règle", "Effet", "Problème", "Que faire"],
                              rows or [[None, None, None, None, None, None, "Aucun problème : merci.", None]]),
                "Résumé": (["Rubrique", "Valeur"], summary),
                "Codes QPV": (["Code QPV 2024", "Nom", "Communes (INSEE)"], qpv_rows),
            }, f"Retour sur {fichier} — {territoire.nom_court} {annee}")
            path = folder / territoire.code / f"retour_{slug(fichier.rsplit('.', 1)[0])}.xlsx"
            write_atomic(path, content, mode=0o644)
            written.append(path)
        # written by staging/rapport_qualite (assets/staging/expected_files.py), read as the bilan reads it
        missing_rows += [list(r) for r in con.execute(
            "SELECT territoire, famille, attendu FROM publication.fichiers_manquants WHERE territoire = ? "
            "AND annee = ? ORDER BY rang", [territoire.code, annee]).fetchall()]
    summary_path = folder / "fichiers_manquants.xlsx"
    write_atomic(summary_path, _xlsx({"Fichiers manquants": (["Territoire", "Famille", "Partenaire ou remarque"],
                                                             missing_rows)}, f"Fichiers attendus non reçus {annee}"),
                 mode=0o644)
    return {"fichiers": written, "manquants": missing_rows, "resume": summary_path}


def build_retours_partenaires(families: dict[str, Family]):
    """The feedback to partners on the files of the graph's families."""

    @asset(
        key=AssetKey(["staging", "retours_partenaires"]),
        group_name="staging",
        partitions_def=annee_partitions,
        deps=[AssetKey(["staging", f]) for f in families] + [AssetKey(["staging", "rapport_qualite"])],
        kinds={"xlsx"},
        owners=["team:donnees"],
        description="Retours aux partenaires : pour chaque fichier reçu dans l'année, un classeur XLSX en français "
                    "(une ligne par problème : ligne, colonne, valeur, règle, que faire ; résumé ; codes QPV du "
                    "territoire) dans sortie/<annee>/retours/<territoire>/, prêt à renvoyer ; et la liste des fichiers "
                    "attendus non reçus, par partenaire (fichiers_manquants.xlsx).",
    )
    def retours_partenaires(context: AssetExecutionContext, parametres: BilanSettings, entrepot: DuckDBResource):
        annee = int(context.partition_key)
        with entrepot.get_connection() as con:
            out = write_feedback(con, parametres, annee, families)
        say(context, f"retours {annee} : {len(out['fichiers'])} classeurs, "
                     f"{len(out['manquants'])} fichier(s) manquant(s)")
        return MaterializeResult(metadata={
            "classeurs": len(out["fichiers"]), "fichiers_manquants": len(out["manquants"]),
            "dossier": MetadataValue.path(str(out["resume"].parent)),
            "manquants": MetadataValue.md("\n".join(f"- {t} · {f} · {w}" for t, f, w in out["manquants"]) or "aucun"),
        })

    return retours_partenaires
