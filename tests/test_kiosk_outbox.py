"""Kiosk store and forward and exact answers, through the HTTP interface: delivery from the
tablet's outbox, the step the survey is on, the survey pack, silent CSRF refresh."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select

from skm.models import KioskSurvey, Response
from tests.factories import make_unit
from tests.kiosk_helpers import HX, pair_tablet

JS = {**HX, "X-Kiosk-Client": "1"}


def _answers(unit, service_id, ratings, saran=""):
    answers = {"service": service_id, "gender": "P", "age": 37, "education": "S1",
               "occupation": ["LAINNYA", "Petani"], "saran": saran}
    answers.update({f"el-{e.code}": r for e, r in zip(unit.current_questionnaire.elements, ratings)})
    return answers


def _deliver(tablet, token, answers, elapsed=95):
    return tablet.client.post("/kiosk/outbox", headers=JS, data={
        "csrf_token": tablet.csrf, "token": token, "answers": json.dumps(answers), "elapsed": str(elapsed)})


def _count(db):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Response))


def test_outbox_delivers_a_survey_finished_offline_exactly_once(app, db):
    unit = make_unit(db.session, min_survey_seconds=0)
    tablet = pair_tablet(app, db, unit)
    tablet.start()
    token = tablet.token
    tablet.answer("service", unit.services[1].id)  # the rest was answered on the tablet, offline
    answers = _answers(unit, unit.services[1].id, [4, 3, 4, 2, 3, 4, 4, 3, 1], "Antre lama")
    survey = db.session.scalar(select(KioskSurvey).where(KioskSurvey.token == token))
    survey.started_at -= dt.timedelta(hours=1)  # delivered an hour after it was sent
    started = survey.started_at
    db.session.commit()
    first = _deliver(tablet, token, answers)
    assert first.status_code == 200 and first.headers["X-Kiosk-Ack"] == token
    again = _deliver(tablet, token, answers)  # the acknowledgement was lost: sent again
    assert again.status_code == 200 and again.headers["X-Kiosk-Ack"] == token
    assert _count(db) == 1
    [r] = db.session.scalars(select(Response)).all()
    assert (r.gender, r.age, r.occupation, r.occupation_other, r.suggestion) == ("P", 37, "LAINNYA", "Petani", "Antre lama")
    assert [a.rating for a in sorted(r.answers, key=lambda a: a.element.position)] == [4, 3, 4, 2, 3, 4, 4, 3, 1]
    # The tablet's own time: duration as measured there, not the delivery's delay.
    assert r.duration_seconds == 95 and r.submitted_at == started + dt.timedelta(seconds=95)


def test_outbox_delivers_after_the_server_abandoned_the_survey(app, db):
    """Sent offline, then an idle reset or the next visitor's start abandoned the row."""
    unit = make_unit(db.session, min_survey_seconds=0)
    tablet = pair_tablet(app, db, unit)
    tablet.start()
    token = tablet.token
    tablet.answer("service", unit.services[0].id)
    tablet.answer("gender", "L")
    tablet.start()  # the next visitor: the first survey is abandoned, its answers dropped
    db.session.rollback()
    old = db.session.scalar(select(KioskSurvey).where(KioskSurvey.token == token))
    assert old.status == "abandoned" and "values" not in old.answers
    r = _deliver(tablet, token, _answers(unit, unit.services[0].id, [3] * 9))
    assert r.status_code == 200 and r.headers["X-Kiosk-Ack"] == token
    assert _count(db) == 1


def test_outbox_refuses_bad_answers_and_unknown_tokens_with_422(app, db):
    unit = make_unit(db.session, min_survey_seconds=0)
    tablet = pair_tablet(app, db, unit)
    tablet.start()
    token = tablet.token
    bad = _answers(unit, unit.services[0].id, [3] * 9)
    bad["age"] = 7
    r = _deliver(tablet, token, bad)
    assert r.status_code == 422 and r.headers["X-Kiosk"] == "rejected" and "Usia" in r.get_data(as_text=True)
    missing = _answers(unit, unit.services[0].id, [3] * 9)
    del missing["el-U4"]
    assert _deliver(tablet, token, missing).status_code == 422
    assert _deliver(tablet, "tidak-ada", missing).status_code == 422
    r = tablet.client.post("/kiosk/outbox", headers=JS, data={"csrf_token": tablet.csrf, "token": token, "answers": "{"})
    assert r.status_code == 422
    assert _count(db) == 0
    db.session.rollback()
    assert db.session.scalar(select(KioskSurvey.status).where(KioskSurvey.token == token)) == "open"


