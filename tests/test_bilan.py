"""The bilan for the COPIL: files written, figures equal to the marts, self-contained HTML opened offline in
Chromium, PDF pages rendered by pdftoppm, XLSX annex, missing families, hostile partner text."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml
from dagster import DagsterInstance, materialize

from core.config.base import PROJECT_ROOT
from core.config.projet import ProjectConfig
from core.resources import BilanSettings, warehouse
from pipelines.definitions import ALL_ASSETS, WITHOUT_BILAN

NB, NNB = "\u00a0", "\u202f"
FIXTURES = PROJECT_ROOT / "tests" / "fixtures"


def french(value: float, decimals: int = 0) -> str:
    """Independent of reports.format: French grouping with a narrow no-break space, decimal comma."""
    return f"{value:,.{decimals}f}".replace(",", NNB).replace(".", ",")


def _run(data_root: Path, sortie: Path, years: list[int], bilan_years: list[int], pdf: bool = True):
    parametres = BilanSettings(racine_donnees=str(data_root), sortie=str(sortie), pdf=pdf)
    instance = DagsterInstance.ephemeral()
    for annee in years:
        selection = None if annee in bilan_years else WITHOUT_BILAN
        result = materialize(ALL_ASSETS, partition_key=str(annee), instance=instance, selection=selection,
                             resources={"parametres": parametres,
                                        "entrepot": warehouse(parametres.warehouse_path)})
        assert result.success
    return parametres


def _without_measure_marks(html: str) -> str:
    """The HTML as a reader sees it: the data- attributes naming each figure's measure (tests/test_une_valeur.py)
    and the bare <span> holding a figure left out."""
    html = re.sub(r' data-(?:mesure|cle|qpv)="[^"]*"', "", html)
    return re.sub(r"<span>([^<]*)</span>", r"\1", html)


@pytest.fixture(scope="module")
def demo(demo_run_partage):
    folder = demo_run_partage.sortie / "2025" / "ccco"
    con = duckdb.connect(str(demo_run_partage.parametres.warehouse_path), read_only=True)
    yield folder, con, _without_measure_marks((folder / "bilan_ccco_2025.html").read_text(encoding="utf-8"))
    con.close()


def test_all_outputs_are_written(demo):
    folder, _, _ = demo
    for name in ("bilan_ccco_2025.html", "bilan_ccco_2025.pdf", "bilan_ccco_2025_annexe.xlsx"):
        assert (folder / name).stat().st_size > 10_000, name
    communes = sorted(p.name for p in (folder / "communes").glob("*.html"))
    assert len(communes) == 9 and "bilan_ccco_2025_hornaing.html" in communes   # every commune hosting a QPV
    assert len(list((folder / "communes").glob("*.pdf"))) == 9
    assert not list(folder.rglob("*.tmp"))                                       # atomic writes left nothing behind


def test_synthesis_and_programming_figures_equal_the_marts(demo):
    _, con, html = demo
    total, bop, dossiers = con.execute(
        "SELECT sum(montant_accorde), sum(montant_accorde) FILTER (WHERE financeur = 'etat_bop147'), "
        "count(DISTINCT numero_dossier) FILTER (WHERE statut = 'accorde') FROM marts.programmation "
        "WHERE annee = 2025 AND statut = 'accorde'").fetchone()
    assert f"{french(total)}{NB}€" in html
    assert f"{french(bop)}{NB}€" in html
    assert f"{dossiers} dossiers accordés" in html
    cpo = con.execute("SELECT 100.0 * count(DISTINCT numero_dossier) FILTER (WHERE mode_financement = 'CPO') / "
                      "count(DISTINCT numero_dossier) FROM marts.programmation WHERE annee = 2025 "
                      "AND statut = 'accorde'").fetchone()[0]
    assert f"{french(cpo, 1)}{NB}%" in html


def test_beneficiaries_are_called_participations_and_not_a_share_of_the_population(demo):
    """Porteurs declare their action's beneficiaries: summed over actions they count participations, a person in
    three actions three times; the bilan says so, and what the total would wrongly seem to be a share of."""
    _, con, html = demo
    total = con.execute("SELECT valeur FROM publication.mesures WHERE annee = 2025 AND territoire = 'ccco' "
                        "AND code_mesure = 'bilans.beneficiaires' AND perimetre = 'territoire' AND cle IS NULL"
                        ).fetchone()[0]
    # the complete reports of the actions of 2024, one per dossier (the latest)
    declared = con.execute("SELECT sum(beneficiaires_total) FROM marts.bilans_actions WHERE annee = 2025 "
                           "AND annee_action = 2024 AND territoire = 'ccco'").fetchone()[0]
    assert total == declared
    population = sum(q.population for q in ProjectConfig().territoire("ccco").qpv)   # the contract's QPV
    html = re.sub(r"<[^>]+>", "", html)                                               # the text a reader reads
    assert f"{french(total)} participations déclarées" in html
    assert "une personne suivie par plusieurs actions est comptée plusieurs fois" in html
    share = french(100 * total / population)
    assert f"Rapporté aux {french(population)} habitants des QPV, il en ferait {share}{NB}%" in html
    assert "Participations aux actions 2024" in html and "Bénéficiaires des actions" not in html


def test_each_qpv_page_sets_the_quartier_beside_the_others_and_the_department(demo):
    _, con, html = demo
    rows = con.execute("SELECT perimetre, code_indicateur, libelle_indicateur, valeur, valeur_qpv_departement "
                       "FROM publication.indicateurs WHERE annee = 2025 AND territoire = 'ccco' AND unite = "
                       "'pourcentage' AND NOT coalesce(secret, false) AND valeur IS NOT NULL ORDER BY ALL").df()
    qpv = rows[rows["perimetre"] != "territoire"]
    code = "taux_pauvrete"          # a key indicator (a needs indicator of the orientations): on the short page
    one = qpv[qpv["code_indicateur"] == code].sort_values("valeur", ascending=False)
    top = one.iloc[0]
    assert top["valeur"] > one["valeur"].iloc[1]                            # a quartier alone at the top
    whole = rows[(rows["perimetre"] == "territoire") & (rows["code_indicateur"] == code)]["valeur"].iloc[0]
    page = html.split(f'<section id="qpv-{top["perimetre"]}" class="qpv-courte">')[1].split("</section>")[0]
    row = next(r for r in page.split("<tr>") if f"<td>{top['libelle_indicateur']}</td>" in r)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[2] == f"{french(top['valeur'], 1)}{NB}%"
    assert cells[4] == f"{french(whole, 1)}{NB}%"                           # the contract's QPV as a whole
    assert cells[5] == f"1er sur {len(one)}"
    assert cells[6] == f"{french(top['valeur_qpv_departement'], 1)}{NB}%"   # the department's QP
    assert "QP du Nord" in page and "Rang parmi les QPV" in page
    # and its money beside last year's (the published measure of 2024)
    before = con.execute("SELECT valeur FROM publication.mesures WHERE annee = 2024 AND territoire = 'ccco' AND "
                         "code_mesure = 'prog.montant_accorde' AND perimetre = ? AND cle IS NULL",
                         [top["perimetre"]]).fetchone()[0]
    assert f"(2024 : {french(before)}{NB}€, " in re.sub(r"<[^>]+>", "", page)


def test_tfpb_indicators_and_referential_sections_show_the_marts(demo):
    _, con, html = demo
    abattement, valorise = con.execute("SELECT sum(montant_abattement), sum(montant_valorise) FROM marts.tfpb "
                                       "WHERE annee = 2025").fetchone()
    assert f"{french(abattement)}{NB}€" in html and f"{french(100 * valorise / abattement, 1)}{NB}%" in html
    for code in ("taux_pauvrete", "taux_emploi_femmes", "part_c2s"):
        value, gap = con.execute("SELECT valeur, ecart_qpv_departement FROM marts.indicateurs WHERE annee = 2025 "
                                 "AND perimetre = 'territoire' AND code_indicateur = ?", [code]).fetchone()
        sign = "+" if gap > 0 else "−"
        assert f"{french(value, 1)}{NB}%" in html and f"{sign}{french(abs(gap), 1)}{NB}pt" in html, code
    # the synthesis counts the statuses of means and of results apart
    statuses = con.execute("SELECT nature, statut, count(*) FROM publication.referentiel WHERE annee = 2025 "
                           "GROUP BY ALL").fetchall()
    assert {nature for nature, _, _ in statuses} == {"moyens", "resultats"}
    for nature, status, n in statuses:
        paragraph = html[html.index(f'data-nature="{nature}"'):]
        assert f">{status}</span> {n}" in paragraph[:paragraph.index("</p>")], (nature, status)
    assert html.count('class="statut statut-') >= sum(n for _, _, n in statuses)


def test_commitments_section_shows_the_marts(demo):
    _, con, html = demo
    total_dc = con.execute("SELECT sum(montant_droit_commun) FROM marts.engagements WHERE annee = 2025 "
                           "AND perimetre = 'territoire'").fetchone()[0]
    assert f"Droit commun mobilisé déclaré : <strong>{french(total_dc)}{NB}€</strong>" in html
    cible, realise, taux = con.execute(
        "SELECT valeur_cible, valeur_realisee, taux_realisation FROM marts.engagements WHERE annee = 2025 "
        "AND perimetre = 'territoire' AND taux_realisation IS NOT NULL AND unite = 'nombre' "
        "ORDER BY partenaire, indicateur LIMIT 1").fetchone()
    assert f'<td class="n">{french(cible)}</td><td class="n">{french(realise)}</td>' in html
    missing = con.execute("SELECT count(*) FROM staging.qualite_fichiers WHERE annee_boite = 2025 "
                          "AND fichier LIKE 'engagements%ars%'").fetchone()[0]
    # the partner who did not send its file, its family named in words
    assert missing == 0 and "Engagements des partenaires — ARS Hauts-de-France" in html


def test_every_section_names_its_sources(demo):
    # in words for the COPIL; measure codes live in the XLSX annex, file fingerprints in the technical annex
    _, _, html = demo
    for marker in ("Source : engagements des partenaires", "Source : déclarations TFPB des bailleurs",
                   "Source : indicateurs des observatoires", "fichiers de suivi des porteurs de CPO", "SHA-256"):
        assert marker in html.replace("&#39;", "'"), marker
    assert html.index('<section id="annexe"') < html.index("<th>Empreinte SHA-256")


def test_cohort_section_respects_secrecy(demo):
    _, con, html = demo
    assert "&lt; 5" in html
    shown = con.execute("SELECT observes FROM publication.cohortes_jalons WHERE annee = 2025 AND dimension = "
                        "'ensemble'").fetchall()
    assert all(v[0] in ("< 5", "secret statistique") or int(v[0]) >= 5 for v in shown)


def test_html_opens_offline_in_chromium_without_errors_or_requests(demo, tmp_path):
    from tools.screenshot import open_all_offline

    folder, _, _ = demo
    shot = tmp_path / "bilan.png"
    result, commune = open_all_offline([folder / "bilan_ccco_2025.html",
                                        folder / "communes" / "bilan_ccco_2025_somain.html"], [shot, None])
    assert result["outside"] == [] and result["errors"] == []
    # the contents' title, then the sections in config/bilan.yaml's order: the last COPIL's decisions first
    assert result["headings"][:5] == ["Sommaire", "Suites données aux décisions du COPIL du 20/03/2025", "Synthèse",
                                      "Orientations proposées au comité de pilotage", "Le référentiel d'évaluation"]
    assert shot.stat().st_size > 20_000
    assert commune["outside"] == [] and commune["errors"] == []


def test_pdf_has_header_page_numbers_and_renders_to_png(demo, tmp_path):
    folder, _, _ = demo
    pdf = folder / "bilan_ccco_2025.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    assert len(pages) > 20
    assert "CCCO — bilan 2025 du contrat de ville" in pages[1] and "Page 2 /" in pages[1]
    assert "Synthèse" in pages[0] and "Méthode" in pages[0] and "Glossaire" in pages[0]  # contents on the cover
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "3", str(pdf), str(tmp_path / "p")], check=True)
    assert len(list(tmp_path.glob("p-*.png"))) == 3


def test_xlsx_annex_carries_every_table_and_the_measure_codes(demo):
    folder, con, _ = demo
    book = openpyxl.load_workbook(folder / "bilan_ccco_2025_annexe.xlsx", read_only=True)
    assert {"Référentiel", "Mesures", "Programmation", "Engagements", "TFPB", "Indicateurs", "Cohortes", "Qualité",
            "Sources", "Méthode"} <= set(book.sheetnames)
    rows = list(book["Mesures"].iter_rows(values_only=True))
    assert rows[0][:4] == ("Code de mesure", "Code de mesure (libellé)", "Périmètre", "Clé")
    n = con.execute("SELECT count(*) FROM referentiel.mesures WHERE annee = 2025 AND territoire = 'ccco'").fetchone()[0]
    assert len(rows) - 1 == n
    # numbers are numbers, not text; a value under secrecy is empty and says so (the sheet is publication.mesures)
    assert rows[0][5] == "Secret statistique (valeur non publiée)"
    assert all(isinstance(r[4], (int, float)) and r[5] is None or r[4] is None and r[5] in ("< 5", "secret statistique")
               for r in rows[1:])
    assert any(r[5] for r in rows[1:])


def test_bilan_renders_when_families_are_missing(tmp_path):
    # the hand-written fixtures hold no TFPB, no commitments, no indicators and no cohorts for 2024
    from reports.pdf import render_pdf

    # the territory's PDF printed here rather than by the run, which would print the nine communes' too
    _run(FIXTURES / "marts", tmp_path, [2024], [2024], pdf=False)
    html = (tmp_path / "2024" / "ccco" / "bilan_ccco_2024.html").read_text(encoding="utf-8")
    for family in ("TFPB des bailleurs", "engagements des partenaires", "indicateurs socio-démographiques",
                   "suivi de cohortes des CPO"):
        assert f"Aucun fichier « {family} » n&#39;a été reçu pour 2024" in html, family
    pdf = render_pdf(html)
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000


def test_partner_text_is_escaped_in_html_and_never_a_formula_in_xlsx(tmp_path):
    _run(FIXTURES / "bilan_hostile", tmp_path, [2025], [2025], pdf=False)  # the PDF prints this same HTML
    folder = tmp_path / "2025" / "ccco"
    html = (folder / "bilan_ccco_2025.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    book = openpyxl.load_workbook(folder / "bilan_ccco_2025_annexe.xlsx")
    sheet = book["Programmation"]
    porteurs = [row[1] for row in sheet.iter_rows(min_row=2)]
    formula_like = [c for c in porteurs if str(c.value).startswith(("=", "@"))]
    assert len(formula_like) >= 2
    assert all(c.data_type == "s" for c in formula_like)                      # text cells, not formulas


def test_programming_breakdowns_are_the_published_measures_with_vocabulary_labels(demo):
    _, con, html = demo
    config = ProjectConfig()
    labels = config.vocabulaire.libelles("financeurs")
    names = {q.code: q.nom for q in config.territoire("ccco").qpv}
    rows = con.execute("SELECT code_mesure, cle, valeur FROM referentiel.mesures WHERE annee = 2025 AND territoire = "
                       "'ccco' AND perimetre = 'territoire' AND code_mesure LIKE 'prog.montant\\_%' ESCAPE '\\' "
                       "AND cle IN (SELECT code FROM ref.vocabulaire WHERE domaine = 'financeurs') "
                       "AND substr(code_mesure, 14) IN (SELECT code FROM ref.vocabulaire WHERE domaine = "
                       "'natures_credit')").fetchall()  # prog.montant_<nature> by financer
    assert len(rows) >= 5
    for code, financeur, montant in rows:
        nature = config.vocabulaire.libelles("natures_credit")[code.removeprefix("prog.montant_")]
        cell = f"<td>{labels[financeur]}</td><td>{nature}</td><td class=\"n\">{french(montant)}{NB}€"
        text = html.replace("&#39;", "'")
        # the figure closes its cell, or is followed by the note of the rejected rows that would have changed it
        assert (cell + "</td>" in text or cell + '<br><span class="raison provisoire">provisoire' in text), \
            (financeur, nature)
    for code_qpv, montant, par_habitant in con.execute(
            "SELECT a.perimetre, a.valeur, h.valeur FROM referentiel.mesures a JOIN referentiel.mesures h "
            "USING (territoire, annee, perimetre) WHERE a.annee = 2025 AND a.code_mesure = 'prog.montant_accorde' "
            "AND a.cle IS NULL AND h.code_mesure = 'prog.montant_par_habitant' AND h.cle IS NULL "
            "AND a.perimetre <> 'territoire'").fetchall():
        assert f"<td>{names[code_qpv]}</td>" in html.replace("&#39;", "'")  # the QPV's name, not its code
        # the QPV's money, perhaps with the note of the rejected rows that would have changed it, then per inhabitant
        note = r'(<br><span class="raison provisoire">[^<]*</span>)?'
        assert re.search(re.escape(f"{french(montant)}{NB}€") + note + re.escape(
            f"</td><td class=\"n\">{french(par_habitant, 2)}{NB}€"), html), code_qpv


def test_thresholds_come_from_the_settings(demo, tmp_path):
    from reports.data import load_bilan_data
    from reports.sections import Geography, droit_commun, programmation, section_of, tfpb
    from reports.sections.methode import method_notes

    def build(module, data):
        return module.build(data, section_of(data, module.__name__.rsplit(".", 1)[1]), Geography())

    _, con, html = demo
    assert f"d'au moins 50{NB}%" in html and f"trait : 100{NB}%" in html
    cfg_dir = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", cfg_dir)
    settings = yaml.safe_load((cfg_dir / "settings.yaml").read_text(encoding="utf-8"))
    settings["seuils"] = {"alerte_realisation_engagement": 0, "couverture_tfpb": 90, "part_cpo_visee": 40}
    (cfg_dir / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    config = ProjectConfig(cfg_dir)
    data = load_bilan_data(con, config, config.territoire("ccco"), 2025, "test")
    assert not any(r["alerte"] for r in build(droit_commun, data)["lignes"])   # nothing achieved below 0 %
    assert build(programmation, data)["cles"]["cpo_vise"] == f"40{NB}%"
    assert f"trait : 90{NB}%" in build(tfpb, data)["graphique_couverture"]
    assert any(f"alerte sous 90{NB}%" in n for n in method_notes(data))
    flagged = [r for r in build(droit_commun, load_bilan_data(con, ProjectConfig(), config.territoire("ccco"), 2025,
                                                              "test"))["lignes"] if r["alerte"]]
    assert flagged and html.count('class="n alerte"') >= len(flagged)


def test_missing_files_are_a_pipeline_table_that_the_bilan_reads(demo):
    _, con, html = demo
    rows = con.execute("SELECT famille, attendu FROM staging.fichiers_manquants WHERE territoire = 'ccco' "
                       "AND annee = 2025 ORDER BY rang").fetchall()
    assert ("engagements", "ARS Hauts-de-France") in rows
    labels = ProjectConfig().vocabulaire.libelles("familles")
    assert all(f"{labels[famille][:1].upper()}{labels[famille][1:]} — {attendu}" in html for famille, attendu in rows)


def test_reports_import_nothing_from_assets_and_feedback_nothing_from_reports():
    import ast

    def imported(path: Path) -> set[str]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        return ({n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
                | {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names})

    for path in (PROJECT_ROOT / "reports").rglob("*.py"):
        assert not imported(path) & {"assets", "checks"}, path.name
    assert "reports" not in imported(PROJECT_ROOT / "assets" / "retours.py")
    import inspect

    from reports.sections import droit_commun, programmation, quartiers, synthese, tfpb

    # the money sections select published measures: no regrouping or summing of marts in the report
    for section in (synthese.build, programmation.build, droit_commun.build, tfpb.build, quartiers.build,
                    quartiers._pages):
        source = inspect.getsource(section)
        assert not [w for w in ("groupby", ".sum(", ".agg(", ".mean(") if w in source], (section.__module__,
                                                                                          section.__name__)
