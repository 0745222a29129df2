"""Issue 15 in Chromium: the survey's QR on the kiosk's welcome and thank-you screens and
on the lobby poster (it decodes from the screenshot and covers no control), and the staff
page with a front-desk ticket. Screenshots in tests/artifacts/online/."""
from __future__ import annotations

import os
import subprocess

import pytest

from skm.core.clock import unit_today
from skm.models import Unit
from skm.survey.periods import quarter
from tests.factories import browser_login, make_period, make_response, make_user
from tests.kiosk_browser_helpers import answer_elements, answer_profile, on, paired_kiosk, tap

pytestmark = pytest.mark.browser

SIZES = ((1280, 800), (800, 1280))
BASE = "https://skm.contoh.go.id"

COVERED = """
(sel) => {
  const q = document.querySelector(sel).getBoundingClientRect(), out = [];
  document.querySelectorAll('#screen button, #screen a, main button, main a').forEach(el => {
    const r = el.getBoundingClientRect();
    if (r.width && r.height && r.left < q.right && q.left < r.right && r.top < q.bottom && q.top < r.bottom)
      out.push(el.textContent.trim());
  });
  if (q.right > innerWidth + 0.5 || q.bottom > innerHeight + 0.5) out.push('outside the screen');
  return out;
}
"""


def _decode(path) -> list[str]:
    done = subprocess.run(["zbarimg", "-q", "--raw", path], capture_output=True, text=True, timeout=60)
    return done.stdout.split()


def _shoot_qr(page, folder, name, selector):
    """Screenshot at both sizes; the QR must decode from the picture and cover no control."""
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(100)
        assert page.evaluate(f"document.querySelector('{selector} img').naturalWidth") > 0
        assert page.evaluate(COVERED, selector) == [], (name, width)
        path = os.path.join(folder, f"{name}-{width}x{height}.png")
        page.screenshot(path=path)
        yield path


def test_qr_on_kiosk_screens_and_lobby_poster(app, db, page, live_server, artifacts):
    app.config["PUBLIC_BASE_URL"] = BASE
    folder = os.path.join(artifacts, "online")
    os.makedirs(folder, exist_ok=True)
    unit, elements = paired_kiosk(app, db, page, live_server, kiosk_show_ikm=True, thanks_seconds=60)
    code = unit.code
    unit = db.session.get(Unit, unit.id)
    today = unit_today(unit)
    make_period(db.session, quarter(today.year, (today.month - 1) // 3 + 1))
    make_response(db.session, unit, [3] * len(elements), day=today)  # the welcome screen shows the IKM too
    db.session.commit()
    db.session.rollback()
    page.goto(f"{live_server}/kiosk/")
    on(page, "welcome")
    assert "Isi juga dari ponsel Saudara" in page.inner_text("#screen")
    for path in _shoot_qr(page, folder, "kiosk-welcome", ".phone-qr"):
        assert _decode(path) == [f"{BASE}/survei/{code}"]
    page.set_viewport_size({"width": 1280, "height": 800})

    answer_profile(page)
    tap(page, "PNS")
    answer_elements(page, elements)
    page.get_by_role("button", name="Kirim penilaian").click()
    on(page, "thanks")
    for path in _shoot_qr(page, folder, "kiosk-thanks", ".phone-qr"):
        assert _decode(path) == [f"{BASE}/survei/{code}"]

    page.goto(f"{live_server}/papan/{code}")
    for path in _shoot_qr(page, folder, "papan", ".poster-qr"):
        assert _decode(path) == [f"{BASE}/survei/{code}"]

    # Switched off: no QR anywhere.
    db.session.get(Unit, unit.id).online_enabled = False
    db.session.commit()
    db.session.rollback()
    page.goto(f"{live_server}/papan/{code}")
    assert page.locator(".poster-qr").count() == 0
    page.goto(f"{live_server}/kiosk/")
    on(page, "welcome")
    assert page.locator(".phone-qr").count() == 0


def test_staff_page_and_front_desk_ticket(app, db, page, live_server, artifacts):
    from tests.factories import make_unit

    folder = os.path.join(artifacts, "online")
    os.makedirs(folder, exist_ok=True)
    unit = make_unit(db.session, "DINKES", "Dinas Kesehatan")
    make_user(db.session, "petugas", "operator", [unit])
    db.session.commit()
    unit_id = unit.id
    db.session.rollback()
    browser_login(page, live_server, "petugas")
    page.goto(f"{live_server}/admin/units/{unit_id}/survei-daring")
    assert page.locator("#survey-url").inner_text() == f"{live_server}/survei/DINKES"
    page.screenshot(path=os.path.join(folder, "admin-qr-tiket.png"), full_page=True)
    page.select_option("#desk-service", label="Layanan A")
    page.get_by_role("button", name="Buat satu tiket").click()
    page.locator("#ticket-code").wait_for()
    code = page.locator("#ticket-code").inner_text().replace("-", "")
    path = os.path.join(folder, "admin-tiket-loket.png")
    page.screenshot(path=path)
    assert _decode(path) == [f"{live_server}/t/{code}"]
    assert "Layanan A" in page.inner_text("main")