def test_only_the_step_the_survey_is_on_takes_an_answer(app, db):
    unit = make_unit(db.session, min_survey_seconds=0)
    tablet = pair_tablet(app, db, unit, service_id=unit.services[0].id)
    tablet.start()
    token = tablet.token
    tablet.answer("gender", "P")
    assert tablet.kind == "age"
    tablet.answer("gender", "L")  # a late duplicate tap of the gender screen: ignored
    assert tablet.kind == "age" and "notice" not in tablet.html
    assert tablet.last.headers["X-Kiosk-Ignored"] == "1"
    tablet.answer("age", "41")
    tablet.answer("education", "SMA")
    tablet.answer("education", "S2")  # double tap: must not answer the occupation screen
    assert tablet.kind == "occupation"
    db.session.rollback()
    values = db.session.scalar(select(KioskSurvey).where(KioskSurvey.token == token)).answers["values"]
    assert values == {"gender": "P", "age": 41, "education": "SMA"}
    # GET never shows an earlier answer, only the current step.
    html = tablet.client.get(f"/kiosk/s/{token}/gender", headers=HX).get_data(as_text=True)
    assert 'data-kind="occupation"' in html
    # Kembali always works, even from a screen whose answer was already taken.
    tablet.post(f"/kiosk/s/{token}/occupation/back")
    assert tablet.kind == "education" and 'aria-pressed="true"' in tablet.html
    tablet.answer("education", "S2")
    assert tablet.kind == "occupation"
    # "Lainnya" and its text box: Kembali from the text box returns to the job list.
    tablet.answer("occupation", "LAINNYA")
    assert 'id="other-input"' in tablet.html
    tablet.post(f"/kiosk/s/{token}/occupation-other/back")
    assert tablet.kind == "occupation" and 'id="other-input"' not in tablet.html


def test_start_sends_every_blank_screen_of_the_survey(app, db):
    unit = make_unit(db.session, min_survey_seconds=0)
    tablet = pair_tablet(app, db, unit)
    tablet.start()
    html = tablet.html
    assert 'id="survey-pack"' in html and 'hx-swap-oob="true"' in html
    steps = ["service", "gender", "age", "education", "occupation", "occupation-other"] + [
        f"el-{e.code}" for e in unit.current_questionnaire.elements] + ["saran", "thanks"]
    for step in steps:
        assert f'<template data-step="{step}">' in html
    assert 'aria-pressed="true"' not in html and "selected" not in html.split('id="survey-pack"')[1]


def test_expired_csrf_for_the_tablet_script_gets_a_fresh_token_and_keeps_the_survey(app, db):
    unit = make_unit(db.session)
    tablet = pair_tablet(app, db, unit)
    tablet.start()
    token = tablet.token
    r = tablet.client.post(f"/kiosk/s/{token}/service", headers=JS,
                           data={"value": unit.services[0].id, "csrf_token": "kedaluwarsa"})
    assert r.status_code == 400 and r.headers["X-Kiosk"] == "csrf" and r.headers["X-Kiosk-Csrf"]
    assert "Sesi" not in r.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(KioskSurvey.status).where(KioskSurvey.token == token)) == "open"
    r = tablet.client.post(f"/kiosk/s/{token}/service", headers=JS,
                           data={"value": unit.services[0].id, "csrf_token": r.headers["X-Kiosk-Csrf"]})
    assert r.status_code == 200 and 'data-kind="gender"' in r.get_data(as_text=True)


def test_every_survey_screen_offers_start_over_and_says_saudara(app, db):
    unit = make_unit(db.session, min_survey_seconds=0)
    tablet = pair_tablet(app, db, unit)
    tablet.start()
    pack = tablet.html
    assert pack.count("Mulai dari awal") >= 16
    assert " Anda" not in pack and "Saudara" in pack
    assert 'role="progressbar"' in pack and "<legend" in pack and "data-speak" in pack


def test_outbox_refuses_a_survey_whose_period_closed_meanwhile_for_good(app, db):
    """Delivered after the manager closed the period: refused (422, the tablet drops it and shows
    the reason), nothing stored, and a repeated delivery gets the same refusal."""
    from tests.test_fields_closed import _close, _today_quarter

    unit = make_unit(db.session, min_survey_seconds=0)
    tablet = pair_tablet(app, db, unit)
    tablet.start()
    token = tablet.token
    answers = _answers(unit, unit.services[0].id, [3] * 9)
    _close(db, unit, _today_quarter(unit))
    for _ in range(2):
        r = _deliver(tablet, token, answers)
        assert r.status_code == 422 and r.headers["X-Kiosk"] == "rejected"
        assert "jawaban Saudara tidak disimpan" in r.get_data(as_text=True)
    assert _count(db) == 0
