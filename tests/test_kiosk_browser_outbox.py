"""The kiosk in headless Chromium, as the tester tried it (issue 12): store and forward,
privacy between visitors, exact answers, CSRF expiry, server errors."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from skm.models import KioskSurvey, Response
from tests.kiosk_browser_helpers import (
    RATINGS,
    answer_elements,
    answer_profile,
    network,
    on,
    outbox_size,
    paired_kiosk,
    response_count,
    set_unit,
    survey_values,
    tap,
    type_pad,
    wait_for,
)

pytestmark = pytest.mark.browser


@pytest.mark.slow
def test_survey_sent_offline_for_three_minutes_with_a_reload_is_stored_once(app, db, page, live_server):
    app.config["KIOSK_IDLE_COUNTDOWN"] = 5
    unit, elements = paired_kiosk(app, db, page, live_server, idle_seconds=20, thanks_seconds=3)
    answer_profile(page)
    tap(page, "PNS")
    answer_elements(page, elements)
    token = page.locator("#screen").get_attribute("data-token")
    network(page, False)
    cut = time.monotonic()
    page.fill("#saran-input", "Ruang tunggu panas.")
    tap(page, "Kirim penilaian")
    on(page, "thanks")
    page.locator(".status-sent", has_text="Tersimpan di tablet").wait_for()
    assert outbox_size(page) == 1
    page.wait_for_timeout(60_000)  # longer than idle + countdown: nothing is discarded
    assert outbox_size(page) == 1
    # A power cut: the tablet restarts while the network is still down, its page fails to load.
    context = page.context
    page.close()
    page = context.new_page()
    with pytest.raises(PlaywrightError):
        page.goto(f"{live_server}/kiosk/")
    page.wait_for_timeout(max(0, 180 - (time.monotonic() - cut)) * 1000)
    assert response_count(db) == 0
    network(page, True)
    page.goto(f"{live_server}/kiosk/")  # the kiosk comes back: its outbox is delivered
    assert wait_for(lambda: response_count(db) == 1, timeout=20)
    wait_for(lambda: outbox_size(page) == 0, timeout=10)
    assert outbox_size(page) == 0
    page.reload()
    page.wait_for_timeout(2000)
    assert response_count(db) == 1
    r = db.session.scalar(select(Response).where(Response.token == token))
    assert r.suggestion == "Ruang tunggu panas." and r.occupation == "PNS"
    assert {a.element.code: a.rating for a in r.answers} == dict(zip(elements, RATINGS))
    assert r.duration_seconds < 170  # the tablet's own time, not the outage


def test_survey_started_online_and_finished_offline_is_stored_once(app, db, page, live_server):
    unit, elements = paired_kiosk(app, db, page, live_server, ask_suggestion_on_low=True)
    tap(page, "Sentuh untuk memulai")
    on(page, "service")
    token = page.locator("#screen").get_attribute("data-token")
    tap(page, "Layanan B")
    on(page, "gender")
    tap(page, "Laki-laki")
    on(page, "age")
    network(page, False)  # the server is gone for the rest of the survey
    type_pad(page, "52")
    tap(page, "Lanjut")
    on(page, "education")  # from the tablet's own copy of the survey
    assert page.locator("#net-banner").is_hidden()
    tap(page, "SMA")
    on(page, "occupation")
    tap(page, "Lainnya")
    on(page, "occupation", "occupation-other")
    assert page.evaluate("document.activeElement.id") == "other-input"
    page.fill("#other-input", "Nelayan")
    tap(page, "Lanjut")
    answer_elements(page, elements, [2] * 9)
    assert page.locator("[data-low-reason]").is_visible()  # low answers: the kiosk explains
    back(page)  # Kembali works offline too, with the visitor's own answer shown
    on(page, "element", f"el-{elements[-1]}")
    assert page.locator("#screen button[value='2']").get_attribute("aria-pressed") == "true"
    page.locator("#screen button[name=value][value='3']").click()
    on(page, "saran")
    tap(page, "Lewati")
    on(page, "thanks")
    page.locator(".status-sent", has_text="Tersimpan di tablet").wait_for()
    assert outbox_size(page) == 1 and response_count(db) == 0
    network(page, True)
    assert wait_for(lambda: response_count(db) == 1, timeout=30)
    page.evaluate("window.skmKiosk.flush()")
    page.wait_for_timeout(1000)
    assert response_count(db) == 1 and outbox_size(page) == 0
    r = db.session.scalar(select(Response).where(Response.token == token))
    assert (r.service.name, r.gender, r.age, r.education, r.occupation, r.occupation_other) == (
        "Layanan B", "L", 52, "SMA", "LAINNYA", "Nelayan")
    assert [a.rating for a in sorted(r.answers, key=lambda a: a.element.position)] == [2] * 8 + [3]


def back(page):
    page.locator("#screen .btn-back").click()


def _nothing_of(page, *texts):
    html = page.content()
    assert 'aria-pressed="true"' not in html and " selected" not in html
    for text in texts:
        assert text not in html, text


def test_start_over_and_idle_reset_leave_nothing_for_the_next_visitor(app, db, page, live_server):
    app.config["KIOSK_IDLE_COUNTDOWN"] = 3
    unit, elements = paired_kiosk(app, db, page, live_server)
    # "Mulai dari awal" on a survey screen.
    answer_profile(page, gender="Perempuan")
    token = page.locator("#screen").get_attribute("data-token")
    tap(page, "Lainnya")
    page.fill("#other-input", "Petani kopi")
    tap(page, "Mulai dari awal")
    on(page, "welcome")
    _nothing_of(page, "Petani kopi")
    db.session.rollback()
    assert db.session.scalar(select(KioskSurvey.status).where(KioskSurvey.token == token)) == "abandoned"
    # The next visitor: Kembali from the first screen leads out, never to an earlier answer.
    tap(page, "Sentuh untuk memulai")
    on(page, "service")
    _nothing_of(page)
    back(page)
    on(page, "welcome")
    # The old survey's answers are not reachable from the server either.
    html = page.evaluate(f"fetch('/kiosk/s/{token}/gender', {{headers: {{'HX-Request': 'true'}}}}).then(r => r.text())")
    assert 'data-kind="welcome"' in html and 'aria-pressed="true"' not in html

    # The idle reset: "Masih di sana?" offers "Mulai dari awal" too, and counts down.
    set_unit(db, unit, idle_seconds=2)
    answer_profile(page, gender="Laki-laki")
    page.locator("#idle-overlay").wait_for(state="visible", timeout=6000)
    assert page.locator("#idle-overlay").get_by_role("button", name="Mulai dari awal").is_visible()
    first = int(page.inner_text("#idle-count"))
    page.wait_for_timeout(1100)
    assert int(page.inner_text("#idle-count")) < first  # a live countdown
    on(page, "welcome", timeout=8000)
    _nothing_of(page)
    tap(page, "Sentuh untuk memulai")
    on(page, "service")
    _nothing_of(page)
    page.locator("#idle-overlay").wait_for(state="visible", timeout=6000)
    page.locator("#idle-overlay").get_by_role("button", name="Mulai dari awal").click()
    on(page, "welcome")
    _nothing_of(page)

    # A notice on the welcome screen is for that moment only.
    set_unit(db, unit, idle_seconds=60)
    app.config["KIOSK_DEVICE_STARTS_PER_MINUTE"] = 1
    tap(page, "Sentuh untuk memulai")
    page.locator("#screen .notice").wait_for()
    page.locator("#screen .notice").wait_for(state="detached", timeout=10000)
    assert response_count(db) == 0


def test_staff_pad_closes_itself_and_the_idle_reset_still_works(app, db, page, live_server):
    app.config["KIOSK_IDLE_COUNTDOWN"] = 2
    app.config["KIOSK_STAFF_TIMEOUT"] = 4  # long enough for a slow PIN round trip under load
    unit, elements = paired_kiosk(app, db, page, live_server, idle_seconds=3)
    page.reload()  # the staff timeout is read with the page
    tap(page, "Sentuh untuk memulai")
    on(page, "service")
    tap(page, "Layanan A")
    on(page, "gender")
    page.mouse.move(12, 12)
    page.mouse.down()
    page.wait_for_timeout(3200)
    page.mouse.up()
    page.locator("#staff-overlay").wait_for(state="visible")
    page.locator("#staff-overlay").wait_for(state="hidden", timeout=12000)  # left alone: it closes
    on(page, "welcome", timeout=15000)  # and the idle reset did its work
    # The staff menu says how many surveys wait in the outbox.
    page.route(re.compile(r".*/kiosk/outbox$"), lambda route: route.abort("internetdisconnected"))
    page.evaluate("""localStorage.setItem('skm-kiosk-outbox', JSON.stringify([
        {token: 'menunggu', answers: {}, elapsed: 30, url: '/kiosk/outbox'}]))""")
    page.mouse.move(12, 12)
    page.mouse.down()
    page.wait_for_timeout(3200)
    page.mouse.up()
    type_pad(page, "2468", "#staff-panel")
    page.locator("#staff-panel button[type=submit]").click()
    page.locator("#staff-panel >> text=Menu petugas").wait_for()
    assert page.inner_text("#outbox-count") == "1"
    page.locator("#staff-overlay").wait_for(state="hidden", timeout=12000)
    assert page.locator("#staff-panel .pin-form").count() == 1  # the menu is not left open


def test_back_gesture_after_pairing_returns_to_the_survey(app, db, page, live_server):
    paired_kiosk(app, db, page, live_server)
    page.go_back()
    on(page, "welcome")
    assert "tidak dikenal" not in page.content()
    assert page.get_by_role("button", name="Sentuh untuk memulai").is_visible()


def test_taps_are_taken_exactly_as_meant(app, db, page, live_server):
    unit, elements = paired_kiosk(app, db, page, live_server)
    answer_profile(page)
    tap(page, "PNS")
    on(page, "element", f"el-{elements[0]}")
    token = page.locator("#screen").get_attribute("data-token")
    # Two taps 400 ms apart on the same spot answer one question.
    box = page.locator("#screen button[name=value][value='3']").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(400)
    page.mouse.click(x, y)
    on(page, "element", f"el-{elements[1]}")
    page.wait_for_timeout(800)
    assert page.locator("#screen").get_attribute("data-step") == f"el-{elements[1]}"
    values = survey_values(db, token)
    assert values[f"el-{elements[0]}"] == 3 and f"el-{elements[1]}" not in values

    # A slow network (answers held until released): the chosen answer shows as chosen, then a
    # spinner; nothing is greyed.
    held = []
    page.route(re.compile(r".*/el-U\d$"), lambda route: held.append(route))

    def release():
        while held:
            try:
                held.pop().continue_()
            except PlaywrightError:  # aborted by Kembali
                pass

    button = page.locator("#screen button[name=value][value='4']")
    button.click()
    assert button.get_attribute("aria-pressed") == "true" and "selected" in button.get_attribute("class")
    page.locator("#busy").wait_for(state="visible", timeout=1500)
    assert page.locator("#screen fieldset[disabled]").count() == 0
    release()
    on(page, "element", f"el-{elements[2]}")
    assert page.locator("#busy").is_hidden()
    # Kembali during a slow answer still works.
    page.locator("#screen button[name=value][value='2']").click()
    page.wait_for_timeout(300)
    back(page)
    on(page, "element", f"el-{elements[1]}")
    release()
    page.wait_for_timeout(1000)
    assert page.locator("#screen").get_attribute("data-step") == f"el-{elements[1]}"
    assert page.locator("#screen button[value='4']").get_attribute("aria-pressed") == "true"


def test_typed_suggestion_is_kept_and_lewati_does_not_drop_it(app, db, page, live_server):
    unit, elements = paired_kiosk(app, db, page, live_server)
    answer_profile(page)
    tap(page, "PNS")
    answer_elements(page, elements)
    token = page.locator("#screen").get_attribute("data-token")
    assert page.locator(".btn-skip").is_visible()
    page.fill("#saran-input", "Papan antrean mati.")
    assert page.locator(".btn-skip").is_hidden()  # no "Lewati" that would throw the text away
    back(page)
    on(page, "element", f"el-{elements[-1]}")
    page.locator("#screen button[name=value][value='1']").click()
    on(page, "saran")
    assert page.input_value("#saran-input") == "Papan antrean mati."
    tap(page, "Kirim penilaian")
    page.locator(".status-sent", has_text="Terkirim").wait_for()
    r = db.session.scalar(select(Response).where(Response.token == token))
    assert r.suggestion == "Papan antrean mati."


def test_expired_csrf_token_is_refreshed_silently(app, db, page, live_server):
    unit, elements = paired_kiosk(app, db, page, live_server)
    tap(page, "Sentuh untuk memulai")
    on(page, "service")
    shown = []
    page.on("response", lambda r: shown.append(r.status) if "/kiosk/s/" in r.url else None)
    app.config["WTF_CSRF_TIME_LIMIT"] = 1
    page.wait_for_timeout(2100)  # the tablet slept: its token expired
    tap(page, "Layanan A")
    on(page, "gender")
    assert "Sesi telah diperbarui" not in page.content() and shown == [400, 200]
    page.wait_for_timeout(2100)
    tap(page, "Perempuan")  # mid-survey: the answers are kept
    on(page, "age")
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    assert shown == [400, 200, 400, 200] and "Sesi telah diperbarui" not in page.content()
    token = page.locator("#screen").get_attribute("data-token")
    assert survey_values(db, token) == {"service": unit.services[0].id, "gender": "P"}


def test_server_errors_are_told_apart_and_retried_a_bounded_number_of_times(app, db, page, live_server):
    unit, elements = paired_kiosk(app, db, page, live_server)
    hits = {"start": 0, "step": 0}

    def broken(name):
        def handler(route):
            hits[name] += 1
            route.fulfill(status=500, content_type="text/html", body="Internal Server Error")
        return handler

    page.route(re.compile(r".*/kiosk/start$"), broken("start"))
    tap(page, "Sentuh untuk memulai")
    page.locator("#net-banner", has_text="kesalahan di server (kode 500)").wait_for()
    assert "Koneksi terputus" not in page.inner_text("#net-banner")
    page.locator("#net-banner", has_text="beri tahu petugas").wait_for(timeout=15000)
    page.wait_for_timeout(3000)
    assert hits["start"] == 4  # bounded, not forever
    page.unroute(re.compile(r".*/kiosk/start$"))
    tap(page, "Sentuh untuk memulai")
    on(page, "service")
    assert page.locator("#net-banner").is_hidden()
    # Mid-survey the visitor goes on with the tablet's copy; the survey is sent later.
    page.route(re.compile(r".*/kiosk/s/[^/]+/service$"), broken("step"))
    tap(page, "Layanan A")
    on(page, "gender", timeout=10000)
    assert hits["step"] == 2


def test_thanks_screen_counts_down(app, db, page, live_server):
    unit, elements = paired_kiosk(app, db, page, live_server, thanks_seconds=4, ask_gender=False, ask_age=False,
                                  ask_education=False, ask_occupation=False)
    tap(page, "Sentuh untuk memulai")
    on(page, "service")
    tap(page, "Layanan A")
    answer_elements(page, elements)
    tap(page, "Lewati")
    on(page, "thanks")
    first = int(page.inner_text("[data-count]"))
    page.wait_for_timeout(1600)
    assert int(page.inner_text("[data-count]")) < first
    on(page, "welcome", timeout=6000)
    assert response_count(db) == 1


def test_read_aloud_speaks_the_question_in_indonesian_and_records_nothing(app, db, page, live_server):
    page.add_init_script("""
        window.__spoken = []; window.__media = 0;
        const synth = window.speechSynthesis;
        synth.speak = (u) => window.__spoken.push({ text: u.text, lang: u.lang });
        if (navigator.mediaDevices) { navigator.mediaDevices.getUserMedia = () => { window.__media += 1; return Promise.reject(); }; }
    """)
    unit, elements = paired_kiosk(app, db, page, live_server, ask_gender=False, ask_age=False,
                                  ask_education=False, ask_occupation=False)
    tap(page, "Sentuh untuk memulai")
    on(page, "service")
    tap(page, "Layanan A")
    on(page, "element", f"el-{elements[0]}")
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.get_by_role("button", name="Bacakan pertanyaan dan pilihan jawaban").click()
    page.wait_for_timeout(300)
    [spoken] = page.evaluate("window.__spoken")
    question = page.inner_text("#screen h1").strip()
    assert spoken["lang"] == "id-ID" and spoken["text"].startswith(question)
    for label in ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"):
        assert label in spoken["text"]
    assert requests == [] and page.evaluate("window.__media") == 0  # nothing leaves the tablet
    assert page.locator("#screen").get_attribute("data-step") == f"el-{elements[0]}"  # nothing answered
