"""The PDF engines side by side on one HTML (the demo bilan): prints one JSON line with the wall time, the CPU time
of the process and of the processes it started (Chromium's), and the number of pages.

    python bench/moteurs_pdf.py sortie/2025/ccco/bilan_ccco_2025.html --moteur chromium|plancher|weasyprint

`plancher`: the floor of the pipeline's printing, one Chromium print of the same pages (no page numbers to find,
nothing printed again): the pipeline's `chromium` is compared with it (issue target: ≤ 1.5 ×).

Run each engine in its own process (`bench/run_bench.py` does), so that the CPU of one is not counted for the other.
WeasyPrint is installed by `make bench` only (extra `bench` of pyproject.toml): the pipeline prints with Chromium.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def weasyprint_pdf(html: str) -> bytes:
    from weasyprint import HTML

    def refuse(url: str, *args, **kwargs):
        raise ValueError(f"ressource externe refusée : {url}")

    return HTML(string=html, url_fetcher=refuse).write_pdf()


def chromium_pdf(html: str) -> bytes:
    from reports.pdf import render_pdf

    return render_pdf(html)


def chromium_floor(html: str) -> bytes:
    """One Chromium print of the same pages (its own Chromium, as `render_pdf` starts one)."""
    from reports.pdf import ChromiumPrinter, for_print

    with ChromiumPrinter() as chromium:
        return chromium.print_once(for_print(html, None, markers=False))


def pages(pdf: bytes) -> int:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        info = subprocess.run(["pdfinfo", f.name], capture_output=True, text=True, check=True).stdout
    return int(next(ln.split()[-1] for ln in info.splitlines() if ln.startswith("Pages:")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html")
    parser.add_argument("--moteur", choices=["chromium", "plancher", "weasyprint"], required=True)
    args = parser.parse_args()
    html = Path(args.html).read_text(encoding="utf-8")
    render = {"chromium": chromium_pdf, "plancher": chromium_floor, "weasyprint": weasyprint_pdf}[args.moteur]
    render("<html><body><p>chauffe</p></body></html>")   # imports and fonts, as in a run that prints several PDFs
    started, cpu = time.perf_counter(), cpu_seconds()
    pdf = render(html)
    print(json.dumps({"moteur": args.moteur, "secondes": round(time.perf_counter() - started, 2),
                      "cpu": round(cpu_seconds() - cpu, 2), "pages": pages(pdf)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
