"""The annual report the law asks for (CGCT L. 1111-2, décret n° 2015-1118; issue 30, item 10): a draft submitted
for at least a month to the conseils citoyens and the municipal councils, then final with their contributions
annexed and the follow-up given to each. Declared in the territory's YAML, checked when loaded."""

from __future__ import annotations

import re

import duckdb
import pytest

from core.config.base import ConfigurationError
from reports.data import load_bilan_data
from reports.render import build_context, render_html
from tests.conftest import config_copy


@pytest.mark.parametrize("old, new, message", [
    ("    avis_jusqu_au: 2026-02-20\n", "    avis_jusqu_au: 2026-02-10\n",
     r"ccco\.yaml : configuration invalide\n  - clé `rapports_annuels\.0` : avis_jusqu_au : le projet est soumis pour "
     r"avis au moins un mois \(du 19/01/2026 au 19/02/2026 au plus tôt\)"),
    ("        suite: \"Liste des actions", "        suite: \"\"\n        ancienne_suite: \"Liste des actions",
     r"clé `rapports_annuels\.0\.contributions\.0\.ancienne_suite` : clé inconnue"),
    ("        fichier: conseil_citoyen_aniche.txt\n", "        fichier: ../../inbox/ccco/2025/secret.csv\n",
     r"clé `rapports_annuels\.0\.contributions\.0\.fichier`"),
])
def test_a_mistake_in_the_annual_report_is_refused_in_french(tmp_path, old, new, message):
    with pytest.raises(ConfigurationError, match=message):
        assert config_copy(tmp_path, {"territoires/ccco.yaml": (old, new)}).territoires is None  # never reached


def test_the_final_version_needs_the_follow_up_given_to_each_contribution(tmp_path):
    config = config_copy(tmp_path, {"territoires/ccco.yaml": (
        '          la commune."\n', '          la commune."\n      - {auteur: "Conseil citoyen de Masny", '
        'recue_le: 2026-02-19, fichier: masny.pdf}\n')})
    with pytest.raises(ConfigurationError, match=r"version définitive : la suite donnée manque pour la contribution "
                                                 r"de Conseil citoyen de Masny"):
        assert config.territoires is None


def test_the_demo_bilan_is_the_final_report_with_its_contributions_annexed(demo_run_partage):
    html = (demo_run_partage.sortie / "2025" / "ccco" / "bilan_ccco_2025.html").read_text(encoding="utf-8")
    assert "Rapport annuel sur la politique de la ville (CGCT, art. L. 1111-2 ; décret n° 2015-1118), version " \
           "définitive" in html
    section = html[html.index('<section id="avis">'):]
    section = section[:section.index("</section>")]
    assert "du 19/01/2026 au 20/02/2026" in section and "2 contributions reçues, annexées ci-dessous" in section
    assert "Conseil citoyen d&#39;Aniche" in section and "Conseil municipal de Somain" in section
    # the text in full, the follow-up given, the fingerprint of the file read
    assert "samedi matin" in section and section.count("<strong>Suite donnée :</strong>") == 2
    assert len(re.findall(r'<code title="[0-9a-f]{64}">', section)) == 2
    assert html.index('id="avis"') < html.index('id="annexe"')


def test_a_draft_says_so_and_annexes_a_pdf_contribution(demo_run_partage, tmp_path, config):
    territoire = config.territoire("ccco")
    draft = territoire.rapports_annuels[0].model_copy(update={"version": "projet", "contributions": [
        territoire.rapports_annuels[0].contributions[0].model_copy(update={"fichier": "avis_aniche.pdf", "suite": ""}),
        territoire.rapports_annuels[0].contributions[1].model_copy(update={"fichier": "absent.txt", "suite": ""})]})
    t = territoire.model_copy(update={"rapports_annuels": [draft]})
    folder = tmp_path / "donnees" / "contributions" / "ccco" / "2025"
    folder.mkdir(parents=True)
    (folder / "avis_aniche.pdf").write_bytes(b"%PDF-1.4\n% avis du conseil citoyen\n%%EOF\n")
    with duckdb.connect(str(demo_run_partage.parametres.warehouse_path), read_only=True) as con:
        data = load_bilan_data(con, config, t, 2025, "projet", tmp_path / "donnees")
    html = render_html(build_context(data, None, {}, None))
    assert ("Projet de rapport annuel sur la politique de la ville, soumis pour avis aux conseils citoyens et aux "
            "conseils municipaux du 19/01/2026 au 20/02/2026.") in html
    assert '<a href="contributions/avis_aniche.pdf">avis_aniche.pdf</a>' in html
    assert "Fichier « absent.txt » introuvable" in html
    assert "la suite qui leur est donnée figurera dans la version définitive" in html
    assert "Suite donnée : non renseignée" not in html   # a draft has no follow-up yet
