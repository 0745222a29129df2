"""Grade bands and their colours have one definition (skm.scoring.ikm.GRADE_BANDS), handed to
every template as Jinja globals: no template or stylesheet types a bound or a band colour."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from flask import url_for

from skm.reports import data as R
from skm.reports.render import _render
from skm.reports.workbooks import grade_formula
from skm.scoring import ikm
from skm.survey.periods import quarter
from tests.factories import login, make_period, make_response, make_unit, make_user

ROOT = Path(__file__).resolve().parent.parent
# Any of the bounds as the grade table prints them, with either decimal mark.
BOUND = re.compile(r"(?<![\d.,])(88[.,]3[01]|76[.,]6[01]|65[.,]00|64[.,]99|3[.,]5324|3[.,]532|3[.,]0644|3[.,]064|"
                   r"2[.,]5996|2[.,]60)(?![\d])")


def _files():
    return sorted((ROOT / "templates").rglob("*.html")) + sorted((ROOT / "static" / "css").glob("*.css"))


def test_no_template_or_stylesheet_types_the_bands():
    found = []
    for path in _files():
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in BOUND.finditer(text)]
        found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in re.finditer(r"\.grade-[A-D]\s*\{", text)
                  if path.suffix == ".css"]
    assert not found


def test_derived_tables_follow_the_bands():
    assert ikm.GRADES == ("A", "B", "C", "D")
    assert ikm.IKM_LOWER_BOUNDS == ((Decimal("88.31"), "A"), (Decimal("76.61"), "B"), (Decimal("65.00"), "C"))
    assert ikm.NRR_LOWER_BOUNDS == ((Decimal("3.5324"), "A"), (Decimal("3.0644"), "B"), (Decimal("2.60"), "C"))
    assert ikm.GRADE_TABLE[3] == (4, "3,5324 – 4,00", "88,31 – 100,00", "A", "Sangat Baik")
    assert grade_formula("Z9") == '=IF(Z9>=88.31,"A",IF(Z9>=76.61,"B",IF(Z9>=65,"C","D")))'
    # Each band ends where the next begins: no gaps on a chart axis.
    for low, high in zip(ikm.GRADE_BANDS, ikm.GRADE_BANDS[1:]):
        assert low.nrr_high == high.nrr_low and low.ikm_high == high.ikm_low


FAKE_COLORS = {"A": "#0000a1", "B": "#0000b1", "C": "#0000c1", "D": "#0000d1"}


@pytest.fixture
def changed_table(app):
    """The one definition changed (colours, and B's IKM bound moved to 80,00): every template follows."""
    bands = tuple(dataclasses.replace(b, color=FAKE_COLORS[b.grade]) for b in ikm.GRADE_BANDS)
    bands = tuple(dataclasses.replace(b, ikm_low=Decimal("80.00")) if b.grade == "B" else b for b in bands)
    band = {b.grade: b for b in bands}
    app.jinja_env.globals.update(grade_bands=bands, grade_band=band,
                                 grade_color=lambda g: band[g].color if g in band else ikm.NO_GRADE_COLOR)
    return bands


@pytest.fixture
def world(db, no_csrf):
    unit = make_unit(db.session, "DPM", "Dinas Penanaman Modal")
    make_period(db.session, quarter(2023, 2))
    period = make_period(db.session, quarter(2023, 3), population=10)
    for i, ratings in enumerate([[4] * 9, [3] * 9, [4, 4, 4, 3, 3, 3, 2, 2, 2], [4, 3, 2, 1, 4, 3, 2, 1, 4]]):
        make_response(db.session, unit, ratings, day=dt.date(2023, 7, 3 + i), survey_time=dt.time(9, 0),
                      channel="kiosk")
    make_response(db.session, unit, [3] * 9, day=dt.date(2023, 5, 2))
    make_user(db.session, "admin", "admin")
    db.session.commit()
    return unit, period


def _get(app, client, endpoint, **args):
    with app.test_request_context():
        url = url_for(endpoint, **args)
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _assert_follows(html, grades="ABCD"):
    for g in grades:
        assert FAKE_COLORS[g] in html, g
    for real in ikm.GRADE_BANDS:
        if real.color != "#0b5cad":  # B's colour is also the app's accent (links, count bars)
            assert real.color not in html, real.grade


def test_screens_and_reports_render_the_bands_from_the_one_definition(app, db, client, world, changed_table):
    unit, period = world
    login(client)
    results = _get(app, client, "admin.results", unit_id=unit.id, period=period.id)
    _assert_follows(results)  # the grade-A…D classes and the NRR bars with their band strip
    assert f".grade-B {{ color: {FAKE_COLORS['B']}; }}" in results
    trend = _get(app, client, "admin.results_trend", unit_id=unit.id, period=period.id)
    for g in "ABCD":  # the IKM bands behind the line (the element lines have colours of their own)
        assert f'fill="{FAKE_COLORS[g]}" fill-opacity' in trend, g
    heat = _get(app, client, "admin.results_heatmap", unit_id=unit.id, period=period.id)
    assert "di bawah 80,00 (mutu C atau D)" in heat
    with app.test_request_context():
        report = _render("reports/laporan.html", **R.results_report(db.session, unit, period, dt.date(2023, 10, 5)))
        poster = _render("reports/poster_pdf.html", size="a4", **R.poster(db.session, unit, period))
    _assert_follows(report)  # the grade table and the NRR chart
    assert "76,61 – 88,30" in report  # the printed ranges stay the regulation's text
    assert FAKE_COLORS["B"] in poster  # IKM 79,17 is B, coloured by the band
