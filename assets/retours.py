"""Feedback to partners: for each file of the year, a French XLSX listing every problem (row, column, value, rule,
what to do, and for a rejected row the figures of the bilan it would have changed), what was used (rows retained and
the figures they fed, also for a file without any problem), ready to send back; and the list of expected files not
received, per partner. Which figure a row feeds is read from publication.lignes_mesures (assets/marts/rejets.py)."""

import hashlib
import re
from pathlib import Path

import duckdb
import pandas as pd
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from assets.publication.vues import publish_views
from core.common import code_version, slug, write_atomic
from core.config.territoire import Territoire
from core.familles.family import Family
from core.logging import say
from core.partitions import annee_partitions
from core.portee import NATIONALE, Portee
from core.reprise import digest_of
from core.resources import BilanSettings
from core.warehouse import insert_frame

# a deposited file's own name, when it is safe as a file name anywhere (Windows included): the partner finds it
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,199}")


def feedback_name(fichier: str) -> str:
    """The workbook answering one deposited file: its full name, extension included, so that two files of one box
    never share a workbook (`x.csv` and `x.xlsx`; `a_b.csv` and `a-b.csv`). A name unsafe as a file name gets a
    readable form and a short hash of the whole name, unique all the same."""
    if SAFE_NAME.fullmatch(fichier) and not fichier.endswith((".", " ")):
        return f"retour_{fichier}.xlsx"
    return f"retour_{slug(fichier)[:150]}-{hashlib.sha256(fichier.encode()).hexdigest()[:12]}.xlsx"


WIDE_COLUMNS = ("Problème", "Que faire", "Message", "Chiffres que la ligne aurait modifiés", "Chiffre")
FEEDBACK_VERSION = code_version(Path(__file__))
# each workbook written, with the fingerprint of what it says: an unchanged workbook is not written again (about
# ten thousand a year at national scale)
WRITTEN_DDL = ("CREATE SCHEMA IF NOT EXISTS journal; CREATE TABLE IF NOT EXISTS journal.retours_ecrits "
               "(annee INTEGER, chemin VARCHAR, empreinte VARCHAR, run_id VARCHAR)")


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                            [schema, table]).fetchall()[0][0])


