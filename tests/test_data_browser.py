"""Import, exports and the blank questionnaire in a real browser: screenshots, no CSP errors."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from skm.models import Response
from tests.factories import PASSWORD, make_period, make_unit, make_user
from tests.test_import_web import _rows

pytestmark = pytest.mark.browser


def _shot(page, artifacts, name):
    folder = os.path.join(artifacts, "data")
    os.makedirs(folder, exist_ok=True)
    page.screenshot(path=os.path.join(folder, name), full_page=True)


def test_import_preview_commit_and_questionnaire_in_the_browser(db, live_server, page, artifacts, tmp_path):
    unit = make_unit(db.session)
    make_period(db.session)
    make_user(db.session)
    db.session.commit()
    unit_id = unit.id
    db.session.rollback()
    problems = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)

    page.goto(f"{live_server}/admin/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{live_server}/admin/")
    page.click("text=Data & Excel")
    page.wait_for_url(f"{live_server}/admin/units/{unit_id}/data")
    _shot(page, artifacts, "data-1-index.png")

    bad = tmp_path / "kertas-salah.csv"
    bad.write_text(_rows(60, bad_row=41))
    page.set_input_files("input[name=berkas]", str(bad))
    page.click("text=Periksa berkas")
    page.wait_for_selector("#preview-errors")
    assert "baris 41, kolom U3" in page.inner_text("#preview-errors")
    assert page.locator("#commit").count() == 0
    _shot(page, artifacts, "data-2-preview-errors.png")

    page.goto(f"{live_server}/admin/units/{unit_id}/data")
    good = tmp_path / "kertas.csv"
    good.write_text(_rows(60))
    page.set_input_files("input[name=berkas]", str(good))
    page.click("text=Periksa berkas")
    page.wait_for_selector("#preview-scores")
    ikm = page.inner_text("#preview-ikm")
    _shot(page, artifacts, "data-3-preview-clean.png")
    page.click("#commit")
    page.wait_for_selector("text=berhasil diimpor")
    _shot(page, artifacts, "data-4-imported.png")
    assert db.session.scalar(select(func.count(Response.id))) == 60
    db.session.rollback()

    # The same file again is refused at the preview.
    page.set_input_files("input[name=berkas]", str(good))
    page.click("text=Periksa berkas")
    page.wait_for_selector("#duplicate")
    assert page.locator("#commit").count() == 0

    page.goto(f"{live_server}/admin/units/{unit_id}/data")
    with page.expect_download() as info:
        page.locator("a[href$='pengolahan-data.xlsx']").first.click()
    assert info.value.suggested_filename.endswith("pengolahan-data.xlsx")

    page.goto(f"{live_server}/admin/units/{unit_id}/data/kuesioner")
    _shot(page, artifacts, "data-5-questionnaire.png")
    page.emulate_media(media="print")
    pdf = tmp_path / "kuesioner.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert pdf.stat().st_size > 10_000
    assert ikm and problems == []
