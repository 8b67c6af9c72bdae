"""The XLSX annex of a bilan: the `publication` tables as a reader uses them. Beside each internal code its French
label (config/vocabulaire.yaml, config/mesures.yaml); numbers stored as numbers, rounded to their unit's decimals and
formatted; booleans in French; a cohort count under secrecy left empty, what is shown instead in its own column."""

from __future__ import annotations

import io

import pandas as pd

from reports import sections
from reports.data import BilanData

# Column kinds: t text, b boolean (oui/non), i count, y year, e euros, u in the row's unit (its `unite` column),
# p a percentage already ×100, r a share in [0, 1], c a cohort count published as text (« < 5 » when hidden).
ANNEX_SHEETS = [
    # (sheet, table, French headers {column: (header, kind)})
    ("Référentiel", "referentiel", {
        "question": ("Question", "t"), "code_indicateur": ("Indicateur", "t"), "libelle": ("Libellé", "t"),
        "mesure": ("Code de mesure", "t"), "cle": ("Clé", "t"), "perimetre": ("Périmètre", "t"),
        "unite": ("Unité", "t"), "valeur": ("Valeur", "u"), "annee_donnees": ("Année des données", "y"),
        "valeur_precedente": ("Valeur précédente", "u"), "reference": ("Référence", "u"),
        "cible": ("Cible", "u"), "annee_cible": ("Échéance", "y"), "ecart_cible": ("Écart à la cible", "u"),
        "tendance": ("Tendance", "t"), "statut": ("Statut", "t"), "raison": ("Raison", "t"), "source": ("Mart", "t"),
        "nature": ("Nature (moyens, résultats)", "t"), "seuil_significativite": ("Seuil de significativité", "u"),
        "projection_cible": ("Projection à l'échéance", "u"), "lignes_rejetees": ("Lignes rejetées", "i")}),
    ("Mesures", "measures", {
        "code_mesure": ("Code de mesure", "t"), "perimetre": ("Périmètre", "t"), "cle": ("Clé", "t"),
        "valeur": ("Valeur", "u"), "secret": ("Secret statistique (valeur non publiée)", "t"),
        "unite": ("Unité", "t"), "annee_donnees": ("Année des données", "y"),
        "source": ("Mart (actif Dagster)", "t")}),
    ("Programmation", "programmation", {
        "numero_dossier": ("N° dossier", "t"), "porteur": ("Porteur", "t"), "intitule_action": ("Action", "t"),
        "code_objectif": ("Objectif", "t"), "mode_financement": ("Mode", "t"), "reference_cpo": ("CPO", "t"),
        "financeur": ("Financeur", "t"), "nature_credit": ("Nature", "t"), "statut": ("Statut", "t"),
        "code_qpv": ("QPV", "t"), "part_qpv": ("Part du QPV", "r"), "montant_demande": ("Demandé (€)", "e"),
        "montant_accorde": ("Accordé (€)", "e"), "fichier": ("Fichier source", "t"), "ligne": ("Ligne", "i")}),
    ("Engagements", "engagements", {
        "partenaire": ("Partenaire", "t"), "engagement": ("Engagement", "t"), "indicateur": ("Indicateur", "t"),
        "unite": ("Unité", "t"), "perimetre": ("Périmètre", "t"), "valeur_cible": ("Cible", "u"),
        "valeur_realisee": ("Réalisé", "u"), "taux_realisation": ("Taux de réalisation (%)", "p"),
        "non_renseigne": ("Non renseigné", "b"), "montant_droit_commun": ("Droit commun (€)", "e"),
        "cle": ("Code (clé des mesures engagement.*)", "t"), "qpv_renseignes": ("QPV renseignés (somme)", "i"),
        "qpv_engages": ("QPV engagés (somme)", "i")}),
    ("TFPB", "tfpb", {
        "bailleur": ("Bailleur", "t"), "code_qpv": ("QPV", "t"), "nb_logements": ("Logements", "i"),
        "montant_abattement": ("Abattement (€)", "e"), "montant_valorise": ("Valorisé (€)", "e"),
        "cofinancement": ("Cofinancement (€)", "e"), "taux_couverture": ("Couverture (%)", "p"),
        "alerte_couverture": ("Alerte", "b")}),
    ("Indicateurs", "indicateurs", {
        "code_indicateur": ("Indicateur", "t"), "libelle_indicateur": ("Libellé", "t"), "perimetre": ("Périmètre", "t"),
        "millesime": ("Millésime", "y"), "valeur": ("Valeur", "u"), "secret": ("Secret", "t"),
        "valeur_precedente": ("Valeur précédente", "u"), "millesime_precedent": ("Millésime précédent", "y"),
        "evolution": ("Évolution", "u"), "valeur_qpv_departement": ("QP du département", "u"),
        "ecart_qpv_departement": ("Écart (pts)", "u"), "valeur_epci": ("EPCI", "u"), "ecart_epci": ("Écart EPCI", "u"),
        "source": ("Source", "t")}),
    ("Cohortes", "cohortes", {
        "reference_cpo": ("CPO", "t"), "cohorte": ("Cohorte", "y"), "jalon": ("Jalon", "t"),
        "dimension": ("Ventilation", "t"), "modalite": ("Modalité", "t"), "attendus": ("Attendus", "c"),
        "observes": ("Observés", "c"), "emploi_durable": ("Emploi durable", "c"),
        "emploi_transition": ("Emploi de transition", "c"), "formation_qualifiante": ("Formation", "c"),
        "recherche_emploi": ("Recherche d'emploi", "c"), "inactif": ("Inactif", "c"),
        "perdu_de_vue": ("Perdu de vue", "c"), "taux_sortie_positive": ("Sorties positives (%)", "p")}),
    ("Qualité", "qualite", {
        "famille": ("Famille", "t"), "fichier": ("Fichier", "t"), "version": ("Version", "i"),
        "statut": ("Statut", "t"),
        "lignes_lues": ("Lues", "i"), "lignes_retenues": ("Retenues", "i"), "lignes_quarantaine": ("Quarantaine", "i"),
        "message": ("Message", "t")}),
    ("Sources", "sources", {
        "annee": ("Année", "y"), "famille": ("Famille", "t"), "nom_fichier": ("Fichier", "t"),
        "version": ("Version", "i"), "sha256": ("SHA-256", "t"), "origine": ("Origine", "t")}),
]

