"""A length a COPIL reads (issue 30, item 5, in part): a quartier's page of the territory's bilan shows its largest
actions and counts the others; its commune bilan and the XLSX annex list them all."""

from __future__ import annotations

import html as html_lib
import re

import duckdb

from core.config.projet import ProjectConfig


def _actions(page: str) -> list[str]:
    table = page[page.index("<h3>Actions programmées"):]
    table = table[:table.index("</table>")]
    return re.findall(r"<tr><td[^>]*>(\d{4}-\d{5})</td>", table)


def test_a_quartier_page_shows_its_largest_actions_and_the_commune_bilan_all(demo_run_partage):
    cap = ProjectConfig().settings.rendu.actions_par_quartier
    folder = demo_run_partage.sortie / "2025" / "ccco"
    bilan = html_lib.unescape((folder / "bilan_ccco_2025.html").read_text(encoding="utf-8"))
    with duckdb.connect(str(demo_run_partage.parametres.warehouse_path), read_only=True) as con:
        aimed = dict(con.execute(
            "SELECT m.perimetre, count(*) FROM publication.mesures m JOIN (SELECT DISTINCT numero_dossier, "
            "qpv_cibles FROM publication.programmation WHERE annee = 2025 AND territoire = 'ccco') p "
            "ON p.numero_dossier = m.cle WHERE m.annee = 2025 AND m.territoire = 'ccco' AND m.code_mesure = "
            "'prog.montant_dossier' AND p.qpv_cibles <> 'TOUS' GROUP BY 1").fetchall())
    capped = 0
    for code, n in aimed.items():
        page = bilan[bilan.index(f'<section id="qpv-{code}" class="qpv-courte">'):]
        page = page[:page.index("</section>")]
        shown = _actions(page)
        assert len(shown) == min(n, cap), code
        if n > cap:
            capped += 1
            assert f"Sur {n} actions, les {cap} aux plus grandes parts du quartier :" in page
            assert f"… et {n - cap} autre{'s' if n - cap > 1 else ''} (voir le bilan communal et l'annexe XLSX)" in page
    assert capped >= 3
    # Masny's commune bilan lists every action aimed at its quartier
    commune = html_lib.unescape((folder / "communes" / "bilan_ccco_2025_masny.html").read_text(encoding="utf-8"))
    page = commune[commune.index('<section id="qpv-QN05936M">'):]
    assert len(_actions(page[:page.index("</section>")])) == aimed["QN05936M"]


def test_a_quartier_map_has_a_legend(demo_run_partage):
    bilan = (demo_run_partage.sortie / "2025" / "ccco" / "bilan_ccco_2025.html").read_text(encoding="utf-8")
    page = bilan[bilan.index('<section id="qpv-QN05936M" class="qpv-courte">'):]
    page = page[:page.index("</section>")]
    legend = page[page.index('class="note legende-carte"'):]
    legend = legend[:legend.index("</p>")]
    for words in ("Quartier Prioritaire de Masny", "les autres quartiers du contrat", "limites et noms des communes",
                  "contour de l'intercommunalité"):
        assert words in legend, words


def test_a_shared_quartier_says_so_and_names_only_the_contract_s_communes(config):
    import dataclasses

    import pandas as pd

    from reports.sections import Geography, section_of
    from reports.sections.quartiers import build
    from tests.test_synthese import A, make_data

    data = make_data(config)
    qpv = data.qpv.copy()
    qpv["communes"] = [["59008", "59014"], ["59024"]]
    qpv["partage"] = [{"avec": "CA Valenciennes Métropole", "part_population": 0.4}, None]
    data = dataclasses.replace(data, qpv=qpv, tables={**data.tables, "indicateurs": pd.DataFrame()})
    pages = build(data, section_of(data, "quartiers"),
                  Geography(None, {"59008": "Aniche", "59024": "Auberchicourt"}, None))["pages"]
    shared = next(p for p in pages if p["code"] == A)
    assert shared["communes"] == "Aniche" and shared["communes_mot"] == "commune"
    assert shared["partage"] == {"avec": "CA Valenciennes Métropole", "part": "40\u00a0%", "hors": 1}
    assert [p["partage"] for p in pages if p["code"] != A] == [None]


def test_a_quartier_page_shows_its_key_indicators_and_the_commune_bilan_all(demo_run_partage):
    """The territory bilan's page of a quartier gives the needs indicators of the orientations, then those the
    evaluative questions cite, in that order and at most `rendu.indicateurs_par_quartier`; it counts the others,
    which the commune bilan gives."""
    config = ProjectConfig()
    referentiel = config.referentiel("ccco")
    cited = [i.mesure.split(".", 1)[1] for q in referentiel.questions for i in q.indicateurs
             if i.mesure and i.mesure.startswith("indicateur.")]
    key = list(dict.fromkeys([b.indicateur for b in referentiel.orientations.besoins] + cited))
    key = key[:config.settings.rendu.indicateurs_par_quartier]
    with duckdb.connect(str(demo_run_partage.parametres.warehouse_path), read_only=True) as con:
        rows = dict(con.execute(
            "SELECT code_indicateur, libelle_indicateur FROM publication.indicateurs WHERE annee = 2025 AND "
            "territoire = 'ccco' AND perimetre = 'QN05936M'").fetchall())
    folder = demo_run_partage.sortie / "2025" / "ccco"
    bilan = html_lib.unescape((folder / "bilan_ccco_2025.html").read_text(encoding="utf-8"))
    page = bilan[bilan.index('<section id="qpv-QN05936M" class="qpv-courte">'):]
    page = page[:page.index("</section>")]
    table = page[page.index('<table class="qpv-indicateurs">'):]
    shown = re.findall(r"<tr><td>([^<]+)</td>", table[:table.index("</table>")])
    assert shown == [rows[c] for c in key if c in rows] and len(shown) >= 4
    commune = html_lib.unescape((folder / "communes" / "bilan_ccco_2025_masny.html").read_text(encoding="utf-8"))
    full = commune[commune.index('<section id="qpv-QN05936M">'):]
    full = full[full.index('<table class="qpv-indicateurs">'):]
    every = re.findall(r"<tr><td>([^<]+)</td>", full[:full.index("</table>")])
    assert set(shown) < set(every) and len(every) >= 15
    assert f"{len(every) - len(shown)} autres dans le bilan communal (Masny)" in page
