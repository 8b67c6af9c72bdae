"""The COPIL's decisions and their follow-up (issue 30, item 3): recorded by the steward in
config/decisions/<territoire>/<annee>.yaml, checked against the territory when loaded (errors in French naming the
file and the key), and shown at the opening of the next bilan with their state and the movement of their figures."""

from __future__ import annotations

import re

import pytest

from core.config.base import ConfigurationError
from tests.conftest import config_copy


def test_the_demo_records_the_decisions_of_the_copil_of_the_2024_bilan(config):
    d = config.decisions("ccco", 2024)
    assert d is not None and d.copil.isoformat() == "2025-03-20"
    assert [x.code for x in d.decisions] == ["D1", "D2", "D3", "D4"]
    assert config.decisions("ccco", 2023) is None   # no file: nothing recorded, no error


@pytest.mark.parametrize("old, new, message", [
    ("indicateurs: [I7.1, I7.2]", "indicateurs: [I7.1, I9.9]",
     r"2024\.yaml : configuration invalide\n  - clé `decisions\.0\.indicateurs\.1` : « I9\.9 » n'est pas dans la "
     r"liste du référentiel « ccco »"),
    ("qpv: [QN05940M, QN05939M]", "qpv: [QN05940M, QN05999Z]",
     r"clé `decisions\.3\.qpv\.1` : « QN05999Z » n'est pas dans la liste du territoire « ccco »"),
    ("partenaires: [Norévie, SIGH]", "partenaires: [Norevie, SIGH]",
     r"clé `decisions\.1\.partenaires\.0` : « Norevie » n'est pas dans la liste du territoire"),
    ("objectifs: [OG.4.1]", "objectifs: [OG.9.1]", r"clé `decisions\.3\.objectifs\.0` : « OG\.9\.1 »"),
    ("copil: 2025-03-20", "copil: 2025-03-21", r"clé `copil` : 21/03/2025 n'est pas une date de COPIL du territoire"),
    ("    etat: reportee\n", "    etat: suspendue\n",
     r"clé `decisions\.3\.etat` : « suspendue » n'est pas dans la liste `etats_decision`"),
    ("    echeance: 2025-09-30\n", "    echeance: fin septembre\n", r"clé `decisions\.1\.echeance`"),
    ("  - code: D2\n", "  - code: D1\n", r"décision\(s\) citée\(s\) deux fois : D1"),
])
def test_a_mistake_in_a_decisions_file_is_refused_in_french(tmp_path, old, new, message):
    with pytest.raises(ConfigurationError, match=message):
        config = config_copy(tmp_path, {"decisions/ccco/2024.yaml": (old, new)})
        assert config.decisions("ccco", 2024) is None  # never reached: loading raises


def test_the_next_bilan_opens_with_their_follow_up(demo_run_partage):
    html = (demo_run_partage.sortie / "2025" / "ccco" / "bilan_ccco_2025.html").read_text(encoding="utf-8")
    main = html[html.index("<main>"):]
    assert main.index('<section id="decisions">') < main.index('<section id="synthese">')
    assert '<a href="#decisions">Suites données aux décisions du COPIL du 20/03/2025</a>' in html
    section = main[:main.index("</section>")]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    assert "4 décisions : 2 en cours, 1 réalisée, 1 reportée ; 3 dont l'échéance est passée" in text.replace(" ,", ",")
    # D1 (en cours, due 31/12/2025) is past its deadline at the COPIL of the 2025 bilan (19/03/2026); D2 is closed
    rows = re.findall(r"<tr><td><strong>(D\d)\..*?</tr>", section, re.S)
    assert rows == ["D1", "D2", "D3", "D4"]
    d1 = section[section.index("<strong>D1.</strong>"):section.index("<strong>D2.</strong>")]
    d2 = section[section.index("<strong>D2.</strong>"):section.index("<strong>D3.</strong>")]
    assert "dépassée" in d1 and "dépassée" not in d2
    # each linked figure with its movement: an indicator's value, last year's, its status; a landlord's counterparts
    assert re.search(r"Part des dossiers financés en CPO[^<]*: 36,8\xa0% \(\d+,\d\xa0% en 2024\) — ", d1)
    assert re.search(r"SIGH : [\d\u202f]+\xa0€ de contreparties TFPB valorisées en 2025 "
                     r"\([\d\u202f]+\xa0€ en 2024\)", d2)
    # the commune bilans do not carry it
    commune = sorted((demo_run_partage.sortie / "2025" / "ccco" / "communes").glob("*.html"))[0]
    assert 'id="decisions"' not in commune.read_text(encoding="utf-8")
