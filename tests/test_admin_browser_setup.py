"""Browser: an admin creates a year's quarters and edits unit settings; screenshots for review."""
from __future__ import annotations

import os

import pytest

from tests.factories import browser_login, make_unit, make_user

pytestmark = pytest.mark.browser


def test_admin_creates_periods_and_saves_settings(app, db, live_server, page, artifacts):
    unit = make_unit(db.session, "DUK", "Dinas Kependudukan")
    make_user(db.session)
    db.session.commit()
    unit_id = unit.id
    db.session.rollback()
    out = os.path.join(artifacts, "admin")
    os.makedirs(out, exist_ok=True)
    browser_login(page, live_server, "admin")
    page.wait_for_url(f"{live_server}/admin/")
    page.click("nav.mainnav >> text=Periode")
    page.fill("#year", "2024")
    page.click("form:has(#year) button[type=submit]")
    page.wait_for_selector("text=Periode dibuat")
    assert page.locator("table >> text=Triwulan IV 2024").count() == 1
    page.screenshot(path=os.path.join(out, "periods.png"), full_page=True)
    page.goto(f"{live_server}/admin/units/{unit_id}/settings")
    page.fill("#head_name", "Ir. Wayan Sudarsana, M.Si.")
    page.fill("#idle_seconds", "5")  # below the minimum: refused with a message
    page.click("text=Simpan pengaturan")
    page.wait_for_selector(".alert-box")
    assert "harus antara 10 dan 3600" in page.inner_text(".alert-box")
    page.fill("#idle_seconds", "75")
    page.click("text=Simpan pengaturan")
    page.wait_for_selector("text=Pengaturan unit disimpan")
    assert page.input_value("#head_name") == "Ir. Wayan Sudarsana, M.Si."
    page.screenshot(path=os.path.join(out, "settings.png"), full_page=True)
    page.click("nav.tabs >> text=Kuesioner")
    page.wait_for_selector("table.editor")
    page.screenshot(path=os.path.join(out, "questionnaire.png"))
