"""The public online survey (/survei/<unit>) and one-time tickets (/t/<code>): issue 15."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from skm.core.clock import utcnow
from skm.models import KioskSurvey, Response, SurveyTicket
from skm.online import survey as O
from skm.online.tickets import issue_tickets
from skm.scoring import analytics
from skm.scoring.results import Scope
from skm.survey.units import new_questionnaire_version
from tests.factories import make_unit
from tests.online_helpers import Phone

NINE = [4, 3, 4, 3, 4, 3, 4, 3, 4]


def _unit(db, **fields):
    unit = make_unit(db.session, min_survey_seconds=0, **fields)
    db.session.commit()
    return unit


def _one_question_unit(db):
    """A unit with one element and no profile questions: a survey is start, one tap, send."""
    unit = make_unit(db.session, code="SATU", name="Unit Satu", min_survey_seconds=0, ask_gender=False,
                     ask_age=False, ask_education=False, ask_occupation=False)
    new_questionnaire_version(db.session, unit, [{"code": "U1", "name": "Persyaratan", "question": "Bagaimana?",
                                                  "labels": ["Tidak", "Kurang", "Baik", "Sangat"]}])
    db.session.commit()
    return unit


def _responses(db, **where):
    db.session.expire_all()
    return db.session.scalars(select(Response).filter_by(**where)).all()


def test_public_survey_end_to_end_stored_once_online(app, db):
    unit = _unit(db)
    phone = Phone(app)
    phone.start("/survei/uji")  # the code in the URL is case-insensitive
    assert phone.kind == "service"
    service = unit.services[1]
    phone.fill_all(unit, NINE, service_id=service.id)
    phone.send("Antrean cepat")
    assert phone.kind == "thanks" and phone.last.headers["X-Kiosk-Ack"] == phone.token
    assert "Halaman ini boleh ditutup" in phone.html
    phone.send("Antrean cepat")  # a repeated send: the same acknowledgement, stored once
    assert phone.kind == "thanks"
    [response] = _responses(db)
    assert response.channel == "online" and response.device_id is None and response.ticket_id is None
    assert response.service_id == service.id and response.suggestion == "Antrean cepat"
    assert not response.flagged and response.gender == "P" and response.age == 34
    assert sorted(a.rating for a in response.answers) == sorted(NINE)


def test_without_javascript_every_step_is_a_plain_post(app, db):
    unit = _unit(db)
    phone = Phone(app)
    phone.start(f"/survei/UJI?layanan={unit.services[0].id}", htmx=False)
    assert phone.kind == "gender"  # the service step is skipped for ?layanan=
    assert "<html" in phone.html and "kiosk.js" not in phone.html and 'class="kiosk online"' in phone.html
    assert 'inputmode="numeric"' not in phone.html
    phone.fill_all(unit, NINE, htmx=False)
    phone.send(htmx=False)
    assert phone.kind == "thanks" and "<html" in phone.html
    [response] = _responses(db)
    assert response.service_id == unit.services[0].id and response.channel == "online"


def test_bad_answers_and_bad_urls_get_indonesian_pages(app, db):
    unit = _unit(db)
    phone = Phone(app)
    assert phone.get("/survei/TIDAKADA").status_code == 404
    assert "tidak ditemukan" in phone.html.lower()
    for bad in ("abc", "0", "99999999", "١"):
        assert phone.get(f"/survei/UJI?layanan={bad}").status_code == 404
    assert phone.get("/survei/s/tokenpalsu/gender").status_code == 404
    phone.start("/survei/UJI")
    phone.answer("service", unit.services[0].id)
    phone.answer("gender", "P")
    phone.answer("age", "7")
    assert phone.kind == "age" and "Usia" in phone.html and 'role="alert"' in phone.html
    assert phone.status == 200
    phone.answer("el-U1", "4")  # not the step it is on: ignored, the screen stays
    assert phone.kind == "age" and phone.last.headers.get("X-Kiosk-Ignored") == "1"
    phone.post(f"/survei/s/{phone.token}/kirim", {"skip": "1"})  # sent too early
    assert phone.kind == "age" and "belum dijawab" in phone.html
    assert _responses(db) == []


def test_two_hundred_browsers_behind_one_ip_are_all_stored(no_csrf, app, db):
    app.config["ONLINE_UNIT_MAX_PER_MINUTE"] = 0  # the ceiling is tested below
    unit = _one_question_unit(db)
    service = unit.services[0]
    for i in range(200):
        phone = Phone(app, ip="198.51.100.1")  # one office NAT: the same address for everyone
        phone.post(f"/survei/SATU/mulai?layanan={service.id}")  # (CSRF is off: no welcome page needed)
        phone.answer("el-U1", str(1 + i % 4))
        phone.send()
        assert phone.kind == "thanks", (i, phone.html[:500])
    responses = _responses(db, channel="online")
    assert len(responses) == 200 and not any(r.flagged for r in responses)
    assert len({s.browser_key for s in db.session.scalars(select(KioskSurvey))}) == 200


def test_a_burst_from_one_browser_is_limited(app, db):
    unit = _one_question_unit(db)
    service_a, service_b = unit.services
    phone = Phone(app)
    phone.start(f"/survei/SATU?layanan={service_a.id}")
    phone.answer("el-U1", "4")
    phone.send()
    assert phone.kind == "thanks"
    # The same browser, the same service, the same day: a polite page, nothing stored.
    for _ in range(5):
        phone.start(f"/survei/SATU?layanan={service_a.id}")
        assert phone.kind == "notice" and O.DONE_TODAY in phone.html
    # Another service is another survey.
    phone.start(f"/survei/SATU?layanan={service_b.id}")
    phone.answer("el-U1", "3")
    phone.send()
    assert phone.kind == "thanks"
    assert len(_responses(db)) == 2
    # Starts without sending are limited per browser too (a script's loop), never per IP.
    phone2 = Phone(app)
    unbound = "/survei/SATU"
    for _ in range(O.BROWSER_STARTS_PER_MINUTE):
        phone2.start(unbound)
        assert phone2.kind == "service"
    phone2.start(unbound)
    assert phone2.kind == "welcome" and O.TOO_MANY_STARTS in phone2.html
    other = Phone(app)  # another browser behind the same address is not affected
    other.start(unbound)
    assert other.kind == "service"
    assert len(_responses(db)) == 2


def test_already_rated_service_ends_an_unbound_survey_at_the_service_step(app, db):
    unit = _one_question_unit(db)
    phone = Phone(app)
    phone.start("/survei/SATU")
    phone.answer("service", unit.services[0].id)
    phone.answer("el-U1", "4")
    phone.send()
    phone.start("/survei/SATU")
    phone.answer("service", unit.services[0].id)
    assert phone.kind == "notice" and O.DONE_TODAY in phone.html
    # Racing twins: two surveys started before either was sent; the second send is refused.
    first, second = Phone(app), None
    first.start("/survei/SATU")
    first.answer("service", unit.services[1].id)
    token1 = first.token
    first.start("/survei/SATU")
    first.answer("service", unit.services[1].id)
    token2 = first.token
    first.answer("el-U1", "2")
    first.send(token=token2)
    assert first.kind == "thanks"
    first.answer("el-U1", "3")  # the older survey is still open on another tab
    first.token = token1
    first.answer("el-U1", "3")
    first.send(token=token1)
    assert first.kind == "notice" and O.DONE_TODAY in first.html
    assert len(_responses(db)) == 2
    del second


def test_unit_ceiling_flags_and_quarantines_for_the_same_review(app, db):
    app.config["ONLINE_UNIT_MAX_PER_MINUTE"] = 3
    unit = _one_question_unit(db)
    for _ in range(5):
        phone = Phone(app)
        phone.start(f"/survei/SATU?layanan={unit.services[0].id}")
        phone.answer("el-U1", "4")
        phone.send()
        assert phone.kind == "thanks"
    responses = sorted(_responses(db), key=lambda r: r.id)
    assert len(responses) == 5
    assert [r.flagged for r in responses] == [False, False, False, True, True]
    assert all(r.quarantined and r.excluded for r in responses[3:])
    assert "per menit" in responses[3].flag_reason
    today = responses[0].survey_date
    flagged = analytics.flagged_responses(db.session, Scope(unit.id, today, today))
    assert {r.id for r in flagged} == {r.id for r in responses[3:]}


def test_switched_off_unit_stores_nothing(app, db):
    unit = _unit(db)
    phone = Phone(app)
    phone.start("/survei/UJI")
    phone.fill_all(unit, NINE, service_id=unit.services[0].id)
    unit.online_enabled = False  # switched off while the visitor is on the last screen
    db.session.commit()
    for url, data in ((f"/survei/s/{phone.token}/el-U9", {"value": "4"}), (f"/survei/s/{phone.token}/saran/kembali", {})):
        phone.post(url, data)
        assert phone.kind == "notice" and "tidak aktif" in phone.html
    phone.send()
    assert phone.kind == "notice" and "tidak aktif" in phone.html
    phone.get("/survei/UJI")
    assert phone.kind == "notice" and "tidak aktif" in phone.html and "Mulai survei" not in phone.html
    phone.post("/survei/UJI/mulai")
    assert phone.kind == "notice"
    [ticket] = issue_tickets(db.session, unit, None, 1)
    db.session.commit()
    phone.get(f"/t/{ticket.code}")
    assert phone.kind == "notice" and "tidak aktif" in phone.html
    phone.post(f"/t/{ticket.code}")
    assert phone.kind == "notice"
    assert _responses(db) == [] and db.session.get(SurveyTicket, ticket.id).spent_at is None


def test_ticket_admits_one_response_bound_to_its_service(app, db):
    unit = _unit(db)
    service = unit.services[1]
    ticket, other = issue_tickets(db.session, unit, service, 2, batch="uji")
    db.session.commit()
    phone = Phone(app)
    phone.get(f"/t/{ticket.code.lower()}")
    assert phone.kind == "welcome" and ticket.code in phone.html and service.name in phone.html
    phone.post(f"/t/{ticket.code}")
    assert phone.kind == "gender"  # bound to the ticket's service: no service step
    phone.fill_all(unit, NINE)
    phone.send()
    assert phone.kind == "thanks"
    [response] = _responses(db)
    assert response.ticket_id == ticket.id and response.service_id == service.id and response.channel == "online"
    assert db.session.get(SurveyTicket, ticket.id).spent_at is not None
    # The second use is refused with a clear page, from this browser or any other.
    phone.post(f"/t/{ticket.code}")
    assert phone.kind == "notice" and "Tiket ini sudah dipakai" in phone.html
    for browser in (phone, Phone(app)):
        browser.get(f"/t/{ticket.code}")
        assert browser.kind == "notice" and "Tiket ini sudah dipakai" in browser.html
        assert "Mulai survei" not in browser.html
    # A ticket is not limited by the browser's day: the same phone uses the second ticket.
    phone.post(f"/t/{other.code}")
    phone.fill_all(unit, NINE)
    phone.send()
    assert phone.kind == "thanks"
    assert len(_responses(db)) == 2


def test_a_ticket_opened_twice_stores_once(app, db):
    unit = _unit(db)
    [ticket] = issue_tickets(db.session, unit, None, 1)
    db.session.commit()
    a, b = Phone(app), Phone(app)
    for phone in (a, b):
        phone.post(f"/t/{ticket.code}") if phone.csrf else (phone.get(f"/t/{ticket.code}"), phone.post(f"/t/{ticket.code}"))
        phone.fill_all(unit, NINE, service_id=unit.services[0].id)
    a.send()
    assert a.kind == "thanks"
    b.send()
    assert b.kind == "notice" and "sudah dipakai" in b.html
    assert len(_responses(db)) == 1


def test_ticket_codes_typed_and_guessed(app, db):
    unit = _unit(db)
    [ticket] = issue_tickets(db.session, unit, None, 1)
    db.session.commit()
    phone = Phone(app)
    phone.get("/t")
    assert phone.kind == "ticket" and "Ketik kode" in phone.html
    typed = f"{ticket.code[:4].lower()}-{ticket.code[4:]}"
    response = phone.post("/t", {"code": typed}, htmx=False)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/t/{ticket.code}")
    phone.get("/t/AAAAAAAA")
    assert phone.status == 404 and "Kode tiket tidak dikenal" in phone.html
    for _ in range(O.TICKET_TRIES - 1):
        phone.get("/t/CCCCCCCC")
    phone.get(f"/t/{ticket.code}")  # even a right code now: this browser guessed too much
    assert phone.status == 429 and "Terlalu banyak" in phone.html
    other = Phone(app)  # same address, another browser: not blocked
    other.get(f"/t/{ticket.code}")
    assert other.kind == "welcome"
    assert _responses(db) == []


def test_finished_online_rows_do_not_count_as_kiosk_completion(app, db):
    from skm.kiosk.flow import kiosk_completion

    unit = _one_question_unit(db)
    phone = Phone(app)
    phone.start(f"/survei/SATU?layanan={unit.services[0].id}")
    phone.answer("el-U1", "4")
    phone.send()
    today = _responses(db)[0].survey_date
    assert kiosk_completion(db.session, unit.id, today, today) == (0, 0)
    assert db.session.scalar(select(func.count(KioskSurvey.id)).where(KioskSurvey.channel == "online")) == 1


def test_unit_ceiling_counts_only_the_last_minute(app, db):
    unit = _one_question_unit(db)
    now = utcnow()
    for i in range(3):
        survey = O.start_online(db.session, unit, f"k{i}", unit.services[0], now=now - dt.timedelta(seconds=120))
        O.answer_online_step(db.session, survey, "el-U1", {"value": "4"}, now=now - dt.timedelta(seconds=119))
        O.submit_online(db.session, survey.token, {"skip": "1"}, now=now - dt.timedelta(seconds=118),
                        unit_max_per_minute=2)
    survey = O.start_online(db.session, unit, "late", unit.services[0], now=now)
    O.answer_online_step(db.session, survey, "el-U1", {"value": "4"}, now=now)
    response = O.submit_online(db.session, survey.token, {"skip": "1"}, now=now, unit_max_per_minute=2)
    assert not response.flagged
    assert [r.flagged for r in sorted(_responses(db), key=lambda r: r.id)] == [False, False, True, False]


def test_admin_switches_the_online_survey(db, client, no_csrf):
    from tests.factories import login, make_user
    from tests.test_admin_setup import SETTINGS

    unit = _unit(db)
    make_user(db.session, "admin", "admin")
    db.session.commit()
    login(client)
    page = client.get(f"/admin/units/{unit.id}/settings").get_data(as_text=True)
    assert "Survei daring aktif" in page and 'name="online_enabled" value="1" checked' in page
    assert "/survei/UJI" in page
    client.post(f"/admin/units/{unit.id}/settings", data=dict(SETTINGS, code="UJI"))
    db.session.expire_all()
    assert unit.online_enabled is False
    assert "tidak aktif" in client.get("/survei/UJI").get_data(as_text=True)
    client.post(f"/admin/units/{unit.id}/settings", data=dict(SETTINGS, code="UJI", online_enabled="1"))
    db.session.expire_all()
    assert unit.online_enabled is True
    assert "Mulai survei" in client.get("/survei/uji").get_data(as_text=True)


def _race(app, db, phone, tokens):
    """Post the send of each token at once from threads (fresh request globals each)."""
    import threading

    cookies = {c.key: c.value for c in phone.client._client._cookies.values()}
    results = {}

    def post(i, token):
        c = app.test_client()
        for name, value in cookies.items():
            c.set_cookie(name, value)
        r = c.post(f"/survei/s/{token}/kirim", data={"skip": "1", "csrf_token": phone.csrf},
                   headers={"HX-Request": "true"})
        results[i] = (r.status_code, r.headers.get("X-Kiosk"))

    db.session.rollback()  # the test's own session must not hold SQLite's write lock
    threads = [threading.Thread(target=post, args=(i, t)) for i, t in enumerate(tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [results[i] for i in range(len(tokens))]


def test_racing_sends_store_once(app, db):
    unit = _one_question_unit(db)
    phone = Phone(app)
    phone.start(f"/survei/SATU?layanan={unit.services[0].id}")
    phone.answer("el-U1", "4")
    assert _race(app, db, phone, [phone.token] * 4) == [(200, "thanks")] * 4
    assert len(_responses(db)) == 1


def test_racing_sends_of_one_ticket_store_once(app, db):
    unit = _one_question_unit(db)
    [ticket] = issue_tickets(db.session, unit, unit.services[0], 1)
    db.session.commit()
    phone = Phone(app)
    phone.get(f"/t/{ticket.code}")
    tokens = []
    for _ in range(3):  # three tabs opened on the same ticket
        phone.post(f"/t/{ticket.code}")
        phone.answer("el-U1", "3")
        tokens.append(phone.token)
    results = _race(app, db, phone, tokens)
    assert sorted(kind for _, kind in results) == ["notice", "notice", "thanks"]
    assert all(status == 200 for status, _ in results)
    [response] = _responses(db)
    assert response.ticket_id == ticket.id


def test_expired_form_or_no_cookies_gets_a_clear_page(app, db):
    unit = _one_question_unit(db)
    phone = Phone(app)
    phone.start(f"/survei/SATU?layanan={unit.services[0].id}")
    phone.csrf = "kedaluwarsa"
    phone.answer("el-U1", "4", htmx=False)
    assert phone.status == 400 and phone.kind == "notice" and "cookie" in phone.html
    assert "/survei/SATU" in phone.html
    assert _responses(db) == []


def test_unit_without_services_is_limited_at_the_start(app, db):
    unit = make_unit(db.session, code="TANPA", services=(), min_survey_seconds=0)
    db.session.commit()
    phone = Phone(app)
    phone.start("/survei/tanpa")
    assert phone.kind == "gender"
    phone.fill_all(unit, NINE)
    phone.send()
    assert phone.kind == "thanks"
    phone.start("/survei/TANPA")
    assert phone.kind == "notice" and O.DONE_TODAY in phone.html
    assert len(_responses(db)) == 1
