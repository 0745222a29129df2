"""Browser: a manager logs in, picks Triwulan III 2023, reads the IKM and opens the trend."""
from __future__ import annotations

import datetime as dt
import os
import random

import pytest

from skm.core.formatting import number_id
from skm.scoring.results import period_results
from skm.survey.periods import quarter
from tests.factories import browser_login, make_period, make_response, make_unit, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def data(db):
    unit = make_unit(db.session, "DPM", "Dinas Penanaman Modal", services=("Izin Usaha", "Konsultasi"))
    make_user(db.session, "manajer", "manager", [unit])
    rng = random.Random(3)
    periods = {}
    for q, mean in [(1, 3.0), (2, 3.3), (3, 3.6), (4, 3.4)]:
        period = make_period(db.session, quarter(2023, q), population=120)
        periods[q] = period
        for i in range(30 + 5 * q):
            ratings = [max(1, min(4, round(rng.gauss(mean, 0.5)))) for _ in range(9)]
            make_response(db.session, unit, ratings, day=period.start_date + dt.timedelta(days=i),
                          service=unit.services[i % 2], gender="LP"[i % 2], age=18 + i, education="SMA",
                          occupation="SWASTA", survey_time=dt.time(8 + i % 8, 10),
                          suggestion="Ruang tunggu perlu kipas" if i == 3 else None)
    db.session.commit()
    return unit, periods


def test_manager_reads_ikm_and_opens_trend(app, data, live_server, page, artifacts, db):
    unit, periods = data
    q3 = periods[3]
    expected = period_results(db.session, unit, q3).scores
    ikm_text, respondents = number_id(expected.ikm), str(expected.respondents)
    db.session.rollback()  # end the test's read transaction: SQLite writers would wait on it
    out = os.path.join(artifacts, "admin")
    os.makedirs(out, exist_ok=True)
    errors = []
    # every page, script and stylesheet loads (the browser's own favicon probe aside)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)

    browser_login(page, live_server, "manajer")
    page.wait_for_url(f"{live_server}/admin/")
    page.click("nav >> text=Hasil")
    # The filter script is deferred: wait for the page (and it) to load before changing the select.
    page.wait_for_url("**/admin/units/*/results**")
    page.wait_for_load_state("load")
    with page.expect_navigation():
        page.select_option("#f-period", label="Triwulan III 2023")  # submits itself (static/js/admin-filters.js)
    page.wait_for_selector("#card-ikm")
    assert "Triwulan III 2023" in page.inner_text("h1")
    assert page.inner_text("#card-ikm").strip() == ikm_text
    assert page.inner_text("#card-respondents").strip() == respondents
    page.screenshot(path=os.path.join(out, "dashboard.png"), full_page=True)

    page.click("nav.tabs >> text=Tren")
    page.wait_for_selector("#trend-ikm svg")
    rows = page.locator("#trend-table tr").all_inner_texts()
    assert [r.split("\t")[0] for r in rows[1:]] == ["Triwulan I 2023", "Triwulan II 2023", "Triwulan III 2023"]
    assert ikm_text in rows[-1]
    page.screenshot(path=os.path.join(out, "trend.png"), full_page=True)

    page.click("nav.tabs >> text=Waktu")
    page.wait_for_selector("#heatmap table")
    page.screenshot(path=os.path.join(out, "heatmap.png"), full_page=True)
    page.click("nav.tabs >> text=Pengolahan data")
    page.wait_for_selector("#sheet")
    page.screenshot(path=os.path.join(out, "sheet.png"))
    # a tablet in portrait: the dashboard still reads without sideways scrolling
    page.set_viewport_size({"width": 800, "height": 1280})
    page.click("nav.tabs >> text=Ringkasan")
    page.wait_for_selector("#card-ikm")
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    page.screenshot(path=os.path.join(out, "dashboard-tablet.png"))
    assert errors == []