# The code columns read with a label beside them: the list of config/vocabulaire.yaml that names their codes, or
# "mesures" (config/mesures.yaml).
LABELLED = {
    "referentiel": {"mesure": "mesures", "statut": "statuts_indicateur"},
    "measures": {"code_mesure": "mesures"},
    "programmation": {"mode_financement": "modes_financement", "financeur": "financeurs",
                      "nature_credit": "natures_credit", "statut": "statuts_dossier"},
    "cohortes": {"jalon": "jalons"},
    "qualite": {"famille": "familles"},
    "sources": {"famille": "familles"},
}

# Decimals and Excel number format (Excel shows its own locale's separators) of a value in each unit; a count in
# `nombre` that is not whole (a mean) keeps one decimal.
UNIT_FORMATS: dict[str, tuple[int, str]] = {
    "pourcentage": (1, "0.0"), "points": (1, "0.0"), "euros": (0, '#,##0 "€"'), "ratio": (2, "0.00"),
    "indice": (1, "0.0"), "nombre": (0, "#,##0")}
KIND_FORMATS: dict[str, tuple[int, str]] = {
    "i": (0, "#,##0"), "c": (0, "#,##0"), "y": (0, "0"), "e": (0, '#,##0 "€"'), "p": (1, "0.0"), "r": (3, "0.0%")}
SECRET_HEADER = "Secret statistique (cellules non publiées)"
EXCEL_DATA_ROWS = 1_048_575  # rows of an Excel sheet under its header
RECORDS_PER_BLOCK = 50_000   # rows turned into Python objects at a time


def unit_format(value: float, unite) -> tuple[int, str]:
    """Decimals and number format of a value in its unit (a missing or unknown unit: a number)."""
    unite = unite if isinstance(unite, str) and unite in UNIT_FORMATS else "nombre"
    decimals, code = UNIT_FORMATS[unite]
    if unite == "nombre" and not float(round(value, 1)).is_integer():
        return 1, "#,##0.0"
    return decimals, code


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v))


def _labels(data: BilanData, domaine: str) -> dict[str, str]:
    return data.libelles_mesures if domaine == "mesures" else data.vocabulaire.libelles(domaine)


