"""The kiosk in headless Chromium when the period closes: a survey in progress is refused at
send with a screen for the visitor, kiosk.js does not retry it, and no new survey starts."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from skm.core.clock import unit_now
from skm.kiosk import devices as D
from skm.models import KioskSurvey, Response
from skm.survey.period_admin import close_period
from skm.survey.periods import quarter
from tests.factories import make_period, make_unit, make_user

pytestmark = pytest.mark.browser


def test_send_into_a_closed_period_shows_the_refusal_once(app, db, page, live_server, artifacts):
    unit = make_unit(db.session, ask_gender=False, ask_age=False, ask_education=False, ask_occupation=False,
                     thanks_seconds=2, min_survey_seconds=0)
    today = unit_now(unit).date()
    period = make_period(db.session, quarter(today.year, (today.month - 1) // 3 + 1))
    manager = make_user(db.session, "manajer", "manager", [unit])
    D.set_kiosk_pin(db.session, unit, "2468")
    code = D.create_pairing(db.session, unit).pairing_code
    db.session.commit()
    unit_id, period_id = unit.id, period.id
    db.session.rollback()  # release SQLite's write lock for the server threads

    sends = []
    page.on("request", lambda req: sends.append(req.url) if req.url.endswith("/outbox") else None)
    page.goto(f"{live_server}/kiosk/pair/{code}")
    page.get_by_role("button", name="Pasangkan").click()
    page.get_by_role("button", name="Sentuh untuk memulai").click()
    page.locator("#screen[data-kind=service]").wait_for()
    page.get_by_role("button", name="Layanan A").click()
    for _ in range(9):
        page.locator("#screen[data-kind=element]").wait_for()
        page.locator("#screen button[name=value][value='3']").click()
        page.wait_for_timeout(400)  # the next screen arms itself before taking a tap
    page.locator("#screen[data-kind=saran]").wait_for()

    # The manager closes the period while the visitor writes a suggestion.
    from skm.models import Period, Unit

    close_period(db.session, db.session.get(Period, period_id), db.session.get(Unit, unit_id), manager)
    db.session.commit()
    db.session.rollback()

    page.fill("#saran-input", "Ruang tunggu nyaman")
    page.get_by_role("button", name="Kirim penilaian").click()
    # The survey went into the outbox; the server refuses it for good and the visitor reads why.
    page.locator("#screen[data-kind=thanks] .status-sent >> text=jawaban Saudara tidak disimpan").wait_for()
    assert "Terkirim" not in page.inner_text("#screen")
    page.wait_for_timeout(2500)  # longer than a retry would wait, and the screen returns by itself
    assert len(sends) == 1, sends
    assert page.locator("#net-banner").is_hidden()
    # Back at the start: the period is still closed, so the visitor sees the closed screen.
    page.locator("#screen[data-kind=closed] >> text=Survei untuk periode ini sudah ditutup. Terima kasih.").wait_for()
    assert page.get_by_role("button", name="Sentuh untuk memulai").count() == 0
    folder = os.path.join(artifacts, "kiosk")
    os.makedirs(folder, exist_ok=True)
    page.screenshot(path=os.path.join(folder, "15-closed-1280x800.png"))

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0
    assert db.session.scalar(select(func.count()).select_from(KioskSurvey)) == 1
    db.session.rollback()
