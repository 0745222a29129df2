"""The online survey on a phone (390×844) in headless Chromium: the public survey end to end,
a ticket and its refused second use. Screenshots of every kind of screen go to
tests/artifacts/online/."""
from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import func, select

from skm.models import Response, SurveyTicket
from skm.online.tickets import issue_tickets
from tests.factories import make_unit
from tests.kiosk_browser_helpers import serious_violations

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
RATINGS = [4, 3, 4, 1, 3, 4, 4, 3, 2]


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="id-ID", is_mobile=True, has_touch=True,
                                  device_scale_factor=1)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shots(artifacts):
    folder = os.path.join(artifacts, "online")
    os.makedirs(folder, exist_ok=True)
    return folder


def _shoot(page, folder, name):
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: horizontal scroll of {overflow}px"
    small = page.evaluate("""() => [...document.querySelectorAll('#screen .btn')]
        .filter(b => b.offsetParent && b.getBoundingClientRect().height < 44).map(b => b.textContent.trim())""")
    assert small == [], f"{name}: buttons under 44 px: {small}"
    assert page.locator("#staff-corner, #idle-overlay").count() == 0
    assert page.locator("h1").count() == 1, f"{name}: one h1 per screen"
    assert serious_violations(page) == [], name
    page.screenshot(path=os.path.join(folder, f"{name}-390x844.png"), full_page=True)


def _other_phones(page, folder, name):
    """The same screen on the smallest and the largest phone the issue names."""
    for width, height in ((360, 640), (430, 932)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(50)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} at {width}: horizontal scroll of {overflow}px"
        page.screenshot(path=os.path.join(folder, f"{name}-{width}x{height}.png"))
    page.set_viewport_size(PHONE)


def _on(page, kind, timeout=15000):
    page.locator(f"#screen[data-kind={kind}]").wait_for(timeout=timeout)


def _tap(page, name):
    page.locator("#screen").get_by_role("button", name=name, exact=True).click()


def _count(db, **where):
    db.session.rollback()
    return db.session.scalar(select(func.count(Response.id)).filter_by(**where))


def _wait_count(db, n, **where):
    deadline = time.time() + 10
    while _count(db, **where) != n and time.time() < deadline:
        time.sleep(0.1)
    return _count(db, **where)


def _fits(page, name):
    """Every answer and the footer's buttons are on the phone's screen without scrolling."""
    hidden = page.evaluate("""() => [...document.querySelectorAll('#screen .btn-answer, #screen .foot .btn')]
        .filter(b => { const r = b.getBoundingClientRect(); return r.bottom > window.innerHeight || r.top < 0; })
        .map(b => b.textContent.trim())""")
    assert hidden == [], f"{name}: off screen: {hidden}"


def _answer_elements(page, unit_labels):
    for i, rating in enumerate(RATINGS):
        _on(page, "element")
        page.locator("#screen .counter").filter(has_text=f"Pertanyaan {i + 1} /").wait_for()
        page.locator(f"#screen button[name=value][value='{rating}']").click()
    _on(page, "saran")