def render_xlsx(data: BilanData) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    # partner text is data, never a formula or a link: every string is written as a string cell. Rows go to
    # temporary files as they are written (a file at the row limit makes 1,6 million measures, which held in memory
    # took the annex alone to gigabytes): written in order, each sheet's header first.
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    book.set_properties({"title": f"Annexe du bilan {data.annee} — {data.territoire.nom}", "author": "bilan-quartiers",
                         "comments": f"run {data.run_id}, référentiel {data.referentiel_version}"})
    header = book.add_format({"bold": True, "bg_color": "#EEF3F8", "border": 1, "text_wrap": True, "valign": "top"})
    number_formats: dict[str, object] = {}

    def fmt(code: str):
        if code not in number_formats:
            number_formats[code] = book.add_format({"num_format": code})
        return number_formats[code]

    frames = {"referentiel": data.referentiel, "measures": data.measures, "programmation": data.programmation,
              "engagements": data.engagements, "tfpb": data.tfpb, "indicateurs": data.indicateurs,
              "cohortes": data.cohortes, "qualite": data.qualite, "sources": data.sources}
    for sheet_name, key, columns in ANNEX_SHEETS:
        frame = frames[key]
        sheet = book.add_worksheet(sheet_name)
        present = [c for c in columns if c in frame.columns] if len(frame.columns) else []
        if not present:
            sheet.write_string(0, 0, "Aucune donnée pour cette année (famille absente).")
            sheet.set_column(0, 0, 60)
            continue
        labelled = {c: _labels(data, d) for c, d in LABELLED.get(key, {}).items() if c in present}
        # the sheet's columns: each table column, its label beside a code column, the cohort secret column last
        layout: list[tuple[str, str, str]] = []   # (table column, header, role)
        for c in present:
            layout.append((c, columns[c][0], "value"))
            if c in labelled:
                layout.append((c, f"{columns[c][0]} (libellé)", "label"))
        counts = [c for c in present if columns[c][1] == "c"]
        if counts:
            layout.append(("", SECRET_HEADER, "secret"))
        table = frame[present]
        # past the rows of an Excel sheet the table goes on in « Mesures (2) »…: xlsxwriter would drop them silently
        for part, start in enumerate(range(0, max(len(table), 1), EXCEL_DATA_ROWS), start=1):
            if part > 1:
                sheet = book.add_worksheet(f"{sheet_name} ({part})")
            for j, (_, title, _) in enumerate(layout):
                sheet.write_string(0, j, title, header)
            end = min(start + EXCEL_DATA_ROWS, len(table))
            widths = [len(h) for _, h, _ in layout]
            for block in range(start, end, RECORDS_PER_BLOCK):
                records = table.iloc[block:min(block + RECORDS_PER_BLOCK, end)].to_dict("records")
                for i, row in enumerate(records, start=block - start + 1):
                    for j, (c, _, role) in enumerate(layout):
                        if role == "secret":
                            hidden = [f"{columns[k][0]} : {row[k]}" for k in counts
                                      if not _missing(row[k]) and not str(row[k]).isdigit()]
                            text = " ; ".join(hidden)
                        elif role == "label":
                            text = "" if _missing(row[c]) else labelled[c].get(str(row[c]), "")
                        else:
                            text = _write_value(sheet, i, j, row[c], columns[c][1], row.get("unite"), fmt)
                        if text:
                            sheet.write_string(i, j, text)
                            widths[j] = max(widths[j], len(text))
            for j, (c, _, role) in enumerate(layout):
                numeric = role == "value" and columns[c][1] not in ("t", "b")
                sheet.set_column(j, j, 14 if numeric else min(max(widths[j], 8) + 2, 60))
            sheet.freeze_panes(1, 0)
            sheet.autofilter(0, 0, end - start, len(layout) - 1)
    notes = book.add_worksheet("Méthode")
    for i, text in enumerate(sections.method_notes(data)):
        notes.write_string(i, 0, text)
    notes.set_column(0, 0, 140)
    book.close()
    return buffer.getvalue()


def _write_value(sheet, i: int, j: int, v, kind: str, unite, fmt) -> str:
    """Writes a number cell, or returns the text to write (empty: nothing)."""
    if _missing(v):
        return ""
    if isinstance(v, bool) or type(v).__name__ == "bool_":
        return "oui" if v else "non"
    if kind == "c":   # published as text: a digit string is the count, anything else is what secrecy shows
        if str(v).isdigit():
            sheet.write_number(i, j, int(str(v)), fmt(KIND_FORMATS["c"][1]))
        return ""
    if kind == "t" or isinstance(v, str):
        return str(v)  # a string cell: a leading = stays text
    value = float(v)
    decimals, code = unit_format(value, unite) if kind == "u" else KIND_FORMATS[kind]
    sheet.write_number(i, j, round(value, decimals), fmt(code))
    return ""
