"""Browser: a manager downloads a report, starts a long one and watches its progress (htmx,
no inline script); the lobby poster page on a 1080p screen."""
from __future__ import annotations

import datetime as dt
import os

import pytest

from tests.factories import browser_login, make_period, make_response, make_unit, make_user, watch_page_errors
from tests.test_reports import PROFILES, RATINGS

pytestmark = pytest.mark.browser


@pytest.fixture
def shots(artifacts):
    folder = os.path.join(artifacts, "reports")
    os.makedirs(folder, exist_ok=True)
    return folder


def _data(db):
    s = db.session
    unit = make_unit(s, "DPM", "Dinas Penanaman Modal", kiosk_show_ikm=True)
    period = make_period(s)
    for i, (r, p) in enumerate(zip(RATINGS, PROFILES)):
        make_response(s, unit, r, day=dt.date(2023, 7, 3 + i), **p)
    make_user(s, "manajer", "manager", [unit])
    s.commit()
    return unit, period


def test_manager_generates_a_long_report_with_visible_progress(app, db, live_server, page, shots, queue_consumer):
    unit, period = _data(db)
    app.config["REPORT_SYNC_MAX_RESPONDENTS"] = 2
    errors = watch_page_errors(page)
    browser_login(page, live_server, "manajer")
    page.click("nav.mainnav >> text=Laporan")
    page.wait_for_selector("text=Laporan – Dinas Penanaman Modal")
    page.screenshot(path=os.path.join(shots, "web-01-reports-page.png"), full_page=True)

    # A small document downloads straight away.
    with page.expect_download() as info:
        page.click("button[value=poster]")
    assert info.value.suggested_filename.endswith(".pdf")

    # Above the limit: a confirmation, then the job page that polls until the file is ready.
    page.click("button[value=pengolahan]")
    page.wait_for_selector("text=dibuat di latar belakang")
    page.click("button:has-text('Buat dokumen')")
    page.wait_for_selector("#job")
    page.wait_for_selector("text=Dokumen selesai dibuat", timeout=60000)
    page.screenshot(path=os.path.join(shots, "web-02-job-done.png"), full_page=True)
    with page.expect_download() as info:
        page.click("a:has-text('Unduh')")
    assert info.value.suggested_filename == "pengolahan-dpm-triwulan-iii-2023.pdf"
    assert errors == []


def test_lobby_poster_page(db, live_server, page, shots):
    _data(db)
    errors = watch_page_errors(page)
    page.set_viewport_size({"width": 1920, "height": 1080})
    response = page.goto(f"{live_server}/papan/DPM?periode=Triwulan III 2023")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.locator("meta[http-equiv=refresh]").count() == 1
    assert page.locator(".ikm").inner_text() == "79,17"
    box = page.locator(".thanks").bounding_box()
    assert box["y"] + box["height"] <= 1080  # the whole poster fits one screen
    page.screenshot(path=os.path.join(shots, "lobby-poster.png"))
    assert errors == []


def test_laporan_page_explains_a_period_without_respondents(db, live_server, page, shots):
    from skm.survey.periods import quarter

    _unit, period = _data(db)
    empty = make_period(db.session, quarter(2023, 4))
    db.session.commit()
    errors = watch_page_errors(page)
    browser_login(page, live_server, "manajer")
    page.click("nav.mainnav >> text=Laporan")
    page.wait_for_selector("button[value=laporan]")  # opens on the latest period with respondents
    assert page.locator("#period_id").input_value() == str(period.id)
    page.select_option("#period_id", str(empty.id))  # shown at once (admin-filters.js)
    page.wait_for_selector("#report-unavailable")
    assert "Belum ada responden pada periode Triwulan IV 2023" in page.locator("#report-unavailable").inner_text()
    assert page.locator("button[value=laporan]").count() == 0
    assert page.locator("button[value=kuesioner]").count() == 1
    page.screenshot(path=os.path.join(shots, "web-03-empty-period.png"), full_page=True)
    assert errors == []


def test_laporan_page_sets_the_report_date_and_texts(db, live_server, page, shots):
    """At 1366×768: the report date form and the report texts, saved from the browser."""
    from skm.reports.settings import report_choice
    from skm.reports.texts import stored_texts

    unit, period = _data(db)
    errors = watch_page_errors(page)
    page.set_viewport_size({"width": 1366, "height": 768})
    browser_login(page, live_server, "manajer")
    page.click("nav.mainnav >> text=Laporan")
    page.wait_for_selector("#report_date")
    assert page.locator("#report_date").input_value() == "2023-10-07"  # 7 days after the quarter
    page.fill("#report_date", "2023-10-16")
    page.fill("#officer_name", "Nopianti, S.AP")
    page.click("text=Simpan tanggal dan penanda tangan")
    page.wait_for_selector("text=Tanggal dan penanda tangan laporan periode Triwulan III 2023 disimpan")
    assert page.locator("#report_date").input_value() == "2023-10-16"
    page.fill("#sasaran", "Sasaran unit kami")
    page.click("text=Simpan teks laporan")
    page.wait_for_selector("text=Teks laporan disimpan")
    page.screenshot(path=os.path.join(shots, "laporan-page-1366.png"), full_page=True)
    db.session.expire_all()
    choice = report_choice(db.session, unit, period)
    assert (choice.report_date, choice.officer_name) == (dt.date(2023, 10, 16), "Nopianti, S.AP")
    assert stored_texts(db.session, unit)["sasaran"] == "Sasaran unit kami"
    assert errors == []