def _figures(con: duckdb.DuckDBPyConnection, territoire: Territoire, annee: int) -> dict[tuple[str, bool], list]:
    """(file, rejected) → the figures its rows feed: measure label, code, perimeter (QPV named), key, rows of the
    file, and for each rejected line the figures it would have changed, in one sentence."""
    if not (_table_exists(con, "publication", "lignes_mesures") and _table_exists(con, "ref", "mesures")):
        return {}
    names = pd.DataFrame({"perimetre": ["territoire", *(q.code for q in territoire.qpv)],
                          "nom_perimetre": [f"territoire ({territoire.nom_court})",
                                            *(f"{q.nom} ({q.code})" for q in territoire.qpv)]})
    # what a retained row fed: the figures the bilan has; what a rejected row would have changed may be missing
    published = ("AND (l.rejetee OR EXISTS (SELECT 1 FROM publication.mesures r WHERE r.territoire = l.territoire "
                 "AND r.annee = l.annee AND r.code_mesure = l.code_mesure AND r.perimetre = l.perimetre "
                 "AND r.cle IS NOT DISTINCT FROM l.cle))") if _table_exists(con, "publication", "mesures") else ""
    con.register("_noms_perimetres", names)
    try:
        rows = con.execute(f"""
            WITH l AS (
                SELECT l.fichier, l.rejetee, l.feuille, l.ligne, m.rang, m.libelle, l.code_mesure,
                       coalesce(n.nom_perimetre, l.perimetre) AS perimetre, l.cle
                FROM publication.lignes_mesures l
                JOIN ref.mesures m ON m.territoire = l.territoire AND m.code = l.code_mesure
                LEFT JOIN _noms_perimetres n ON n.perimetre = l.perimetre
                WHERE l.territoire = ? AND l.annee = ? {published}
            )
            SELECT fichier, rejetee, NULL AS feuille, NULL AS ligne, libelle, code_mesure, perimetre, cle,
                   count(*) AS lignes, min(rang) AS rang
            FROM l GROUP BY ALL
            UNION ALL  -- per rejected line: each figure with its perimeters and keys, in one sentence
            SELECT fichier, rejetee, feuille, ligne,
                   string_agg(libelle || ' (' || lieux || ')', ' ; ' ORDER BY rang), NULL, NULL, NULL, NULL, NULL
            FROM (SELECT fichier, rejetee, feuille, ligne, libelle, min(rang) AS rang,
                         string_agg(DISTINCT perimetre || coalesce(', ' || cle, ''), ' ; '
                                    ORDER BY perimetre || coalesce(', ' || cle, '')) AS lieux
                  FROM l WHERE rejetee GROUP BY ALL)
            GROUP BY ALL
            ORDER BY fichier, ligne NULLS FIRST, rang, perimetre, cle NULLS FIRST""",
                           [territoire.code, annee]).fetchall()
    finally:
        con.unregister("_noms_perimetres")
    out: dict[tuple[str, bool], list] = {}
    for fichier, rejetee, feuille, ligne, libelle, code, perimetre, cle, lignes, _ in rows:
        out.setdefault((fichier, bool(rejetee)), []).append((feuille, ligne, libelle, code, perimetre, cle, lignes))
    return out


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
            sheet.set_column(j, j, 45 if c in WIDE_COLUMNS else 16, wrap)
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
                   families: dict[str, Family], run_id: str = "", portee: Portee = NATIONALE) -> dict:
    """The workbooks of the scope's territories; the list of missing files, every territory's."""
    folder = parametres.output_dir / str(annee) / "retours"
    publish_views(con)  # what leaves the pipeline is read from the publication schema only
    con.execute(WRITTEN_DDL)
    before = dict(con.execute("SELECT chemin, empreinte FROM journal.retours_ecrits WHERE annee = ?",
                              [annee]).fetchall())
    written, missing_rows, fingerprints = [], [], {}
    unchanged = 0
    done = []
    for territoire in parametres.territoires(log=lambda m: None):
        # written by staging/rapport_qualite (assets/staging/expected_files.py), read as the bilan reads it
        missing_rows += [list(r) for r in con.execute(
            "SELECT territoire, famille, attendu FROM publication.fichiers_manquants WHERE territoire = ? "
            "AND annee = ? ORDER BY rang", [territoire.code, annee]).fetchall()]
        if not portee.keeps(territoire.code):
            continue
        done.append(territoire.code)
        files = con.execute("SELECT famille, fichier, version, sha256, statut, lignes_lues, lignes_retenues, "
                            "lignes_quarantaine, colonnes_inconnues, colonnes_supprimees, message "
                            "FROM publication.qualite_fichiers WHERE territoire = ? AND annee_boite = ? "
                            "ORDER BY fichier",
                            [territoire.code, annee]).fetchall()
        qpv_rows = [[q.code, q.nom, ", ".join(q.communes)] for q in territoire.qpv]
        figures = _figures(con, territoire, annee)
        # the territory's problems in one query (one per file cost ten thousand queries at national scale)
        problems_of: dict[str, list[tuple]] = {}
        for fichier, *problem in con.execute(
                "SELECT fichier, ligne, feuille, colonne, valeur, regle, gravite, message FROM publication.erreurs "
                "WHERE territoire = ? AND annee_boite = ? ORDER BY fichier, feuille NULLS FIRST, ligne, colonne",
                [territoire.code, annee]).fetchall():
            problems_of.setdefault(fichier, []).append(tuple(problem))
        for (famille, fichier, version, sha, statut, lues, retenues, quarantaine, inconnues, supprimees,
             message) in files:
            problems = problems_of.get(fichier, [])
            family = families[famille]   # what to do is said once, in the family's contract YAML
            rejected = figures.get((fichier, True), [])
            changed = {(f, n): text for f, n, text, *_ in rejected if n is not None}
            rows = [[ligne, feuille, colonne, valeur, regle, "erreur : ligne non retenue" if gravite == "erreur"
                     else "avertissement : ligne retenue", msg, family.que_faire(regle),
                     (changed.get((feuille, ligne)) or "aucun chiffre publié") if gravite == "erreur" else None]
                    for ligne, feuille, colonne, valeur, regle, gravite, msg in problems]
            if statut == "refuse":
                rows.insert(0, [None, None, None, None, "fichier_refuse", "fichier entièrement refusé", message,
                                family.que_faire("fichier_refuse"), None])
            used = [[libelle, code, perimetre, cle, n] for _, n_line, libelle, code, perimetre, cle, n
                    in figures.get((fichier, False), []) if n_line is None]
            missed = [[libelle, code, perimetre, cle, n] for _, n_line, libelle, code, perimetre, cle, n
                      in rejected if n_line is None]
            if not rows:
                one = retenues == 1
                rows = [[None, None, None, None, None, None,
                         ("Aucun problème : la ligne reçue a été retenue" if one
                          else f"Aucun problème : les {retenues} lignes reçues ont été retenues")
                         + (f" et alimente{'' if one else 'nt'} {len(used)} chiffre{'s' if len(used) > 1 else ''} "
                            "du bilan (feuille « Données utilisées »)" if used else "") + ". Merci.", None, None]]
            summary = [["Fichier", fichier], ["Version reçue", version], ["Empreinte SHA-256", sha],
                       ["Famille", famille], ["Statut", "refusé" if statut == "refuse" else "accepté"],
                       ["Lignes lues", lues], ["Lignes retenues", retenues], ["Lignes à corriger", quarantaine],
                       ["Chiffres du bilan alimentés par les lignes retenues", len(used)],
                       ["Chiffres du bilan que les lignes à corriger auraient modifiés", len(missed)],
                       ["Colonnes ignorées", inconnues or "aucune"], ["Colonnes supprimées (données personnelles)",
                                                                      supprimees or "aucune"]]
            figure_columns = ["Chiffre", "Code de la mesure", "Périmètre", "Clé", "Lignes du fichier"]
            sheets = {
                "Problèmes": (["Ligne", "Feuille", "Colonne", "Valeur", "Règle", "Effet", "Problème", "Que faire",
                               "Chiffres que la ligne aurait modifiés"], rows),
                "Résumé": (["Rubrique", "Valeur"], summary),
                "Données utilisées": (figure_columns, used),
                "Chiffres concernés": (figure_columns, missed),
                "Codes QPV": (["Code QPV 2024", "Nom", "Communes (INSEE)"], qpv_rows),
            }
            title = f"Retour sur {fichier} — {territoire.nom_court} {annee}"
            path = folder / territoire.code / feedback_name(fichier)
            fingerprint = digest_of(FEEDBACK_VERSION, title, sheets).hexdigest()
            # relative to the output folder: a copied or moved output keeps its ledger
            chemin = path.relative_to(parametres.output_dir).as_posix()
            fingerprints[chemin] = fingerprint
            if before.get(chemin) == fingerprint and path.is_file():
                unchanged += 1
            else:
                write_atomic(path, _xlsx(sheets, title), mode=0o644)
            written.append(path)
    summary_path = folder / "fichiers_manquants.xlsx"
    write_atomic(summary_path, _xlsx({"Fichiers manquants": (["Territoire", "Famille", "Partenaire ou remarque"],
                                                             missing_rows)}, f"Fichiers attendus non reçus {annee}"),
                 mode=0o644)
    # a workbook whose file is no longer in the box (or was named otherwise by an earlier version) would answer a
    # deposit that no longer stands
    # (in the folders of the territories written here only: another territory's workbooks are its own run's)
    kept = set(written)
    for code in done:
        for stale in sorted(p for p in (folder / code).glob("retour_*.xlsx") if p not in kept):
            stale.unlink(missing_ok=True)
    # the ledger's paths are <annee>/retours/<territoire>/<classeur>
    con.execute("DELETE FROM journal.retours_ecrits WHERE annee = ? AND list_contains(?, split_part(chemin, '/', 3))",
                [annee, done])
    insert_frame(con, "journal.retours_ecrits", pd.DataFrame(
        {"annee": annee, "chemin": list(fingerprints), "empreinte": list(fingerprints.values()), "run_id": run_id},
        columns=["annee", "chemin", "empreinte", "run_id"]))
    return {"fichiers": written, "inchanges": unchanged, "manquants": missing_rows, "resume": summary_path}


def build_retours_partenaires(families: dict[str, Family]):
    """The feedback to partners on the files of the graph's families."""

    @asset(
        key=AssetKey(["staging", "retours_partenaires"]),
        group_name="staging",
        partitions_def=annee_partitions,
        deps=[AssetKey(["staging", f]) for f in families] + [AssetKey(["staging", "rapport_qualite"]),
                                                              AssetKey(["publication", "tableaux"])],
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
            out = write_feedback(con, parametres, annee, families, context.run_id, parametres.portee_du_run(context))
        say(context, f"retours {annee} : {len(out['fichiers'])} classeurs, dont {out['inchanges']} inchangés et "
                     f"laissés tels quels, {len(out['manquants'])} fichier(s) manquant(s)")
        return MaterializeResult(metadata={
            "classeurs": len(out["fichiers"]),
            "classeurs_inchanges": out["inchanges"], "fichiers_manquants": len(out["manquants"]),
            "dossier": MetadataValue.path(str(out["resume"].parent)),
            "manquants": MetadataValue.md("\n".join(f"- {t} · {f} · {w}" for t, f, w in out["manquants"]) or "aucun"),
        })

    return retours_partenaires
