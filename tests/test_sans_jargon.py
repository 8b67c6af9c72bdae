"""What the COPIL reads has no developer vocabulary: the text of the demo bilan (HTML and PDF, the territory's and
each commune's) outside the technical annex and its colophon holds no measure code, no schema-qualified table, no
expectation name, no "(s)" plural, no run id, no "seed", no number written with a decimal point."""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from core.config.projet import ProjectConfig

ANNEXE_HTML = '<section id="annexe"'
ANNEXE_PDF = re.compile(r"^\s*Annexe technique", re.MULTILINE)


class _Text(HTMLParser):
    """The text a reader sees (SVG labels included), style and script aside."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The text of a bilan before its technical annex (the last section: codes, fingerprints, run id)."""
    cut = html.find(ANNEXE_HTML)
    parser = _Text()
    parser.feed(html if cut < 0 else html[:cut])
    return "\n".join(parser.parts)


def pdf_text(path: Path) -> str:
    """The PDF's text (pdftotext) up to the page where the technical annex starts."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    pages = text.split("\f")
    starts = [i for i, page in enumerate(pages) if ANNEXE_PDF.search(page)]
    # the table of contents names the annex too: the annex is the last page whose line starts with its title
    return "\f".join(pages[:starts[-1]] if len(starts) > 1 or (starts and starts[-1] > 0) else pages)


def forbidden_patterns(run_id: str, config: ProjectConfig | None = None) -> dict[str, re.Pattern]:
    config = config or ProjectConfig()
    territoire = config.territoire("ccco")
    codes = config.mesures.declarees(config.vocabulaire, config.catalogue(territoire.catalogue_indicateurs))
    prefixes = sorted({c.split(".")[0] for c in codes})
    return {
        "code de mesure": re.compile(r"(?<![\w.])(?:" + "|".join(map(re.escape, prefixes)) + r")\.[a-z_*]"),
        "table qualifiée": re.compile(r"\b(?:staging|marts|publication|referentiel|archive|quarantine|ref)\.[a-z_]+"),
        "attente Great Expectations": re.compile(r"expect_|great_expectations"),
        "pluriel « (s) »": re.compile(r"\w\(s\)"),
        "identifiant d'exécution": re.compile(re.escape(run_id)),
        "nombre à point décimal": re.compile(r"\d\.\d"),
        "seed": re.compile(r"\bseed\b", re.IGNORECASE),
    }


def jargon(text: str, patterns: dict[str, re.Pattern]) -> list[str]:
    hits = []
    for name, pattern in patterns.items():
        for m in pattern.finditer(text):
            hits.append(f"{name} : …{text[max(0, m.start() - 40):m.end() + 40]!r}…")
    return hits


def test_the_scanner_finds_each_kind_of_jargon():
    patterns = forbidden_patterns("ddf473a3-e171")
    text = ("Mesures : prog.montant_accorde ; table marts.tfpb ; expect_column_values_to_be_between ; 3 couple(s) ; "
            "run ddf473a3-e171 ; SIGH : 98.0 % ; (seed 001, V.3)")
    found = {h.split(" : ")[0] for h in jargon(text, patterns)}
    assert found == set(patterns)
    clean = "Crédits accordés : 1\u202f092\u202f500\u00a0€ ; 98,0\u00a0% ; 3 couples bailleur-quartier ; −0,1\u00a0pt"
    assert jargon(clean, patterns) == []


def test_annex_is_left_out_of_the_scan():
    html = "<p>Texte</p><style>.a{width:1.5mm}</style><section id=\"annexe\"><p>run abc seed 1.2</p></section>"
    assert html_text(html).strip() == "Texte"


def test_demo_bilan_has_no_jargon(demo_run_partage):
    run_id = demo_run_partage.results[-1].run_id
    patterns = forbidden_patterns(run_id)
    folder = demo_run_partage.sortie / "2025" / "ccco"
    htmls = [folder / "bilan_ccco_2025.html", *sorted((folder / "communes").glob("*.html"))]
    assert len(htmls) > 1
    hits = []
    for path in htmls:
        html = path.read_text(encoding="utf-8")
        assert run_id in html  # the colophon keeps it: the scan must cut at the annex, not miss the run id
        hits += [f"{path.name} : {h}" for h in jargon(html_text(html), patterns)]
        pdf = path.with_suffix(".pdf")
        if pdf.is_file():
            hits += [f"{pdf.name} : {h}" for h in jargon(pdf_text(pdf), patterns)]
    assert not hits, "\n".join(hits[:40])


@pytest.mark.parametrize("kind", ["html", "pdf"])
def test_demo_bilan_opens_on_the_written_synthesis_and_ends_on_glossary_and_colophon(demo_run_partage, kind):
    folder = demo_run_partage.sortie / "2025" / "ccco"
    path = folder / f"bilan_ccco_2025.{kind}"
    assert path.is_file(), path  # the shared demo run prints its PDF
    text = (html_text(path.read_text(encoding="utf-8")) if kind == "html"
            else subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout)
    for heading in ("L'année en bref", "Par priorité : ce qui a bougé", "Points de vigilance pour l'appel à projets",
                    "Glossaire", "EPICE"):
        assert heading in text
    if kind == "pdf":
        # each alert sends to its page: « voir la TFPB, p. 14 »
        assert re.search(r"voir la TFPB, p\.\s*\d+", text)
        assert "Colophon" in text
