"""A clean print, tested on the PDF itself (`pdftotext -bbox-layout`): every glyph inside the page margins, no
page ending on a heading or a table header, no mostly-empty page except before a chapter, fingerprints on one
short line each."""

from __future__ import annotations

import html as htmllib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

from reports.render import TEMPLATES, render_pdf

MM = 72 / 25.4
# bilan.css: @page margins (top, right, bottom, left) in mm
TOP, RIGHT, BOTTOM, LEFT = 20, 15, 18, 15
XHTML = "{http://www.w3.org/1999/xhtml}"


@dataclass
class Line:
    words: list[tuple[float, float, float, float, str]]

    @property
    def text(self) -> str:
        return " ".join(w[4] for w in self.words)

    @property
    def height(self) -> float:
        return max(w[3] - w[1] for w in self.words)


@dataclass
class Page:
    width: float
    height: float
    lines: list[Line]

    def body(self) -> list[Line]:
        """The rows of the text block, top to bottom (the running header and footer aside); pdftotext gives each
        table cell its own line: the lines at one height are one row."""
        inside = sorted((w for ln in self.lines for w in ln.words
                         if w[1] > TOP * MM - 2 and w[3] < self.height - BOTTOM * MM + 2), key=lambda w: (w[1], w[0]))
        rows: list[list] = []
        for w in inside:
            if rows and abs(w[1] - rows[-1][0][1]) < 2:
                rows[-1].append(w)
            else:
                rows.append([w])
        return [Line(sorted(r)) for r in rows]


def pdf_pages(pdf: Path) -> list[Page]:
    out = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    root = ElementTree.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", out))
    pages = []
    for p in root.iter(f"{XHTML}page"):
        lines = [Line([(float(w.get("xMin")), float(w.get("yMin")), float(w.get("xMax")), float(w.get("yMax")),
                        w.text or "") for w in ln.iter(f"{XHTML}word")]) for ln in p.iter(f"{XHTML}line")]
        pages.append(Page(float(p.get("width")), float(p.get("height")), [ln for ln in lines if ln.words]))
    return pages


# Chromium lays the page out in whole CSS pixels (15 mm = 56.7 px) and pdftotext measures glyph advances: half a
# millimetre, far under what a table running off the page (centimetres) shows
TOLERANCE = 1.5


def outside_margins(pages: list[Page]) -> list[tuple[int, str]]:
    return [(i, w[4]) for i, p in enumerate(pages, 1) for ln in p.lines for w in ln.words
            if w[0] < LEFT * MM - TOLERANCE or w[2] > p.width - RIGHT * MM + TOLERANCE or w[1] < 0 or w[3] > p.height]


