"""The kiosk in headless Chromium: the whole flow, network failures, idle reset, staff PIN.

Screenshots of every kind of screen at 1280×800 and 800×1280 go to tests/artifacts/kiosk/.
"""
from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import select

from skm.core.clock import unit_now
from skm.kiosk import devices as D
from skm.kiosk import flow as F
from skm.models import KioskSurvey, Response
from skm.survey.periods import PeriodSpan
from tests.factories import make_period, make_response, make_unit

pytestmark = pytest.mark.browser

SIZES = [(1280, 800), (800, 1280)]
RATINGS = [4, 3, 4, 1, 3, 4, 4, 3, 2]


@pytest.fixture
def shots(artifacts):
    folder = os.path.join(artifacts, "kiosk")
    os.makedirs(folder, exist_ok=True)
    return folder


def _check_layout(page):
    """No horizontal scroll; big enough targets and text."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"horizontal scroll of {overflow}px"
    small = page.evaluate("""() => [...document.querySelectorAll('#screen .btn-choice, #screen .btn-answer, #screen .btn-key, #screen .btn-start')]
        .filter(b => b.offsetParent && b.getBoundingClientRect().height < 64).map(b => b.textContent.trim())""")
    assert small == [], f"buttons under 64 px: {small}"


def shoot(page, folder, name):
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(80)
        _check_layout(page)
        page.screenshot(path=os.path.join(folder, f"{name}-{width}x{height}.png"))
    page.set_viewport_size({"width": 1280, "height": 800})


def long_press_corner(page):
    page.mouse.move(12, 12)
    page.mouse.down()
    page.wait_for_timeout(3200)
    page.mouse.up()
    page.locator("#staff-overlay").wait_for(state="visible")


def type_pad(page, digits, container):
    for d in digits:
        page.locator(f"{container} [data-key='{d}']").click()


def test_kiosk_in_chromium(app, db, page, live_server, shots):
    app.config["KIOSK_IDLE_COUNTDOWN"] = 3
    unit = make_unit(db.session, name="Dinas Penanaman Modal dan PTSP Kota Contoh", min_survey_seconds=1,
                     thanks_seconds=2, kiosk_show_ikm=True, ask_suggestion_on_low=True,
                     services=("Izin Usaha", "Izin Mendirikan Bangunan", "Cetak KTP"))
    today = unit_now(unit).date()
    make_period(db.session, PeriodSpan("Tahun " + str(today.year), "tahun", today.replace(month=1, day=1),
                                       today.replace(month=12, day=31)))
    for ratings in ([4] * 9, [3] * 9, [4, 3, 4, 3, 4, 3, 4, 3, 4]):
        make_response(db.session, unit, ratings, day=today)
    D.set_kiosk_pin(db.session, unit, "2468")
    code = D.create_pairing(db.session, unit).pairing_code
    db.session.commit()
    elements = [e.code for e in unit.current_questionnaire.elements]
    db.session.rollback()  # release SQLite's write lock for the server threads

    # Pairing.
    page.goto(f"{live_server}/kiosk/")
    assert "belum terdaftar" in page.content()
    page.goto(f"{live_server}/kiosk/pair/{code}")
    shoot(page, shots, "01-pair")
    page.get_by_role("button", name="Pasangkan").click()
    page.get_by_role("button", name="Sentuh untuk memulai").wait_for()
    assert "Mutu" in page.content()
    style = page.evaluate("""() => { const s = getComputedStyle(document.body);
        return [s.touchAction, s.userSelect || s.webkitUserSelect, s.overscrollBehaviorY]; }""")
    assert style == ["manipulation", "none", "none"]
    assert page.evaluate("htmx.version").startswith("2.")
    shoot(page, shots, "02-welcome")

    # Start; service; profile.
    page.get_by_role("button", name="Sentuh untuk memulai").click()
    page.locator("#screen[data-kind=service]").wait_for()
    shoot(page, shots, "03-service")
    page.get_by_role("button", name="Cetak KTP").click()
    page.locator("#screen[data-kind=gender]").wait_for()
    shoot(page, shots, "04-gender")
    page.get_by_role("button", name="Perempuan").click()
    page.locator("#screen[data-kind=age]").wait_for()
    type_pad(page, "317", "#screen")  # the pad keeps two digits: 31
    type_pad(page, ["del", "7"], "#screen")
    assert page.input_value("#age-input") == "37"
    shoot(page, shots, "05-age")
    page.get_by_role("button", name="Lanjut").click()
    page.locator("#screen[data-kind=education]").wait_for()
    shoot(page, shots, "06-education")
    page.get_by_role("button", name="S1").click()
    page.locator("#screen[data-kind=occupation]").wait_for()
    shoot(page, shots, "07-occupation")
    page.get_by_role("button", name="Lainnya").click()
    page.locator("#other-input").wait_for()
    page.fill("#other-input", "Petani")
    shoot(page, shots, "08-occupation-other")
    page.get_by_role("button", name="Lanjut").click()

    # The nine elements, with a failed request and a Wi-Fi login page on the way.
    state = {"abort": 0, "portal": 0, "error": 0}

    def server_error(route):
        if state["error"] == 0:
            state["error"] += 1
            route.fulfill(status=503, content_type="text/html", body="Service Unavailable")
        else:
            route.continue_()

    def flaky(route):
        if state["abort"] == 0:
            state["abort"] += 1
            route.abort("internetdisconnected")
        else:
            route.continue_()

    def portal(route):
        if state["portal"] == 0:
            state["portal"] += 1
            route.fulfill(status=200, content_type="text/html", body="<html><body>Login Wi-Fi</body></html>")
        else:
            route.continue_()

    for i, (_code, rating) in enumerate(zip(elements, RATINGS), start=1):
        page.locator(f"#screen[data-kind=element] >> text=Pertanyaan {i} / 9").wait_for()
        if i == 1:
            question = page.locator(".question")
            assert float(question.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 28
            shoot(page, shots, "09-element")
        if i == 2:
            page.route(re.compile(r".*/el-U2$"), server_error)
        if i == 4:
            page.route(re.compile(r".*/el-U4$"), flaky)
        if i == 6:
            page.route(re.compile(r".*/el-U6$"), portal)
        button = page.locator(f"#screen button[name=value][value='{rating}']")
        if i == 1:
            # A double tap whose second touch lands on the next screen, under the same finger,
            # answers nothing there: right after the swap, tap the same point and the button.
            box = button.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.evaluate("""([x, y]) => document.addEventListener('htmx:load', (e) => {
                if (e.detail.elt.id !== 'screen' || window.ghost !== undefined) return;
                window.ghost = null;
                setTimeout(() => {  // 100 ms after the new screen appeared: a second tap
                    const hit = document.elementFromPoint(x, y);
                    window.ghost = hit.closest('button') ? 'BUTTON' : hit.tagName;
                    hit.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));
                    e.detail.elt.querySelector("button[name=value][value='4']").click();
                }, 100);
            })""", [x, y])
            button.click()
            page.locator("#screen[data-kind=element] >> text=Pertanyaan 2 / 9").wait_for()
            page.wait_for_timeout(500)
            assert page.evaluate("window.ghost") != "BUTTON"
            assert page.locator("#screen >> text=Pertanyaan 2 / 9").count() == 1
            continue
        button.click()
        if i in (2, 4, 6):
            page.locator("#net-banner").wait_for(state="visible")
            assert "Koneksi terputus, mencoba lagi" in page.inner_text("#net-banner")
            if i == 4:
                shoot(page, shots, "10-network-retry")
            assert "Login Wi-Fi" not in page.content()
            page.locator("#net-banner").wait_for(state="hidden", timeout=15000)
    assert state == {"abort": 1, "portal": 1, "error": 1}

    # Saran (a rating of 1 was given: the kiosk explains why it asks), then send.
    page.locator("#screen[data-kind=saran]").wait_for()
    assert "nilai rendah" in page.content()
    page.fill("#saran-input", "Biaya belum jelas di papan informasi.")
    shoot(page, shots, "11-saran")
    deliveries = []
    page.on("request", lambda r: deliveries.append(r.url) if r.url.endswith("/kiosk/outbox") else None)
    page.get_by_role("button", name="Kirim penilaian").dblclick()  # a double tap sends once
    page.locator("#screen[data-kind=thanks]").wait_for()
    page.locator(".status-sent", has_text="Terkirim").wait_for()
    assert len(deliveries) == 1
    shoot(page, shots, "12-thanks")
    page.locator("#screen[data-kind=welcome]").wait_for(timeout=6000)  # returns by itself

    db.session.rollback()
    [r] = db.session.scalars(select(Response).where(Response.channel == "kiosk")).all()
    assert r.service.name == "Cetak KTP"
    assert (r.gender, r.age, r.education, r.occupation, r.occupation_other) == ("P", 37, "S1", "LAINNYA", "Petani")
    assert r.suggestion == "Biaya belum jelas di papan informasi."
    assert {a.element.code: a.rating for a in r.answers} == dict(zip(elements, RATINGS))
    assert r.device_id is not None and r.token and not r.flagged and r.duration_seconds >= 1
    assert page.evaluate("window.localStorage.length") == 0

    # Idle reset: "Masih di sana?" with a countdown, then back to welcome, answers discarded.
    unit.idle_seconds = 2
    db.session.commit()
    db.session.rollback()
    page.get_by_role("button", name="Sentuh untuk memulai").click()
    page.get_by_role("button", name="Izin Usaha").click()
    page.locator("#idle-overlay").wait_for(state="visible", timeout=5000)
    assert "Masih di sana?" in page.inner_text("#idle-overlay")
    shoot(page, shots, "13-idle")
    page.get_by_role("button", name="Ya, lanjutkan").click()
    assert page.locator("#idle-overlay").is_hidden()
    page.locator("#idle-overlay").wait_for(state="visible", timeout=5000)
    page.locator("#screen[data-kind=welcome]").wait_for(timeout=8000)
    db.session.rollback()
    statuses = db.session.scalars(select(KioskSurvey.status).order_by(KioskSurvey.id)).all()
    assert statuses == ["finished", "abandoned"]
    assert F.kiosk_completion(db.session, unit.id, today, today) == (1, 2)
    unit.idle_seconds = 60
    db.session.commit()
    db.session.rollback()

    # Staff: long-press the corner, PIN pad, pause, resume.
    long_press_corner(page)
    shoot(page, shots, "14-pin")
    type_pad(page, "1111", "#staff-panel")
    page.locator("#staff-panel button[type=submit]").click()
    page.locator("#staff-panel >> text=PIN salah").wait_for()
    page.fill("#pin-input", "")
    type_pad(page, "2468", "#staff-panel")
    page.locator("#staff-panel button[type=submit]").click()
    page.locator("#staff-panel >> text=Menu petugas").wait_for()
    shoot(page, shots, "15-staff-menu")
    page.get_by_role("button", name="Istirahatkan kiosk").click()
    page.locator("#screen[data-kind=paused]").wait_for()
    page.locator("#staff-overlay").wait_for(state="hidden")
    shoot(page, shots, "16-paused")
    long_press_corner(page)
    type_pad(page, "2468", "#staff-panel")
    page.locator("#staff-panel button[type=submit]").click()
    page.get_by_role("button", name="Lanjutkan kiosk").click()
    page.locator("#screen[data-kind=welcome]").wait_for()
    db.session.rollback()
    assert db.session.scalar(select(Response).where(Response.channel == "kiosk", Response.id != r.id)) is None

    # A revoked tablet: its next post is refused (403) and the pairing screen is shown.
    from skm.models import Device
    D.revoke_device(db.session, db.session.get(Device, r.device_id))
    db.session.commit()
    db.session.rollback()
    page.get_by_role("button", name="Sentuh untuk memulai").click()
    page.locator("#screen[data-kind=pair]").wait_for()
    assert "izinnya sudah dicabut" in page.content()
    assert page.locator("#net-banner").is_hidden()


def test_admin_pairs_a_tablet_in_chromium(app, db, page, browser, live_server, shots):
    from tests.factories import PASSWORD, make_user

    unit = make_unit(db.session, name="Kelurahan Contoh")
    make_user(db.session)
    db.session.commit()
    db.session.rollback()
    page.goto(f"{live_server}/admin/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.locator("button[type=submit]").click()
    page.get_by_role("link", name="Tablet kiosk").click()
    page.fill("input[name=name]", "Lobi depan")
    page.select_option("select[name=service_id]", label="Layanan B")
    page.get_by_role("button", name="Buat kode pemasangan").click()
    link = re.search(r"http://\S+/kiosk/pair/[A-Z0-9]+", page.content()).group(0)
    tablet = browser.new_context(viewport={"width": 800, "height": 1280}, locale="id-ID").new_page()
    tablet.goto(link)
    tablet.get_by_role("button", name="Pasangkan").click()
    tablet.get_by_role("button", name="Sentuh untuk memulai").click()
    tablet.locator("#screen[data-kind=gender]").wait_for()  # bound to Layanan B: no service step
    cookie = next(c for c in tablet.context.cookies() if c["name"] == "skm_kiosk")
    assert cookie["httpOnly"] and cookie["expires"] > 0 and cookie["path"] == "/kiosk"
    tablet.context.close()
    page.reload()
    assert "Aktif" in page.content() and "Lobi depan" in page.content()
    page.screenshot(path=os.path.join(shots, "20-admin-devices-1280x800.png"), full_page=True)
    page.get_by_role("button", name="Cabut").click()
    assert "dicabut" in page.content()
    db.session.rollback()
    _ = unit
