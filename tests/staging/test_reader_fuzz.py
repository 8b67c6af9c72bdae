"""Fuzzing the reader: whatever the bytes, `read_file` returns text tables or refuses with FichierIllisible —
never another exception, which would stop the run instead of naming the file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.familles.reading import FichierIllisible, read_file
from core.familles.registry import family_of

DEMO = sorted((Path(__file__).resolve().parents[2] / "data" / "demo" / "inbox" / "ccco" / "2025").iterdir())
DEMO_CSV = [p for p in DEMO if p.suffix == ".csv"]
DEMO_XLSX = [p for p in DEMO if p.suffix == ".xlsx"]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_or_refuse(name: str, data: bytes) -> None:
    family = family_of(name)
    sheets = family.tables_for(name)[1] if family else None
    try:
        raw = read_file(Path(name), sheets=sheets, data=data)
    except FichierIllisible as exc:
        assert str(exc).startswith(name)
        return
    for table in raw.tables:
        assert "_ligne" in table.frame.columns


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """A few edits of a valid file: overwritten, inserted or deleted bytes, a truncation, a repeated slice."""
    buffer = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["overwrite", "insert", "delete", "truncate", "repeat"]))
        at = draw(st.integers(0, max(len(buffer) - 1, 0)))
        if kind == "overwrite" and buffer:
            chunk = draw(st.binary(min_size=1, max_size=8))
            buffer[at:at + len(chunk)] = chunk
        elif kind == "insert":
            buffer[at:at] = draw(st.sampled_from([b"\x00", b";", b'"', b"\r", b"\n", b"\xff\xfe", b"\xef\xbb\xbf",
                                                  b"=SUM(A1)", b"_x0000_", b"<f>1+1</f>"]))
        elif kind == "delete":
            del buffer[at:at + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del buffer[at:]
        elif kind == "repeat":
            buffer[at:at] = buffer[at:at + draw(st.integers(1, 64))] * draw(st.integers(1, 5))
    return bytes(buffer)


@FUZZ
@given(data=st.binary(max_size=2048), name=st.sampled_from(["engagements_x.csv", "engagements_x.xlsx",
                                                              "tfpb_x.xlsx", "indicateurs_x.csv"]))
def test_random_bytes(data, name):
    read_or_refuse(name, data)


@FUZZ
@given(st.data())
def test_mutated_demo_csv(data):
    path = data.draw(st.sampled_from(DEMO_CSV))
    read_or_refuse(path.name, data.draw(mutated(path.read_bytes())))


@st.composite
def mutated_workbook(draw) -> tuple[str, bytes]:
    """Either the zip bytes mutated, or one part of the workbook mutated and the zip rebuilt — so the fuzzing
    reaches the XML parsers behind the zip checks."""
    path = draw(st.sampled_from(DEMO_XLSX))
    data = path.read_bytes()
    if draw(st.booleans()):
        return path.name, draw(mutated(data))
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    target = draw(st.sampled_from(names))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in names:
            content = source.read(member)
            archive.writestr(member, draw(mutated(content)) if member == target else content)
    return path.name, out.getvalue()


@FUZZ
@given(mutated_workbook())
def test_mutated_demo_xlsx(case):
    read_or_refuse(*case)
