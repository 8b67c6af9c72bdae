"""Open a bilan HTML in headless Chromium with the network cut; report console errors and any request that
tries to leave the file; save a screenshot. Used by the tests and by people checking a bilan by eye.

    .venv/bin/python tools/screenshot.py sortie/2025/ccco/bilan_ccco_2025.html /tmp/bilan.png
"""

from __future__ import annotations

import sys
from pathlib import Path

from reports.pdf import CHROMIUM
from reports.pdf import CHROMIUM_FLAGS as FLAGS


def open_offline(html: Path, screenshot: Path | None = None, full_page: bool = False,
                 allowed_dir: Path | None = None) -> dict:
    """`allowed_dir`: files under it may be loaded too (Data Docs pages with their local stylesheets)."""
    return open_all_offline([html], [screenshot], full_page, allowed_dir)[0]


def open_all_offline(pages: list[Path], screenshots: list[Path | None] | None = None, full_page: bool = False,
                     allowed_dir: Path | None = None) -> list[dict]:
    """Each page in its own tab of one Chromium (starting it costs more than opening a page)."""
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        context = browser.new_context(offline=True, viewport={"width": 1100, "height": 1400})
        for html, screenshot in zip(pages, screenshots or [None] * len(pages), strict=True):
            results.append(_open(context, html, screenshot, full_page, allowed_dir))
        browser.close()
    return results


def _open(context, html: Path, screenshot: Path | None, full_page: bool, allowed_dir: Path | None) -> dict:
    outside: list[str] = []
    errors: list[str] = []
    page = context.new_page()

    def route(r):
        local = Path(r.request.url[7:].split("?")[0].split("#")[0]) if r.request.url.startswith("file://") \
            else None
        if local is not None and (local == html.resolve() or (allowed_dir is not None and
                                                                local.is_relative_to(allowed_dir.resolve()))):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(html.resolve().as_uri(), wait_until="load")
    title = page.title()
    headings = page.locator("h2").all_inner_texts()
    if screenshot:
        page.screenshot(path=str(screenshot), full_page=full_page)
    page.close()
    return {"outside": outside, "errors": errors, "title": title, "headings": headings}


if __name__ == "__main__":
    result = open_offline(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    print(result)
    sys.exit(1 if result["outside"] or result["errors"] else 0)
