"""The bilan's PDF, printed by headless Chromium (the system's, driven by Playwright).

Chromium was chosen by measurement (`bench/moteurs_pdf.py`): for the same HTML it needs about a tenth of the CPU
WeasyPrint needs. What WeasyPrint's CSS does that Chromium's does not is done here, on a copy of the HTML printed
for the PDF only:
- the running header and the footer's date (`string-set` / `string()`): written into the `@page` margin boxes;
- the page numbers of the table of contents and of the cross-references (`target-counter()`): the document is
  printed once, with fixed-width placeholders where the numbers go; the page of each target is read from the
  PDF's named destinations (Chromium writes one for each link target); then only the front matter — the pages up
  to the last contents or cross-reference, before a section that starts a page — is printed again with the
  numbers and the document's page count, and its pages take the place of the first print's (pikepdf). The numbers
  take the placeholders' width, so the front matter breaks its pages as in the whole print; this is checked page
  by page (same page count, same marked-content sequence for the tags), and a document where it does not hold,
  or whose front matter is most of it, is printed again whole. A document with no contents and no
  cross-reference is printed once.
Chromium prints several documents side by side (one per core), in the background: the caller builds the next HTML
meanwhile (Python's work and Chromium's share the cores instead of taking turns).
Nothing is fetched: every request the page makes is refused (the bilan is self-contained)."""

from __future__ import annotations

import asyncio
import html as html_lib
import io
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# without the background-networking flags Chromium tries to reach Google's hosts at each start
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

_MARKER = "ANCRE{}FIN"
_MARKER_FOUND = re.compile(r"ANCRE(.+?)FIN")
_PLACEHOLDER = "00"
_TOC = re.compile(r'(<nav class="toc">)(.*?)(</nav>)', re.S)
_TOC_LINK = re.compile(r'(<a href="#([^"]+)">.*?</a>)', re.S)
_WITH_ID = re.compile(r'<([a-z0-9]+)\s[^>]*\bid="([^"]+)"[^>]*>')
_PAGE_TREE = re.compile(rb"<<[^<>]*/Type\s*/Pages\b[^<>]*?/Count\s+(\d+)[^<>]*>>")
_RENVOI = re.compile(r'(<a class="renvoi" href="#([^"]+)">)(.*?)(</a>)', re.S)

# what bilan.css says with WeasyPrint-only functions, said again in Chromium's terms
_CHROMIUM_CSS = """
@page {{ @top-left {{ content: "{entete}"; }} @bottom-left {{ content: "bilan-quartiers — {date}"; }} }}
@page :first {{ @top-left {{ content: none; }} }}
nav.toc li {{ display: flex; align-items: baseline; }}
nav.toc .toc-points {{ flex: 1; border-bottom: 0.3mm dotted #999; margin: 0 1.5mm; }}
nav.toc .toc-page {{ min-width: 6mm; text-align: right; }}
.ancre-pdf {{ position: absolute; font-size: 2pt; color: #fff; }}
"""


class PdfError(RuntimeError):
    """The PDF could not be printed; the message says why, in French."""


