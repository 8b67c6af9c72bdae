"""Feedback to partners: for each file of the year, a French XLSX listing every problem (row, column, value, rule,
what to do), ready to send back; and the list of expected files not received, per partner."""

import duckdb
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from pipelines.common import write_atomic
from assets.staging.contract import RULES
from assets.staging.registry import FAMILIES
from pipelines.logging import say
from pipelines.partitions import annee_partitions
from pipelines.resources import BilanSettings
from pipelines.common import slug

WHAT_TO_DO = {
    "valeur_obligatoire": "Renseignez la cellule : cette colonne est obligatoire.",
    "type_nombre": "Saisissez un nombre (virgule ou point décimal ; espaces, € et % acceptés).",
    "type_entier": "Saisissez un nombre entier.",
    "type_date": "Saisissez une date AAAA-MM-JJ ou JJ/MM/AAAA.",
    "type_booleen": "Saisissez oui ou non.",
    "valeur_autorisee": "Choisissez une des valeurs de la liste du contrat (voir le message).",
    "valeur_minimale": "Corrigez la valeur : elle est sous le minimum autorisé.",
    "valeur_maximale": "Corrigez la valeur : elle dépasse le maximum (un pourcentage va de 0 à 100).",
    "annee_boite": "Indiquez l'année du fichier, ou déposez la ligne dans la boîte de la bonne année.",
    "qpv_inconnu": "Indiquez un code QPV 2024 du territoire (feuille « Codes QPV ») ; voyez la correction suggérée.",
    "objectif_inconnu": "Indiquez un code d'objectif du contrat (OG.1.1 … OG.4.3).",
    "siret_invalide": "Vérifiez le SIRET (14 chiffres, sur l'avis de situation INSEE) ou laissez la cellule vide.",
    "cpo_incomplet": "Pour un financement CPO, renseignez la référence et les années de début et de fin de la CPO.",
    "cpo_periode": "Vérifiez les années de la CPO : début ≤ année ≤ fin, sur 2 à 4 ans.",
    "bop147_specifique": "Les crédits etat_bop147 sont des crédits spécifiques : corrigez la nature du crédit.",
    "statut_montant": "Un dossier refusé ou abandonné n'a pas de montant accordé : videz-le ou corrigez le statut.",
    "cout_total": "Le coût total doit couvrir la somme des montants accordés du dossier : corrigez-le.",
    "dossier_incoherent": "Toutes les lignes d'un dossier doivent décrire l'action de la même façon : harmonisez-les.",
    "cle_dupliquee": "Supprimez le doublon, ou distinguez les deux lignes.",
    "ligne_remplacee": "Pour information : une version plus récente de cette ligne a été reçue.",
    "dossier_inconnu": "Vérifiez le numéro de dossier et l'année de l'action (il doit figurer dans la programmation).",
    "annee_action": "Un bilan ne peut porter sur une action postérieure à l'année du dépôt : corrigez l'année.",
    "beneficiaires_incoherents": "Vérifiez les effectifs : aucune partie ne peut dépasser le total.",
    "patrimoine_absent": "Déclarez votre patrimoine dans ce QPV (feuille patrimoine) ou corrigez le code QPV.",
    "cpo_inconnue": "Vérifiez la référence de la CPO (elle doit figurer dans la programmation).",
    "date_observation": "Vérifiez la date d'observation : après l'entrée, et au plus tard le 31/12 de l'année.",
    "age_entree": "Vérifiez l'année de naissance (âge à l'entrée entre 14 et 80 ans).",
    "indicateur_inconnu": "Utilisez un code du catalogue des indicateurs du territoire.",
    "code_geo_invalide": "Vérifiez le code géographique au regard du niveau (QPV, commune, SIREN d'EPCI, département).",
    "ratio_incoherent": "Vérifiez la valeur, le numérateur et le dénominateur (valeur = 100 × num / dén).",
    "secret_avec_valeur": "Une valeur sous secret statistique doit rester vide.",
    "montant_superieur_demande": "À vérifier : le montant accordé dépasse le montant demandé (ligne conservée).",
    "fichier_refuse": "Corrigez le fichier (format CSV ou XLSX, en-tête avec les colonnes obligatoires) et renvoyez-le.",
}


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


def write_feedback(con: duckdb.DuckDBPyConnection, parametres: BilanSettings, annee: int) -> dict:
    folder = parametres.output_dir / str(annee) / "retours"
    written, missing_rows = [], []
    for territoire in parametres.territoires(log=lambda m: None):
        files = con.execute("SELECT famille, fichier, version, sha256, statut, lignes_lues, lignes_retenues, "
                            "lignes_quarantaine, colonnes_inconnues, colonnes_supprimees, message "
                            "FROM staging.qualite_fichiers WHERE territoire = ? AND annee_boite = ? ORDER BY fichier",
                            [territoire.code, annee]).fetchall()
        qpv_rows = [[q.code, q.nom, ", ".join(q.communes)] for q in territoire.qpv]
        for famille, fichier, version, sha, statut, lues, retenues, quarantaine, inconnues, supprimees, message in files:
            problems = con.execute(
                "SELECT ligne, feuille, colonne, valeur, regle, gravite, message FROM quarantine.erreurs "
                "WHERE territoire = ? AND annee_boite = ? AND fichier = ? ORDER BY feuille NULLS FIRST, ligne, colonne",
                [territoire.code, annee, fichier]).fetchall()
            rows = [[ligne, feuille, colonne, valeur, regle, "erreur : ligne non retenue" if gravite == "erreur"
                     else "avertissement : ligne retenue", msg, WHAT_TO_DO.get(regle, RULES.get(regle, ""))]
                    for ligne, feuille, colonne, valeur, regle, gravite, msg in problems]
            if statut == "refuse":
                rows.insert(0, [None, None, None, None, "fichier_refuse", "fichier entièrement refusé", message,
                                WHAT_TO_DO["fichier_refuse"]])
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
            "SELECT territoire, famille, attendu FROM staging.fichiers_manquants WHERE territoire = ? AND annee = ? "
            "ORDER BY rang", [territoire.code, annee]).fetchall()]
    summary_path = folder / "fichiers_manquants.xlsx"
    write_atomic(summary_path, _xlsx({"Fichiers manquants": (["Territoire", "Famille", "Partenaire ou remarque"],
                                                             missing_rows)}, f"Fichiers attendus non reçus {annee}"),
                 mode=0o644)
    return {"fichiers": written, "manquants": missing_rows, "resume": summary_path}


@asset(
    key=AssetKey(["staging", "retours_partenaires"]),
    group_name="staging",
    partitions_def=annee_partitions,
    deps=[AssetKey(["staging", f]) for f in FAMILIES] + [AssetKey(["staging", "rapport_qualite"])],
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
        out = write_feedback(con, parametres, annee)
    say(context, f"retours {annee} : {len(out['fichiers'])} classeurs, {len(out['manquants'])} fichier(s) manquant(s)")
    return MaterializeResult(metadata={
        "classeurs": len(out["fichiers"]), "fichiers_manquants": len(out["manquants"]),
        "dossier": MetadataValue.path(str(out["resume"].parent)),
        "manquants": MetadataValue.md("\n".join(f"- {t} · {f} · {w}" for t, f, w in out["manquants"]) or "aucun"),
    })