def test_public_survey_and_ticket_on_a_phone(app, db, phone, live_server, shots):
    unit = make_unit(db.session, min_survey_seconds=0, name="Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu")
    service = unit.services[0]
    ticket = issue_tickets(db.session, unit, unit.services[1], 1, batch="uji")[0]
    code = ticket.code
    db.session.commit()
    labels = None
    page = phone

    # The public survey, end to end.
    page.goto(f"{live_server}/survei/uji")
    _on(page, "welcome")
    _shoot(page, shots, "01-welcome")
    _other_phones(page, shots, "01-welcome")
    _tap(page, "Mulai survei")
    _on(page, "service")
    _shoot(page, shots, "02-service")
    _tap(page, service.name)
    _on(page, "gender")
    _shoot(page, shots, "03-gender")
    _tap(page, "Perempuan")
    _on(page, "age")
    page.locator("#age-input").fill("7")
    _tap(page, "Lanjut")
    page.locator("#screen .notice").wait_for()
    _shoot(page, shots, "04-age-error")
    page.locator("#age-input").fill("34")
    _tap(page, "Lanjut")
    _on(page, "education")
    _shoot(page, shots, "05-education")
    _tap(page, "S1")
    _on(page, "occupation")
    _tap(page, "Lainnya")
    page.locator("#other-input").wait_for()
    page.locator("#other-input").fill("Petani")
    _shoot(page, shots, "06-occupation-other")
    _tap(page, "Lanjut")
    _on(page, "element")
    _fits(page, "element")
    _shoot(page, shots, "07-element")
    _other_phones(page, shots, "07-element")
    _answer_elements(page, labels)
    page.locator("#saran-input").fill("Ruang tunggu kurang kursi.")
    _shoot(page, shots, "08-saran")
    _other_phones(page, shots, "08-saran")
    _tap(page, "Kirim penilaian")
    _on(page, "thanks")
    _shoot(page, shots, "09-thanks")
    assert _wait_count(db, 1, channel="online") == 1
    stored = db.session.scalar(select(Response))
    assert stored.occupation == "LAINNYA" and stored.occupation_other == "Petani" and stored.age == 34

    # The same browser, the same service, the same day: a polite page, nothing more stored.
    page.goto(f"{live_server}/survei/UJI?layanan={service.id}")
    _on(page, "welcome")
    _shoot(page, shots, "10-welcome-service")
    _tap(page, "Mulai survei")
    _on(page, "notice")
    assert "Anda sudah mengisi survei layanan ini hari ini" in page.locator("#screen").inner_text()
    _shoot(page, shots, "11-done-today")

    # A ticket: typed at /t, bound to its service, spent by its response.
    page.goto(f"{live_server}/t")
    _on(page, "ticket")
    page.locator("#ticket-code").fill(f"{code[:4].lower()} {code[4:]}")
    _shoot(page, shots, "12-ticket-form")
    _tap(page, "Lanjut")
    _on(page, "welcome")
    assert code in page.locator("#screen").inner_text()
    _shoot(page, shots, "13-ticket-welcome")
    _tap(page, "Mulai survei")
    _on(page, "gender")
    _tap(page, "Laki-laki")
    _on(page, "age")
    page.locator("#age-input").fill("51")
    _tap(page, "Lanjut")
    _on(page, "education")
    _tap(page, "SMA")
    _on(page, "occupation")
    _tap(page, "Wirausaha")
    _answer_elements(page, labels)
    _tap(page, "Lewati")
    _on(page, "thanks")
    assert _wait_count(db, 2, channel="online") == 2
    db.session.rollback()
    assert db.session.get(SurveyTicket, ticket.id).spent_at is not None
    assert _count(db, ticket_id=ticket.id) == 1

    # Its second use is refused with a clear page.
    page.goto(f"{live_server}/t/{code}")
    _on(page, "notice")
    assert "Tiket ini sudah dipakai" in page.locator("#screen").inner_text()
    _shoot(page, shots, "14-ticket-spent")
    page.goto(f"{live_server}/t/AAAAAAAA")
    _on(page, "notice")
    assert "Kode tiket tidak dikenal" in page.locator("#screen").inner_text()
    _shoot(page, shots, "15-ticket-unknown")
    page.goto(f"{live_server}/survei/TIDAKADA")
    _on(page, "notice")
    assert "Halaman tidak ditemukan" in page.locator("#screen").inner_text()
    _shoot(page, shots, "16-unknown-unit")

    # Switched off: a polite page, nothing stored.
    db.session.rollback()
    unit = db.session.merge(unit)
    unit.online_enabled = False
    db.session.commit()
    page.goto(f"{live_server}/survei/UJI")
    _on(page, "notice")
    assert "tidak aktif" in page.locator("#screen").inner_text()
    assert page.locator("text=Mulai survei").count() == 0
    _shoot(page, shots, "17-switched-off")
    assert _count(db) == 2