def _css_string(text: str) -> str:
    return html_lib.unescape(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _span_text(html: str, css_class: str) -> str:
    found = re.search(rf'<span class="{css_class}">(.*?)</span>', html, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip() if found else ""


def _targets(html: str) -> list[str]:
    toc = _TOC.search(html)
    ids = [m.group(2) for m in _TOC_LINK.finditer(toc.group(2))] if toc else []
    return list(dict.fromkeys(ids + [m.group(2) for m in _RENVOI.finditer(html)]))


def for_print(html: str, pages: dict[str, int] | None, markers: bool = True, total: int | None = None) -> str:
    """The HTML Chromium prints: header and footer in the margin boxes, and the TOC and cross-reference page numbers
    (`pages`: target id → page; None for a first print, with placeholders, and with `markers`, an invisible text
    marker at each target for `pages_of_markers`). `total`: the page count the footer gives, when this print is a
    part of a longer document (its front matter)."""
    def page_of(target: str) -> str:
        return _PLACEHOLDER if pages is None else str(pages[target]).rjust(len(_PLACEHOLDER), "\u2007")

    css = _CHROMIUM_CSS.format(entete=_css_string(_span_text(html, "entete")),
                               date=_css_string(_span_text(html, "date")))
    if total is not None:
        css += '@page { @bottom-right { content: "Page " counter(page) " / ' + str(total) + '"; } }'
    out = html.replace("</head>", f"<style>{css}</style></head>", 1)
    toc = _TOC.search(out)
    if toc:
        entries = _TOC_LINK.sub(lambda m: f'{m.group(1)}<span class="toc-points"></span>'
                                          f'<span class="toc-page">{page_of(m.group(2))}</span>', toc.group(2))
        out = out[:toc.start()] + toc.group(1) + entries + toc.group(3) + out[toc.end():]
    # in running text a number is not padded: one digit less does not move a line of a paragraph to another page
    out = _RENVOI.sub(lambda m: f"{m.group(1)}{m.group(3)}, p.\u00a0{page_of(m.group(2)).strip()}{m.group(4)}",
                      out)
    if pages is None and markers:
        targets = set(_targets(html))

        def mark(m: re.Match) -> str:
            if m.group(2) not in targets:
                return m.group(0)
            return f'{m.group(0)}<span class="ancre-pdf">{_MARKER.format(m.group(2))}</span>'

        out = _WITH_ID.sub(mark, out)
    return out


def pages_of_markers(pdf: bytes) -> tuple[dict[str, int], int]:
    """Target id → the page its marker is printed on; and the number of pages."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        done = subprocess.run(["pdftotext", "-enc", "UTF-8", f.name, "-"], capture_output=True, timeout=120)
    if done.returncode != 0:
        raise PdfError(f"pdftotext n'a pas pu lire le PDF imprimé : {done.stderr.decode(errors='replace')[-300:]}")
    texts = done.stdout.decode("utf-8").split("\f")
    if texts and not texts[-1].strip():
        texts = texts[:-1]
    found: dict[str, int] = {}
    for number, text in enumerate(texts, start=1):
        for target in _MARKER_FOUND.findall(re.sub(r"\s+", "", text)):
            found.setdefault(target, number)
    return found, len(texts)


def destination_pages(pdf: bytes) -> tuple[dict[str, int], int]:
    """Target id → the page of its named destination (Chromium writes one per link target, in the catalog's
    /Dests or its /Names tree); and the number of pages."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        root = doc.Root
        named: dict = {}
        if "/Dests" in root:
            named = {str(k).lstrip("/"): v for k, v in root.Dests.items()}
        elif "/Names" in root and "/Dests" in root.Names:
            named = {str(k): v for k, v in pikepdf.NameTree(root.Names.Dests).items()}
        index: dict[object, int] = {p.objgen: i for i, p in enumerate(doc.pages)}
        pages = {}
        for name, dest in named.items():
            target = dest if isinstance(dest, pikepdf.Array) else dest.D
            pages[name] = index[target[0].objgen] + 1
        return pages, len(doc.pages)


_SECTION = re.compile(r'<section id="([^"]+)"')


def front_matter(html: str, pages: dict[str, int]) -> tuple[str, int] | None:
    """The document cut before the first section after its last contents or cross-reference (a section starts a
    page: bilan.css), and how many pages come before that section in the whole print; None when there is no such
    section, or it is not a link target whose page is known."""
    ends = [m.end() for m in (*_TOC.finditer(html), *_RENVOI.finditer(html))]
    if not ends:
        return None
    following = _SECTION.search(html, max(ends))
    if following is None or pages.get(following.group(1), 0) < 2:
        return None
    return html[:following.start()] + "</main></body></html>", pages[following.group(1)] - 1


class FrontMismatch(Exception):
    """The front matter printed alone does not lay out as in the whole document."""


_MCID = re.compile(rb"/MCID\s+(\d+)")


def with_front(whole: bytes, front: bytes, pages: int) -> bytes:
    """`whole` with its first `pages` pages drawn as `front`'s (their contents and resources; the page objects,
    their links and their place in the tags' structure stay). Each page must carry the same marked-content
    sequence in both, or the tags would point at the wrong content."""
    import pikepdf

    with pikepdf.open(io.BytesIO(whole)) as doc, pikepdf.open(io.BytesIO(front)) as part:
        if len(part.pages) != pages:
            raise FrontMismatch(f"{len(part.pages)} page(s) au lieu de {pages}")
        for i in range(pages):
            source, target = part.pages[i].obj, doc.pages[i].obj
            if _MCID.findall(_contents(source)) != _MCID.findall(_contents(target)):
                raise FrontMismatch(f"page {i + 1} : contenu balisé différent")
            for key in ("/Resources", "/Contents"):
                value = source[key] if source[key].is_indirect else part.make_indirect(source[key])
                target[key] = doc.copy_foreign(value)
        out = io.BytesIO()
        # the streams are kept as Chromium compressed them: nothing is decoded and encoded again
        doc.save(out, stream_decode_level=pikepdf.StreamDecodeLevel.none,
                 object_stream_mode=pikepdf.ObjectStreamMode.preserve)
        return out.getvalue()


def _contents(page) -> bytes:
    import pikepdf

    streams = page.Contents if isinstance(page.Contents, pikepdf.Array) else [page.Contents]
    return b"\n".join(s.read_bytes() for s in streams)


def page_count(pdf: bytes) -> int:
    """The number of pages, read in the root of the PDF's page tree (Chromium writes it uncompressed); pdftotext
    counts them when the root cannot be read."""
    roots = [int(m.group(1)) for m in _PAGE_TREE.finditer(pdf) if b"/Parent" not in m.group(0)]
    return roots[0] if len(roots) == 1 else pages_of_markers(pdf)[1]


# a page that printed a large document is closed, not reused: its renderer keeps the memory it took (an 871-page
# bilan of a metropolis, 31 MB: the render process tree 2.1 GB → 4.1 GB, and 3.6 GB for the rest of its batch)
RECYCLE_AFTER_BYTES = 8 * 2**20


class ChromiumPrinter:
    """One headless Chromium for a batch of PDFs (starting it costs more than printing a page), launched in the
    background when a first bilan is to be made (`start`) or printed: a batch with nothing to print starts nothing.
    Its pages print side by side (`simultanees`, one per core by
    default) in a thread of their own, while the caller goes on building the next HTML: `submit` returns a future."""

    def __init__(self, simultanees: int | None = None) -> None:
        self._simultanees = simultanees or len(os.sched_getaffinity(0))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # documents printed whole a second time, their front matter not laying out alone as in the whole print;
        # and every page Chromium printed (a document's pages once, and its front matter's again)
        self.reprinted_whole = 0
        self.pages_printed = 0
        self._launched: Future[None]

    def __enter__(self) -> ChromiumPrinter:
        return self

    def start(self) -> None:
        """Launches Chromium in the background, if not yet: called before the HTML is made, its start overlaps the
        making (the first print waits for it)."""
        if self._loop is not None:
            return
        if not Path(CHROMIUM).exists():
            raise PdfError(f"Chromium est introuvable ({CHROMIUM}) : `make setup` l'installe (paquet Debian chromium)")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chromium", daemon=True)
        self._thread.start()
        self._launched = asyncio.run_coroutine_threadsafe(self._launch(), self._loop)

    async def _launch(self) -> None:
        from playwright.async_api import async_playwright

        self._playwright = await async_playwright().start()
        try:
            self._browser = await self._playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS,
                                                                   headless=True)
            self._context = await self._browser.new_context(offline=True, java_script_enabled=False)

            async def refuse_network(route) -> None:
                if route.request.url.startswith(("data:", "about:")):
                    await route.continue_()
                else:
                    await route.abort()

            await self._context.route("**/*", refuse_network)
        except BaseException:
            await self._playwright.stop()
            raise
        self._slots = asyncio.Semaphore(self._simultanees)
        # a page is reused from one print to the next: opening one costs as much as printing a commune bilan
        self._idle: list = []

    async def _stop(self) -> None:
        try:
            await self._browser.close()
        finally:
            await self._playwright.stop()

    def __exit__(self, *exc) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if self._launched.exception() is None:   # waits for the launch; a failed one has nothing to close
                asyncio.run_coroutine_threadsafe(self._stop(), loop).result()
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
            self._loop = self._thread = None

    async def _print(self, html: str, final: bool) -> bytes:
        """`final`: the PDF delivered, with its outline (bookmarks) and tags; a first print is only read back."""
        async with self._slots:
            page = self._idle.pop() if self._idle else await self._context.new_page()
            try:
                await page.set_content(html, wait_until="load")
                pdf = await page.pdf(format="A4", print_background=True, prefer_css_page_size=True, outline=final,
                                     tagged=final)
            except BaseException:
                await page.close()
                raise
            if len(pdf) > RECYCLE_AFTER_BYTES:
                await page.close()
            else:
                self._idle.append(page)
            self.pages_printed += page_count(pdf)
            return pdf

    async def _pdf(self, html: str) -> bytes:
        await asyncio.wrap_future(self._launched)
        if not _targets(html):  # no contents and no cross-reference (a commune without one): one print
            return await self._print(for_print(html, {}), final=True)
        whole = await self._print(for_print(html, None, markers=False), final=True)
        pages, count = await asyncio.to_thread(destination_pages, whole)
        missing = [t for t in _targets(html) if t not in pages]
        if missing:
            raise PdfError("PDF : pages introuvables pour les renvois vers " + ", ".join(missing))
        front = front_matter(html, pages)
        # the front matter printed again and put in place, when it is the smaller part of the document
        if front is not None and 2 * front[1] <= count:
            printed = await self._print(for_print(front[0], pages, total=count), final=True)
            try:
                return await asyncio.to_thread(with_front, whole, printed, front[1])
            except FrontMismatch:
                self.reprinted_whole += 1   # printed again whole below
        final = await self._print(for_print(html, pages), final=True)
        if page_count(final) != count:
            raise PdfError("PDF : le nombre de pages a changé entre les deux impressions (numéros du sommaire)")
        return final

    def submit(self, html: str) -> Future[bytes]:
        """The PDF of `html`, printed in the background."""
        self.start()
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(self._pdf(html), self._loop)

    def pdf(self, html: str) -> bytes:
        return self.submit(html).result()

    def print_once(self, html: str) -> bytes:
        """One print of `html` as it is, no page number to find: the floor `bench/moteurs_pdf.py` compares with."""
        self.start()
        assert self._loop is not None

        async def once() -> bytes:
            await asyncio.wrap_future(self._launched)
            return await self._print(html, final=True)

        return asyncio.run_coroutine_threadsafe(once(), self._loop).result()


_active: ContextVar[ChromiumPrinter | None] = ContextVar("chromium_printer", default=None)


@contextmanager
def printer() -> Iterator[ChromiumPrinter]:
    """Every `render_pdf` and `submit_pdf` inside shares one Chromium."""
    active = _active.get()
    if active is not None:
        yield active
        return
    with ChromiumPrinter() as started:
        token = _active.set(started)
        try:
            yield started
        finally:
            _active.reset(token)


def start_printer() -> None:
    """Chromium launched in the background by the active printer, if any, before its first PDF is asked."""
    active = _active.get()
    if active is not None:
        active.start()


def submit_pdf(html: str) -> Future[bytes]:
    """The PDF printed in the background by the active printer (`printer()`), which must be open until it is read."""
    active = _active.get()
    if active is None:
        raise RuntimeError("submit_pdf hors d'un bloc `with printer()`")
    return active.submit(html)


def render_pdf(html: str) -> bytes:
    with printer() as chromium:
        return chromium.pdf(html)
