"""HTML (self-contained), PDF (WeasyPrint) and XLSX annex of a bilan, from the same data (the `publication`
tables: the annex's sheets are those tables, secrecy applied)."""

from __future__ import annotations

import io
from pathlib import Path

import jinja2
import pandas as pd

from pipelines.common import slug
from reports import contenu, rejets, sections, statuts, synthese
from reports.data import BilanData
from reports.format import compte, nombre

TEMPLATES = Path(__file__).parent / "templates"



def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["slug"] = slug
    return env


def build_context(data: BilanData, features: list[dict] | None, commune_names: dict[str, str],
                  copil: str | None, communes: list[dict] | None = None) -> dict:
    """`features`: the territory's QPV contours; `communes`: its communes' contours (None: maps without them)."""
    t = data.territoire
    dep = next((n.libelle for n in t.niveaux_comparaison if n.niveau_geo == "qpv_departement"), "QP du département")
    epci = next((n.libelle for n in t.niveaux_comparaison if n.niveau_geo == "epci"), "EPCI")
    return rejets.annoter({
        "t": t, "annee": data.annee, "run_id": data.run_id, "referentiel_version": data.referentiel_version,
        "genere_le": data.genere_le, "copil": copil, "couverture": contenu.couverture(data),
        "css": (TEMPLATES / "bilan.css").read_text(encoding="utf-8") + statuts.css(data.vocabulaire),
        # the contract's population (config/territoires), as published in measure prog.population
        "population_qpv": nombre(data.m("prog.population") or sum(q.population for q in t.qpv)),
        "synthese": sections.synthese(data, [dict(f, properties=dict(f["properties"])) for f in features]
                                      if features else None, communes),
        "referentiel": sections.referentiel(data),
        "programmation": sections.programmation(data),
        "financeurs_axes": contenu.financeurs_axes(data),
        "engagements": sections.engagements(data),
        "tfpb": sections.tfpb(data),
        "indicateurs": sections.indicateurs(data, dep, epci),
        "cohortes": sections.cohortes(data),
        "qpv_pages": sections.qpv_pages(data, features, commune_names, communes),
        "qualite": sections.qualite(data),
        "sources": sections.sources(data),
        "synthese_ecrite_donnees": synthese.synthese_ecrite(data),
        "glossaire_sigles": data.glossaire,
    }, data)


def commune_context(data: BilanData, commune: str, qpv: list[str]) -> dict:
    """What a commune bilan adds to the territory's context: the synthesis of its own quartiers."""
    return {"commune": commune, "quartiers_mot": compte(len(qpv), "quartier prioritaire", "quartiers prioritaires"),
            "synthese_ecrite_donnees": synthese.synthese_ecrite(data, qpv=qpv, commune=commune)}


def render_html(context: dict, template: str = "bilan.html.j2") -> str:
    return _environment().get_template(template).render(**context)


def _no_network(url: str, *args, **kwargs):
    raise ValueError(f"ressource externe refusée : {url} (le bilan doit être autonome)")


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=_no_network).write_pdf()


# --- XLSX annex -----------------------------------------------------------------------------------

