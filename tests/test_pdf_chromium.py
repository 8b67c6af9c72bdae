"""The PDF printed by headless Chromium keeps what the bilan's print needs: a running header on every page but the
cover, "Page N / M" and the data's date in the footer, and the page numbers of the table of contents and of the
cross-references, right (reports/pdf.py reads them from the PDF's destinations and prints the front matter again)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from reports.pdf import (
    ChromiumPrinter,
    FrontMismatch,
    destination_pages,
    for_print,
    front_matter,
    page_count,
    pages_of_markers,
    render_pdf,
    submit_pdf,
    with_front,
)
from reports.render import TEMPLATES

CHAPTERS = {"alpha": "Premier chapitre", "beta": "Deuxième chapitre", "gamma": "Troisième chapitre"}


def _bilan_like(paragraphs: dict[str, int]) -> str:
    css = (TEMPLATES / "bilan.css").read_text(encoding="utf-8")
    toc = "".join(f'<li><a href="#{k}">{v}</a></li>' for k, v in CHAPTERS.items())
    text = "<p>" + "Le quartier prioritaire et ses habitants, l'emploi et la formation. " * 12 + "</p>"
    sections = "".join(f'<section id="{k}"><h2>{v}</h2>{text * paragraphs[k]}</section>' for k, v in CHAPTERS.items())
    renvoi = '<p>Une alerte (<a class="renvoi" href="#gamma">voir le troisième chapitre</a>).</p>'
    return (f"<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><style>{css}</style></head><body>"
            '<span class="entete">CCCO — bilan 2025 du contrat de ville</span>'
            '<span class="date">Données arrêtées au 24/11/2026</span>'
            f'<div class="couverture"><h1>Bilan annuel 2025</h1><nav class="toc"><h3>Sommaire</h3><ol>{toc}</ol></nav>'
            f"{renvoi}</div>{sections}</body></html>")


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [p for p in text.split("\f") if p.strip()]


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> tuple[list[str], str]:
    html = _bilan_like({"alpha": 3, "beta": 30, "gamma": 4})   # the second chapter runs over several pages
    pdf = tmp_path_factory.mktemp("pdf") / "bilan.pdf"
    pdf.write_bytes(render_pdf(html))
    return _pages(pdf), html


def test_header_on_every_page_but_the_cover_and_numbered_footer(printed):
    pages, _ = printed
    assert len(pages) >= 6
    assert "CCCO — bilan 2025" not in pages[0]
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} / {len(pages)}" in page
        assert "bilan-quartiers — Données arrêtées au 24/11/2026" in page
        if number > 1:
            assert "CCCO — bilan 2025 du contrat de ville" in page


def test_contents_and_cross_reference_give_the_pages_where_chapters_start(printed):
    pages, _ = printed
    starts = {title: next(i for i, p in enumerate(pages, 1) if re.search(rf"^\s*{title}\s*$", p, re.M))
              for title in CHAPTERS.values()}
    assert starts["Premier chapitre"] == 2 and starts["Troisième chapitre"] > starts["Deuxième chapitre"] + 2
    for title, page in starts.items():
        assert re.search(rf"{title}\s+{page}\s*$", pages[0], re.M), (title, page, pages[0])
    assert re.search(rf"voir le troisième chapitre, p.\s{starts['Troisième chapitre']}\)", pages[0])
    assert not any("ANCRE" in p for p in pages)          # the first print's markers are not in the PDF


def test_first_print_marks_every_target_once_with_placeholders():
    html = _bilan_like({"alpha": 1, "beta": 1, "gamma": 1})
    first = for_print(html, None)
    assert first.count('class="ancre-pdf"') == 3 and first.count('<span class="toc-page">00</span>') == 3
    final = for_print(html, {"alpha": 2, "beta": 3, "gamma": 12})
    assert "ancre-pdf\">" not in final and '<span class="toc-page">\u20072</span>' in final
    assert "voir le troisième chapitre, p.\u00a012</a>" in final


def test_nothing_is_fetched_from_outside(tmp_path):
    """A request to the network or to a local file is refused; the PDF is printed without it."""
    secret = tmp_path / "secret.txt"
    secret.write_text("NE PAS LIRE")
    html = _bilan_like({"alpha": 1, "beta": 1, "gamma": 1}).replace(
        "</h1>", f'</h1><img src="http://192.0.2.1/logo.png" alt=""><iframe src="file://{secret}"></iframe>')
    pdf = tmp_path / "b.pdf"
    pdf.write_bytes(render_pdf(html))
    pages = _pages(pdf)
    assert "Premier chapitre" in pages[0] and not any("NE PAS LIRE" in p for p in pages)
    found, count = pages_of_markers(pdf.read_bytes())
    assert found == {} and count == len(pages)


def test_documents_printed_side_by_side_each_get_their_own_pages(tmp_path):
    """One Chromium prints several documents at once (`submit`, one page per core, pages reused): each PDF has its
    own contents numbers and page count, as if printed alone."""
    lengths = [{"alpha": 1, "beta": n, "gamma": 1} for n in (2, 25, 8, 40)]
    with ChromiumPrinter(simultanees=2) as chromium:
        futures = [chromium.submit(_bilan_like(length)) for length in lengths]
        pdfs = [f.result(timeout=120) for f in futures]
    for i, (pdf, length) in enumerate(zip(pdfs, lengths)):
        path = tmp_path / f"b{i}.pdf"
        path.write_bytes(pdf)
        pages = _pages(path)
        assert page_count(pdf) == len(pages) == pages_of_markers(pdf)[1]
        gamma = next(n for n, p in enumerate(pages, 1) if re.search(r"^\s*Troisième chapitre\s*$", p, re.M))
        assert re.search(rf"Troisième chapitre\s+{gamma}\s*$", pages[0], re.M), (length, gamma)
    assert len({page_count(p) for p in pdfs}) == len(lengths)   # four documents of different lengths


def test_submit_needs_an_open_printer():
    with pytest.raises(RuntimeError, match="printer"):
        submit_pdf("<html></html>")


def test_a_document_is_printed_once_and_its_front_matter_again(tmp_path):
    """Issue 32, item 4: the pages of the contents and of the cross-references come from the PDF's named
    destinations; only the front matter is printed a second time, with the numbers and the total page count, and
    its pages take the place of the first print's — no second print of the whole document."""
    html = _bilan_like({"alpha": 3, "beta": 30, "gamma": 4})
    with ChromiumPrinter(simultanees=1) as chromium:
        pdf = chromium.pdf(html)
        assert chromium.reprinted_whole == 0
        front = front_matter(html, destination_pages(pdf)[0])
        assert front is not None and front[1] == 1                 # the cover, contents and the cross-reference
        assert chromium.pages_printed == page_count(pdf) + 1       # the document once, its first page again
    path = tmp_path / "b.pdf"
    path.write_bytes(pdf)
    pages = _pages(path)
    assert f"Page 1 / {len(pages)}" in pages[0]                     # the front's footer counts the whole document
    gamma = next(n for n, p in enumerate(pages, 1) if re.search(r"^\s*Troisième chapitre\s*$", p, re.M))
    assert re.search(rf"Troisième chapitre\s+{gamma}\s*$", pages[0], re.M)
    assert re.search(rf"voir le troisième chapitre, p.\s{gamma}\)", pages[0])
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Tagged:\s+yes", info)                          # the tags survive the swap


