"""Every page of every report kind: nothing outside the page, one page sequence, metadata.

Renders each kind for a unit with a 120-character name, writes the PDFs and a PNG of every
page to tests/artifacts/reports/pages/, and checks each word's box (pdftotext -bbox).
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from skm.reports.render import build
from tests.test_reports import known  # noqa: F401  (fixture)
from tests.test_reports_followup import plan  # noqa: F401  (fixture)

LONG_NAME = ("Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Bengkalis "
             "Provinsi Riau Bidang Perizinan Usaha Nonperizinan")[:120]
KINDS = ("laporan", "pengolahan", "poster", "poster-a3", "kuesioner", "tindak-lanjut")
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')
MARGIN = 8.0  # pt
PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)


def _need_poppler():
    if not shutil.which("pdftotext") or not shutil.which("pdftoppm"):
        pytest.fail("poppler-utils (pdftotext, pdftoppm) is required")


@pytest.fixture
def long_unit(db, plan):  # noqa: F811
    unit, period, p = plan
    unit.name = LONG_NAME
    assert len(unit.name) == 120
    db.session.commit()
    return unit, period, p


def words_outside(pdf_path: str) -> list[tuple[int, str]]:
    out = subprocess.run(["pdftotext", "-bbox", pdf_path, "-"], check=True, capture_output=True, text=True).stdout
    bad = []
    for n, (w, h, body) in enumerate(PAGE.findall(out), start=1):
        w, h = float(w), float(h)
        for x0, y0, x1, y1, text in WORD.findall(body):
            # poppler drops glyphs wholly off the page, so a cut word ends at the edge:
            # every word must keep a margin.
            if float(x0) < MARGIN or float(y0) < MARGIN or float(x1) > w - MARGIN or float(y1) > h - MARGIN:
                bad.append((n, text))
    return bad


def render_all(app, db, unit, period, plan_, artifacts):
    folder = os.path.join(artifacts, "reports", "pages")
    os.makedirs(folder, exist_ok=True)
    paths = {}
    for kind in KINDS:
        with app.test_request_context():
            data = build(kind, db.session, unit, period, today=dt.date(2023, 10, 5), plan=plan_)
        path = os.path.join(folder, f"{kind}.pdf")
        with open(path, "wb") as fh:
            fh.write(data)
        paths[kind] = path
    return folder, paths


def test_no_word_outside_the_page_in_any_report(app, db, long_unit, artifacts):
    _need_poppler()
    unit, period, p = long_unit
    folder, paths = render_all(app, db, unit, period, p, artifacts)
    bad = {}
    for kind, path in paths.items():
        for old in os.listdir(folder):
            if re.fullmatch(re.escape(kind) + r"-\d+\.png", old):
                os.remove(os.path.join(folder, old))
        subprocess.run(["pdftoppm", "-r", "60", "-png", path, os.path.join(folder, kind)], check=True)
        if kind.startswith("poster"):
            assert len(PdfReader(path).pages) == 1, kind  # a poster is one sheet, even for a long name
        outside = words_outside(path)
        if outside:
            bad[kind] = outside
    assert bad == {}


def test_one_page_sequence_and_metadata_in_every_report(app, db, plan):  # noqa: F811
    unit, period, p = plan
    for kind in KINDS:
        with app.test_request_context():
            data = build(kind, db.session, unit, period, today=dt.date(2023, 10, 5), plan=p)
        reader = PdfReader(io.BytesIO(data))
        assert reader.metadata.author == unit.name, kind
        assert reader.metadata.title.startswith(("Laporan", "Pengolahan", "Poster", "Kuesioner")), kind
        assert unit.name in reader.metadata.title
        if kind != "kuesioner":
            assert period.name in reader.metadata.title, kind
        total = len(reader.pages)
        for n, page in enumerate(reader.pages, start=1):
            numbers = re.findall(r"Halaman (\d+) dari (\d+)", " ".join(page.extract_text().split()))
            assert numbers == [(str(n), str(total))], (kind, n, numbers)


def test_questionnaire_keeps_each_question_with_its_boxes(app, db, long_unit):
    unit, period, p = long_unit
    with app.test_request_context():
        data = build("kuesioner", db.session, unit, None)
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]
    assert len(pages) >= 2
    text = " ".join(pages)
    assert "[ ]" not in text and text.count("☐") >= 9 * 4
    for e in unit.current_questionnaire.elements:
        # The question and its four labelled boxes are on one page.
        where = {i for i, page in enumerate(pages) if e.question in page}
        last_label = {i for i, page in enumerate(pages) if f"4. {e.label4}" in page}
        assert len(where) == 1 and where <= last_label, (e.code, where, last_label)


@pytest.mark.parametrize("kind", ["poster", "poster-a3"])
def test_poster_lists_every_education_level_with_zeros(app, db, known, kind):  # noqa: F811
    unit, period, _ = known
    with app.test_request_context():
        data = build(kind, db.session, unit, period)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    for expected in ("SD 1 25,0%", "SMP 0 0,0%", "SMA 1 25,0%", "DIII 0 0,0%", "S1 2 50,0%", "S2 0 0,0%",
                     "S3 0 0,0%"):
        assert expected in text, expected


def test_no_warning_from_the_pdf_engines_for_a_normal_report(app, db, plan, caplog, capfd):  # noqa: F811
    import logging

    unit, period, p = plan
    with caplog.at_level(logging.WARNING):
        for kind in KINDS:
            with app.test_request_context():
                build(kind, db.session, unit, period, plan=p)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    out, err = capfd.readouterr()
    assert "warn" not in (out + err).lower()
