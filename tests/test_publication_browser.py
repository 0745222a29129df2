"""Browser: the public results page on a phone (390×844) and a lobby screen (1920×1080), and
the pages of the Rekapitulasi IKM PDF, written to tests/artifacts/publik/."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess

import pytest

from skm.reports.recap import installation_recap, recap_pdf
from skm.survey.period_admin import close_period, set_population
from skm.survey.publication import set_opt_out
from tests.factories import make_response, make_unit, watch_page_errors
from tests.publication_fixtures import SECRETS, build_public_world

pytestmark = pytest.mark.browser

EXTRA = {  # more units, so the page and the recap look like an installation
    "DPMPTSP": ("Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", [[4, 4, 3, 4, 4, 4, 4, 3, 4]] * 7),
    "DUKCAPIL": ("Dinas Kependudukan dan Pencatatan Sipil", [[3, 3, 2, 4, 3, 3, 3, 3, 3]] * 5),
    "RSUD": ("RSUD Kota", [[3, 2, 2, 3, 3, 3, 3, 2, 3]] * 4),
}


@pytest.fixture
def shots(artifacts):
    folder = os.path.join(artifacts, "publik")
    os.makedirs(folder, exist_ok=True)
    return folder


@pytest.fixture
def world(app, db):
    w = build_public_world(db.session, app.config["UPLOAD_FOLDER"])
    for quarter_key in ((2023, 3), (2023, 4)):
        period = w.periods[quarter_key]
        for code, (name, rows) in EXTRA.items():
            unit = w.__dict__.setdefault("extra", {}).get(code) or make_unit(db.session, code, name)
            w.__dict__["extra"][code] = unit
            for i, row in enumerate(rows if quarter_key == (2023, 4) else rows[:-1]):
                make_response(db.session, unit, row, day=period.start_date + dt.timedelta(days=i))
            set_population(db.session, period, unit, 40)
            close_period(db.session, period, unit, w.admin)
    set_opt_out(db.session, w.hid, w.admin, False)
    db.session.commit()
    return w


def _no_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_public_page_on_a_phone_and_a_lobby_screen(app, db, world, browser, live_server, shots):
    for name, size, url in (("publik-390x844", (390, 844), "/publik"),
                            ("publik-unit-390x844", (390, 844), "/publik/PUB"),
                            ("publik-1920x1080", (1920, 1080), "/publik?layar=1")):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="id-ID")
        page = context.new_page()
        errors = watch_page_errors(page)
        page.goto(live_server + url)
        page.wait_for_selector(".unit-card")
        assert _no_overflow(page), name
        text = page.inner_text("body")
        for secret in SECRETS:
            if secret not in ("Dinas Tertutup", "50,00", "HID-AKSI"):  # HID opted back in for the screenshots
                assert secret not in text, (name, secret)
        assert "Anda menyampaikan, kami menindaklanjuti" in text
        page.screenshot(path=os.path.join(shots, f"{name}.png"), full_page=name != "publik-1920x1080")
        if name == "publik-1920x1080":
            # the lobby screen shows at least the first row of unit cards without scrolling
            box = page.locator(".unit-card").first.bounding_box()
            assert box["y"] + box["height"] <= 1080
        assert errors == [], errors
        context.close()


def test_recap_pdf_pages(app, db, world, shots):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm not installed") if os.environ.get("CI") != "true" else pytest.fail("pdftoppm")
    period = world.periods[(2023, 3)]  # the period with the published unit's RTL
    with app.test_request_context():
        data = recap_pdf(installation_recap(db.session, period, sort="ikm", descending=True), dt.date(2024, 1, 15))
    pdf = os.path.join(shots, "rekapitulasi-ikm.pdf")
    with open(pdf, "wb") as fh:
        fh.write(data)
    for old in os.listdir(shots):
        if old.startswith("rekapitulasi-ikm-") and old.endswith(".png"):
            os.remove(os.path.join(shots, old))
    subprocess.run(["pdftoppm", "-png", "-r", "70", pdf, os.path.join(shots, "rekapitulasi-ikm")], check=True)
    pngs = [f for f in os.listdir(shots) if f.startswith("rekapitulasi-ikm-") and f.endswith(".png")]
    assert pngs and all(os.path.getsize(os.path.join(shots, f)) > 5000 for f in pngs)