def test_a_front_matter_that_lays_out_otherwise_is_refused():
    """Pages swapped only where the front matter printed alone has the whole print's pages and tags."""
    html = _bilan_like({"alpha": 1, "beta": 1, "gamma": 1})
    with ChromiumPrinter(simultanees=1) as chromium:
        whole = chromium.pdf(html)
        other = chromium.pdf(html.replace("<h1>", "<p>Un paragraphe de plus sur la couverture.</p><h1>"))
        longer = chromium.pdf(_bilan_like({"alpha": 6, "beta": 1, "gamma": 1}))
    count = page_count(whole)
    assert page_count(other) == count
    with pytest.raises(FrontMismatch, match="page 1 : contenu balisé différent"):
        with_front(whole, other, count)
    with pytest.raises(FrontMismatch, match=rf"{page_count(longer)} page\(s\) au lieu de 1"):
        with_front(whole, longer, 1)
    assert page_count(with_front(whole, whole, count)) == count


def test_the_benchmark_floor_is_one_print_of_the_same_pages():
    """`bench/moteurs_pdf.py --moteur plancher`: one print, placeholders where the numbers go, the same pages."""
    html = _bilan_like({"alpha": 2, "beta": 12, "gamma": 2})
    with ChromiumPrinter(simultanees=1) as chromium:
        floor = chromium.print_once(for_print(html, None, markers=False))
        assert chromium.pages_printed == page_count(floor)
        assert page_count(chromium.pdf(html)) == page_count(floor)