def _plain(fragment: str) -> str:
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def headings(html: str) -> dict[str, list[str]]:
    """h2/h3 texts, the blocks that head what follows them (h3 and h4 whole, with their notes; an evaluative
    question's wording above its table) and each table's header row (its cells), from the HTML the PDF was made of."""
    return {"titres": [_plain(h) for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", html, re.S)],
            "blocs": [_plain(b) for b in re.findall(
                r"<h[34][^>]*>(.*?)</h[34]>|<div class=\"question\">\s*<p>(.*?)</p>", html, re.S) for b in b if b],
            "entetes": [[_plain(c) for c in re.findall(r"<th[^>]*>(.*?)</th>", row, re.S)]
                        for row in re.findall(r"<tr>((?:\s*<th[^>]*>.*?</th>)+)\s*</tr>", html, re.S)]}


def _is_heading(line: Line, found: dict[str, list[str]]) -> bool:
    text = line.text
    if line.height >= 12 and any(t.endswith(text) for t in found["titres"]):   # h3 is 11 pt, text 9.5 pt
        return True
    if len(text) >= 15 and any(text in b for b in found["blocs"]):   # a line of a heading's or a question's text
        return True
    words = set(text.split())
    return any(sum(c in text for c in row if c) >= 2 and words <= set(" ".join(row).split())
               for row in found["entetes"])


def pages_ending_on_a_heading(pages: list[Page], html: str) -> list[tuple[int, str]]:
    found = headings(html)
    return [(i, body[-1].text) for i, p in enumerate(pages, 1) for body in [p.body()]
            if body and _is_heading(body[-1], found)]


def mostly_empty_pages(pages: list[Page], html: str, threshold: float = 0.5) -> list[tuple[int, float]]:
    """Pages filled under `threshold` of the text block's height, unless the next page opens a chapter (h2)."""
    chapters = [t for t in headings(html)["titres"]]
    out = []
    for i, (page, following) in enumerate(zip(pages, pages[1:]), 1):
        body, next_body = page.body(), following.body()
        if not body or not next_body:
            continue
        fill = (body[-1].words[0][3] - TOP * MM) / (page.height - (TOP + BOTTOM) * MM)
        first = next_body[0]
        opens_chapter = first.height >= 14 and any(t.startswith(first.text) for t in chapters)
        if fill < threshold and not opens_chapter:
            out.append((i, round(fill, 2)))
    return out


def _page(body: str) -> str:
    css = (TEMPLATES / "bilan.css").read_text(encoding="utf-8")
    return f"<html><head><style>{css}</style></head><body>{body}</body></html>"


def test_wide_table_stays_inside_the_text_block(tmp_path):
    """The print rules on their own: a table shaped like the indicators' (long labels, eight columns, long header
    cells) and the sources' (long file names, fingerprints) is wrapped, not cut at the right margin."""
    header = ("<tr><th>Indicateur</th><th>Fichier</th>"
              + '<th class="n">QP du département du Nord (moyenne des quartiers)</th>' * 6 + "</tr>")
    row = ("<tr><td>Part des demandeurs d'emploi de catégorie A inscrits depuis plus d'un an</td>"
           "<td>cohortes_cpo_ccco_2024_07_cs_adolphe_largiller_2025.csv</td>"
           + '<td class="n">1\u202f234\u202f567\u00a0€</td><td class="n">−12,3\u00a0pt</td>' * 3 + "</tr>")
    html = _page(f"<h2>Tableau</h2><table>{header}{row * 30}</table>")
    pdf = tmp_path / "t.pdf"
    pdf.write_bytes(render_pdf(html))
    assert outside_margins(pdf_pages(pdf)) == []


@pytest.fixture(scope="module")
def demo_pdf(demo_run_partage):
    folder = demo_run_partage.sortie / "2025" / "ccco"
    return folder, pdf_pages(folder / "bilan_ccco_2025.pdf"), (folder / "bilan_ccco_2025.html").read_text("utf-8")


def test_demo_bilan_glyphs_all_inside_the_margins(demo_pdf):
    folder, pages, _ = demo_pdf
    assert outside_margins(pages) == []
    commune = folder / "communes" / "bilan_ccco_2025_somain.pdf"
    assert outside_margins(pdf_pages(commune)) == []


def _communes(folder) -> list[tuple[str, list[Page], str]]:
    return [(pdf.name, pdf_pages(pdf), pdf.with_suffix(".html").read_text("utf-8"))
            for pdf in sorted((folder / "communes").glob("*.pdf"))]


def test_demo_bilan_no_page_ends_on_a_heading_or_a_table_header(demo_pdf):
    folder, pages, html = demo_pdf
    assert pages_ending_on_a_heading(pages, html) == []
    communes = _communes(folder)
    assert len(communes) == 9
    assert [(name, found) for name, p, h in communes if (found := pages_ending_on_a_heading(p, h))] == []


def test_demo_bilan_no_mostly_empty_page_except_before_a_chapter(demo_pdf):
    folder, pages, html = demo_pdf
    assert mostly_empty_pages(pages, html) == []
    assert [(name, found) for name, p, h in _communes(folder) if (found := mostly_empty_pages(p, h))] == []


def test_demo_bilan_fingerprints_are_one_short_line_each(demo_pdf):
    _, pages, html = demo_pdf
    lines = [ln.text for p in pages for ln in p.lines]
    assert not any(re.search(r"[0-9a-f]{13,}", t) for t in lines)   # no full SHA-256, not even wrapped
    short = [t for t in lines if re.search(r"\b[0-9a-f]{12}…", t)]
    n_files = len(re.findall(r'<code title="[0-9a-f]{64}">', html))
    assert n_files > 10 and len(short) == n_files


def _contents(folder) -> tuple[str, list[tuple[str, str]], list[int]]:
    """The printed text, the contents' targets (anchor, title) and the page numbers the contents give them."""
    text = subprocess.run(["pdftotext", "-layout", str(folder / "bilan_ccco_2025.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    toc = re.search(r'<nav class="toc">(.*?)</nav>', (folder / "bilan_ccco_2025.html").read_text("utf-8"), re.S)
    assert toc is not None
    targets = re.findall(r'<a href="#([^"]+)">(.*?)</a>', toc.group(1))
    contents = text.split("\f")[0].split("Sommaire", 1)[1]
    numbers = [int(n) for n in re.findall(r"^\s*\S.*?\s{2,}(\d+)\s*$", contents, re.M)]
    assert len(targets) > 10 and len(numbers) == len(targets)
    return text, targets, numbers


def test_demo_contents_give_the_page_each_chapter_starts_on(demo_pdf):
    """The table of contents' numbers (read from the first print's destinations, the front matter printed again with
    them) are the pages the chapters' titles are printed on."""
    folder, _, html = demo_pdf
    text, targets, numbers = _contents(folder)
    pages = [{re.sub(r"\s+", " ", ln).strip() for ln in p.splitlines()} for p in text.split("\f")]
    for (target, _), page in zip(targets, numbers):
        title = re.search(rf'<section id="{re.escape(target)}"[^>]*>\s*<h2[^>]*>(.*?)</h2>', html, re.S)
        assert title is not None, target
        # the first page after the cover (which lists every title) with the title on a line of its own
        printed_on = next(i for i, p in enumerate(pages[1:], start=2) if _plain(title.group(1)) in p)
        assert printed_on == page, (target, page, printed_on)


def test_the_demo_bilan_reads_in_about_forty_pages_a_quartier_on_one(demo_pdf):
    """Issue 30, item 5: the bilan a COPIL reads stays within about 40 pages before its annexes (quality, method,
    glossary, opinions, sources); each quartier of the territory's bilan holds on one page, its commune bilan has
    the rest."""
    folder, pages, _ = demo_pdf
    _, targets, numbers = _contents(folder)
    starts = dict(zip((anchor for anchor, _ in targets), numbers))
    quartiers = [page for anchor, page in starts.items() if anchor.startswith("qpv-")]
    assert len(quartiers) == 8
    following = [page for anchor, page in starts.items() if page > quartiers[-1]][0]
    assert [b - a for a, b in zip(quartiers, quartiers[1:] + [following])] == [1] * 8
    assert starts["qualite"] - 1 <= 40 and len(pages) - starts["qualite"] + 1 <= 8


def test_the_demo_bilan_is_printed_once_and_its_front_matter_again(demo_pdf):
    """Issue 32, item 4: the demo bilan's pages go through Chromium once, and only its front matter (cover,
    contents, synthesis with its cross-references) a second time; its pages replace the first print's."""
    from reports.pdf import ChromiumPrinter, destination_pages, front_matter, page_count

    folder, pages, html = demo_pdf
    with ChromiumPrinter(simultanees=1) as chromium:
        pdf = chromium.pdf(html)
        assert chromium.reprinted_whole == 0
        front = front_matter(html, destination_pages(pdf)[0])
        assert front is not None and 2 <= front[1] <= 6
        assert chromium.pages_printed == page_count(pdf) + front[1]
    assert page_count(pdf) == len(pages)           # the same document as the pipeline's
