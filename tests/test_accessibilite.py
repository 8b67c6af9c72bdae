"""The HTML bilan is a public document (RGAA): audited by axe-core in Chromium, as a reader's browser opens it. The
demo bilan and a commune bilan have no serious or critical violation; each chart and map is one image with its
title and source as text alternative; the page says its language and has one main landmark."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SERIOUS = {"serious", "critical"}


def _audit(path: Path) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    from tools.screenshot import FLAGS

    assert CHROMIUM.exists(), "chromium absent : `make setup` l'installe (paquet Debian chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        page = browser.new_context(offline=True).new_page()
        page.goto(path.resolve().as_uri(), wait_until="load")
        results = Axe().run(page)
        browser.close()
    return results.response["violations"]


@pytest.fixture(scope="module")
def bilans(demo_run_partage) -> dict[str, Path]:
    folder = demo_run_partage.sortie / "2025" / "ccco"
    return {"territoire": folder / "bilan_ccco_2025.html",
            "commune": sorted((folder / "communes").glob("*.html"))[0]}


@pytest.mark.parametrize("which", ["territoire", "commune"])
def test_axe_core_finds_no_serious_violation(bilans, which):
    violations = _audit(bilans[which])
    serious = [f"{v['impact']} {v['id']} ({len(v['nodes'])}) : {v['help']}" for v in violations
               if v["impact"] in SERIOUS]
    assert serious == []
    # the moderate ones the audit used to report are gone too: landmarks, heading order
    assert [v["id"] for v in violations] == []


def test_each_chart_is_one_image_with_its_title_and_source(bilans):
    html = bilans["territoire"].read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in html
    assert html.count("<main>") == 1
    charts = re.findall(r"<svg\b[^>]*>", html)
    assert len(charts) >= 10
    for tag in charts:
        label = re.search(r'aria-label="([^"]+)"', tag)
        assert 'role="img"' in tag and label and "Source : " in label.group(1), tag
    # inside a chart, no element claims a role of its own (Vega's mark groups had « graphics-symbol »)
    assert 'role="graphics-' not in html