ANNEX_SHEETS = [
    # (sheet, table, French headers {column: (header, kind)})
    ("Référentiel", "referentiel", {
        "question": ("Question", "t"), "code_indicateur": ("Indicateur", "t"), "libelle": ("Libellé", "t"),
        "mesure": ("Code de mesure", "t"), "cle": ("Clé", "t"), "perimetre": ("Périmètre", "t"),
        "unite": ("Unité", "t"), "valeur": ("Valeur", "n"), "annee_donnees": ("Année des données", "i"),
        "valeur_precedente": ("Valeur précédente", "n"), "reference": ("Référence", "n"),
        "cible": ("Cible", "n"), "annee_cible": ("Échéance", "i"), "ecart_cible": ("Écart à la cible", "n"),
        "tendance": ("Tendance", "t"), "statut": ("Statut", "t"), "raison": ("Raison", "t"), "source": ("Mart", "t"),
        "nature": ("Nature (moyens, résultats)", "t"), "seuil_significativite": ("Seuil de significativité", "n"),
        "projection_cible": ("Projection à l'échéance", "n"), "lignes_rejetees": ("Lignes rejetées", "i")}),
    ("Mesures", "measures", {
        "code_mesure": ("Code de mesure", "t"), "perimetre": ("Périmètre", "t"), "cle": ("Clé", "t"),
        "valeur": ("Valeur", "n"), "secret": ("Secret statistique (valeur non publiée)", "t"),
        "unite": ("Unité", "t"), "annee_donnees": ("Année des données", "i"),
        "source": ("Mart (actif Dagster)", "t")}),
    ("Programmation", "programmation", {
        "numero_dossier": ("N° dossier", "t"), "porteur": ("Porteur", "t"), "intitule_action": ("Action", "t"),
        "code_objectif": ("Objectif", "t"), "mode_financement": ("Mode", "t"), "reference_cpo": ("CPO", "t"),
        "financeur": ("Financeur", "t"), "nature_credit": ("Nature", "t"), "statut": ("Statut", "t"),
        "code_qpv": ("QPV", "t"), "part_qpv": ("Part du QPV", "r"), "montant_demande": ("Demandé (€)", "e"),
        "montant_accorde": ("Accordé (€)", "e"), "fichier": ("Fichier source", "t"), "ligne": ("Ligne", "i")}),
    ("Engagements", "engagements", {
        "partenaire": ("Partenaire", "t"), "engagement": ("Engagement", "t"), "indicateur": ("Indicateur", "t"),
        "unite": ("Unité", "t"), "perimetre": ("Périmètre", "t"), "valeur_cible": ("Cible", "n"),
        "valeur_realisee": ("Réalisé", "n"), "taux_realisation": ("Taux de réalisation (%)", "n"),
        "non_renseigne": ("Non renseigné", "t"), "montant_droit_commun": ("Droit commun (€)", "e"),
        "cle": ("Code (clé des mesures engagement.*)", "t"), "qpv_renseignes": ("QPV renseignés (somme)", "i"),
        "qpv_engages": ("QPV engagés (somme)", "i")}),
    ("TFPB", "tfpb", {
        "bailleur": ("Bailleur", "t"), "code_qpv": ("QPV", "t"), "nb_logements": ("Logements", "i"),
        "montant_abattement": ("Abattement (€)", "e"), "montant_valorise": ("Valorisé (€)", "e"),
        "cofinancement": ("Cofinancement (€)", "e"), "taux_couverture": ("Couverture (%)", "n"),
        "alerte_couverture": ("Alerte", "t")}),
    ("Indicateurs", "indicateurs", {
        "code_indicateur": ("Indicateur", "t"), "libelle_indicateur": ("Libellé", "t"), "perimetre": ("Périmètre", "t"),
        "millesime": ("Millésime", "i"), "valeur": ("Valeur", "n"), "secret": ("Secret", "t"),
        "valeur_precedente": ("Valeur précédente", "n"), "millesime_precedent": ("Millésime précédent", "i"),
        "evolution": ("Évolution", "n"), "valeur_qpv_departement": ("QP du département", "n"),
        "ecart_qpv_departement": ("Écart (pts)", "n"), "valeur_epci": ("EPCI", "n"), "ecart_epci": ("Écart EPCI", "n"),
        "source": ("Source", "t")}),
    ("Cohortes", "cohortes", {
        "reference_cpo": ("CPO", "t"), "cohorte": ("Cohorte", "i"), "jalon": ("Jalon", "t"),
        "dimension": ("Ventilation", "t"), "modalite": ("Modalité", "t"), "attendus": ("Attendus", "t"),
        "observes": ("Observés", "t"), "emploi_durable": ("Emploi durable", "t"),
        "emploi_transition": ("Emploi de transition", "t"), "formation_qualifiante": ("Formation", "t"),
        "recherche_emploi": ("Recherche d'emploi", "t"), "inactif": ("Inactif", "t"),
        "perdu_de_vue": ("Perdu de vue", "t"), "taux_sortie_positive": ("Sorties positives (%)", "n")}),
    ("Qualité", "qualite", {
        "famille": ("Famille", "t"), "fichier": ("Fichier", "t"), "version": ("Version", "i"),
        "statut": ("Statut", "t"),
        "lignes_lues": ("Lues", "i"), "lignes_retenues": ("Retenues", "i"), "lignes_quarantaine": ("Quarantaine", "i"),
        "message": ("Message", "t")}),
    ("Sources", "sources", {
        "annee": ("Année", "i"), "famille": ("Famille", "t"), "nom_fichier": ("Fichier", "t"),
        "version": ("Version", "i"), "sha256": ("SHA-256", "t"), "origine": ("Origine", "t")}),
]


def render_xlsx(data: BilanData) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    # partner text is data, never a formula or a link: every string is written as a string cell
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    book.set_properties({"title": f"Annexe du bilan {data.annee} — {data.territoire.nom}", "author": "bilan-quartiers",
                         "comments": f"run {data.run_id}, référentiel {data.referentiel_version}"})
    header = book.add_format({"bold": True, "bg_color": "#EEF3F8", "border": 1, "text_wrap": True, "valign": "top"})
    formats = {"n": book.add_format({"num_format": "# ##0.0"}), "e": book.add_format({"num_format": '# ##0 "€"'}),
               "i": book.add_format({"num_format": "0"}), "r": book.add_format({"num_format": "0.0%"}),
               "t": None}
    frames = {"referentiel": data.referentiel, "measures": data.measures, "programmation": data.programmation,
              "engagements": data.engagements, "tfpb": data.tfpb, "indicateurs": data.indicateurs,
              "cohortes": data.cohortes, "qualite": data.qualite, "sources": data.sources}
    for sheet_name, key, columns in ANNEX_SHEETS:
        frame = frames[key]
        sheet = book.add_worksheet(sheet_name)
        present = [c for c in columns if c in frame.columns] if len(frame.columns) else []
        for j, c in enumerate(present):
            sheet.write_string(0, j, columns[c][0], header)
            sheet.set_column(j, j, 14 if columns[c][1] != "t" else 22)
        if not present:
            sheet.write_string(0, 0, "Aucune donnée pour cette année (famille absente).")
            continue
        for i, row in enumerate(frame[present].itertuples(index=False), start=1):
            for j, (c, v) in enumerate(zip(present, row)):
                kind = columns[c][1]
                if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA:
                    continue
                if kind == "t" or isinstance(v, str):
                    sheet.write_string(i, j, str(v))  # a string cell: a leading = stays text
                else:
                    sheet.write_number(i, j, float(v), formats[kind])
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, len(frame), len(present) - 1)
    notes = book.add_worksheet("Méthode")
    for i, text in enumerate(sections.method_notes(data)):
        notes.write_string(i, 0, text)
    notes.set_column(0, 0, 140)
    book.close()
    return buffer.getvalue()
