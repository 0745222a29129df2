"""Hostile XLSX files (small on disk) are refused with a message, never stall a worker
(issue 13, finding 3): bounded before parsing, parsed in a limited child process."""
from __future__ import annotations

import io
import resource
import subprocess
import time
import zipfile

import pytest
from openpyxl import Workbook

from skm.intake import xlsx_reader
from skm.intake.importer import ImportRejected, preview_import
from tests.factories import make_unit

HEADER = ["tanggal"] + [f"U{i}" for i in range(1, 10)]


def _base() -> bytes:
    wb = Workbook()
    wb.active.append(HEADER)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xlsx_with(sheet_xml=None, extra: dict | None = None) -> bytes:
    """A valid workbook whose first sheet (and other members) are replaced."""
    src = zipfile.ZipFile(io.BytesIO(_base()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml" and sheet_xml is not None:
                data = sheet_xml() if callable(sheet_xml) else sheet_xml
            z.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def sheet(rows_xml: str, dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns='
            '"http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'{dim}<sheetData>{rows_xml}</sheetData></worksheet>').encode()


def refused(db, content) -> str:
    unit = make_unit(db.session)
    with pytest.raises(ImportRejected) as exc:
        preview_import(db.session, unit, "data.xlsx", content)
    return str(exc.value)


@pytest.fixture
def no_child(monkeypatch):
    """Refusals by inspection never start the parser."""
    def fail(*args, **kwargs):
        raise AssertionError("the child parser was started")
    monkeypatch.setattr(xlsx_reader.subprocess, "run", fail)


def test_declared_two_million_rows_refused_before_parsing(db, no_child):
    content = xlsx_with(sheet('<row r="1"><c r="A1"><v>1</v></c></row>', "A1:B2000000"))
    assert len(content) < 10_000
    assert "2.000.000 baris" in refused(db, content)


def test_declared_thousands_of_columns_refused(db, no_child):
    content = xlsx_with(sheet('<row r="1"><c r="A1"><v>1</v></c></row>', "A1:CVD1000"))
    assert "kolom" in refused(db, content)


def test_huge_shared_strings_refused(db, no_child):
    sst = ('<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
           'count="4000000" uniqueCount="4000000">' + "<si><t>a</t></si>" * 1000 + "</sst>").encode()
    content = xlsx_with(extra={"xl/sharedStrings.xml": sst})
    assert "terlalu banyak teks" in refused(db, content)


def test_huge_uncompressed_size_refused(db, no_child):
    padding = b"<!-- " + b" " * (xlsx_reader.MAX_UNCOMPRESSED + 1024) + b" -->"
    content = xlsx_with(extra={"xl/padding.xml": padding})
    assert len(content) < 1_000_000
    assert "terlalu besar setelah dibuka" in refused(db, content)


def test_expensive_sheet_hits_the_child_cpu_limit_not_the_worker(db, monkeypatch):
    """A million numeric cells without a dimension pass inspection; the parse runs in a
    child limited to 1 CPU second and is refused; the web process itself does little work."""
    monkeypatch.setenv("SKM_XLSX_CPU_SECONDS", "1")
    row = "".join(f'<c r="{col}{{r}}"><v>3</v></c>' for col in "ABCDEFGHIJ")
    rows = "".join(f'<row r="{r}">' + row.format(r=r) + "</row>" for r in range(2, 95_000))
    content = xlsx_with(sheet(rows))
    assert len(content) < 3_000_000
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    message = refused(db, content)
    after = resource.getrusage(resource.RUSAGE_SELF)
    assert "terlalu berat untuk dibaca" in message
    assert time.monotonic() - started < xlsx_reader.TIMEOUT_SECONDS
    assert (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) < 1.0


def test_child_memory_limit_is_applied(db, monkeypatch):
    """With an address-space limit too small for Python and openpyxl the child cannot parse
    even a tiny file: the refusal is the same clear message (the limit is really set)."""
    monkeypatch.setenv("SKM_XLSX_MEMORY_BYTES", str(12 * 1024 * 1024))
    assert "terlalu berat untuk dibaca" in refused(db, xlsx_with())
    monkeypatch.delenv("SKM_XLSX_MEMORY_BYTES")
    unit = make_unit(db.session, code="LAIN")
    with pytest.raises(ImportRejected, match="hanya berisi judul kolom"):
        preview_import(db.session, unit, "data.xlsx", xlsx_with())


def test_child_killed_after_the_wall_clock_timeout(db, monkeypatch):
    def slow(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], xlsx_reader.TIMEOUT_SECONDS)
    monkeypatch.setattr(xlsx_reader.subprocess, "run", slow)
    assert "terlalu berat untuk dibaca" in refused(db, xlsx_with())


def test_normal_xlsx_still_reads_every_cell_type(db):
    import datetime as dt

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER + ["jam", "saran"])
    ws.append([dt.date(2023, 8, 1)] + [4] * 9 + [dt.time(9, 30), "=teks biasa"])
    ws.append(["2023-08-02"] + [3.0] * 9 + ["13:15", "ok"])
    ws.cell(row=2, column=12).data_type = "s"  # text that starts with "=", not a formula
    out = io.BytesIO()
    wb.save(out)
    unit = make_unit(db.session)
    preview = preview_import(db.session, unit, "data.xlsx", out.getvalue())
    assert preview.ok, preview.errors
    assert [r.survey_date for r in preview.rows] == [dt.date(2023, 8, 1), dt.date(2023, 8, 2)]
    assert preview.rows[0].survey_time == dt.time(9, 30) and preview.rows[0].suggestion == "=teks biasa"
