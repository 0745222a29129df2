"""What a kiosk step costs (issue 14): the SQL statements each request of a survey runs, and the
step screens served from the screen cache (kiosk/screen_cache.py) are exactly the screens a
fresh render gives. Runs on SQLite and (DATABASE_URL) PostgreSQL."""
from __future__ import annotations

import re

from sqlalchemy import event

from skm.extensions import db as _db
from skm.kiosk import devices as D
from skm.models import Unit
from tests.factories import make_unit
from tests.kiosk_helpers import CSRF_RE, HX, TOKEN_RE, pair_tablet

ACTION_RE = re.compile(r'action="/kiosk/s/[^/]+/([^"/]+)"')
ANSWER = {"gender": "P", "age": "35", "education": "SMA", "occupation": "SWASTA", "saran": None}


def _next_value(step, html):
    if step == "service":
        return re.search(r'name="value" value="(\d+)"', html).group(1)
    return ANSWER.get(step, "4")


def test_statements_per_kiosk_step(app):
    """Each answer of a survey reads the device (with its unit) and the survey and writes the
    survey once: 3 statements (the service step reads the services too), nothing reloaded
    after the commit. Every request runs in its own app context, as under a server."""
    app.config["KIOSK_COOLDOWN_SECONDS"] = 0  # two surveys back to back
    with app.app_context():
        unit = make_unit(_db.session, min_survey_seconds=0)
        raw = D.pair_device(_db.session, D.create_pairing(_db.session, unit).pairing_code)[1]
        _db.session.commit()
        engine = _db.engine
    counted: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith("BEGIN"):
            counted.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    client = app.test_client()
    client.set_cookie("skm_kiosk", raw, path="/kiosk")
    html = client.get("/kiosk/", headers=HX).get_data(as_text=True)
    per_step: dict[str, int] = {}
    for survey in range(2):  # the second survey: the unit's element texts are known
        counted.clear()
        r = client.post("/kiosk/start", data={"csrf_token": CSRF_RE.search(html).group(1)}, headers=HX)
        html = r.get_data(as_text=True)
        assert len(counted) <= 12, counted  # the limits, the questionnaire, the closed period, the screens
        token = TOKEN_RE.search(html).group(1)
        while r.headers["X-Kiosk"] != "saran":
            step = ACTION_RE.search(html).group(1)
            counted.clear()
            r = client.post(f"/kiosk/s/{token}/{step}", headers=HX,
                            data={"value": _next_value(step, html), "csrf_token": CSRF_RE.search(html).group(1)})
            assert r.status_code == 200
            html = r.get_data(as_text=True)
            per_step[step] = len(counted)
            if survey == 1:
                limit = 4 if step == "service" else 3
                assert len(counted) <= limit, (step, counted)
        r = client.post(f"/kiosk/s/{token}/send", data={"skip": "1", "csrf_token": CSRF_RE.search(html).group(1)},
                        headers=HX)
        assert r.headers["X-Kiosk-Ack"] == token
        html = client.get("/kiosk/", headers=HX).get_data(as_text=True)
    assert len(per_step) == 14  # service, four profile steps, nine elements
    event.remove(engine, "before_cursor_execute", count)


def _walk(tablet, unit, values=None):
    """A whole survey up to the saran screen; the HTML of every screen shown, in order."""
    screens = [tablet.start().get_data(as_text=True)]
    by_step = {"service": str(unit.services[0].id), **ANSWER, **(values or {})}
    while tablet.kind != "saran":
        step = ACTION_RE.search(tablet.html).group(1)
        screens.append(tablet.answer(step, by_step.get(step, "3")).get_data(as_text=True))
    return screens


def _neutral(html):
    """The screen without its two per-request parts: the survey token and the CSRF token."""
    html = html.replace(TOKEN_RE.search(html).group(1), "TOKEN")
    return html.replace(CSRF_RE.search(html).group(1), "CSRF")


def test_cached_step_screens_are_the_rendered_screens(app, db):
    unit = make_unit(db.session, min_survey_seconds=0)
    first, second, fresh = (pair_tablet(app, db, unit) for _ in range(3))
    rendered = _walk(first, unit)  # fills the cache
    cached = _walk(second, unit)  # the same screens, from the cache
    assert app.extensions["kiosk_screens"]
    assert len(cached) == len(rendered) == 15  # start (service, and the pack), 4 profile steps, 9 elements, saran
    for a, b in zip(rendered, cached):
        assert _neutral(a) == _neutral(b)
        # Each cached screen carries this survey's token and this request's CSRF token.
        assert first.token not in b and second.token in b
    app.jinja_env.auto_reload = True  # as in debug: no cache, every screen rendered
    app.extensions["kiosk_screens"].clear()
    uncached = _walk(fresh, unit)
    assert not app.extensions["kiosk_screens"]
    assert [_neutral(h) for h in uncached] == [_neutral(h) for h in cached]
    second.send()
    assert second.last.headers["X-Kiosk-Ack"] == second.token  # its CSRF token was valid


def test_cached_screens_follow_the_unit_and_the_answers(app, db):
    unit = make_unit(db.session, min_survey_seconds=0)
    first, second = pair_tablet(app, db, unit), pair_tablet(app, db, unit)
    _walk(first, unit)
    db.session.get(Unit, unit.id).name = "Dinas Baru Bernama Lain"
    db.session.commit()
    screens = _walk(second, unit, {"gender": "L"})
    assert all("Dinas Baru Bernama Lain" in html for html in screens)
    # Kembali from age: the gender screen again, with the answer given marked.
    second.post(f"/kiosk/s/{second.token}/saran/back")
    for _ in range(12):
        if second.kind == "gender":
            break
        step = re.search(r'data-back="([^"]+)"', second.html).group(1)
        second.post(f"/kiosk/s/{second.token}/{step}/back")
    assert second.kind == "gender"
    assert re.search(r'value="L" class="[^"]*selected', second.html)
    assert not re.search(r'value="P" class="[^"]*selected', second.html)
