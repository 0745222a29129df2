"""A simulated tablet for kiosk tests: pairs, keeps its cookies, scrapes CSRF tokens."""
from __future__ import annotations

import re

from skm.kiosk import devices as D

HX = {"HX-Request": "true"}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN_RE = re.compile(r'data-token="([^"]+)"')
KIND_RE = re.compile(r'data-kind="([^"]+)"')


def pair_tablet(app, db, unit, service_id=None, client=None):
    device = D.create_pairing(db.session, unit, service_id=service_id)
    code = device.pairing_code
    db.session.commit()
    tablet = Tablet(client or app.test_client())
    page = tablet.client.get(f"/kiosk/pair/{code}")
    tablet.csrf = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    response = tablet.client.post("/kiosk/pair", data={"code": code, "csrf_token": tablet.csrf})
    assert response.status_code == 303, response.get_data(as_text=True)
    tablet.device_id = device.id
    tablet.home()
    return tablet


def _fresh_request_globals():
    """Tests share one app context (the db fixture's), so flask.g would keep the first
    request's CSRF token for every client; a real request starts with an empty g."""
    from flask import g, has_app_context

    if has_app_context():
        g.pop("csrf_token", None)


class _Client:
    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if name in ("get", "post"):
            def call(*args, **kwargs):
                _fresh_request_globals()
                return attr(*args, **kwargs)
            return call
        return attr


class Tablet:
    """A simulated kiosk tablet; tests.online_helpers.Phone is the same visitor on the
    online channel (other addresses, its own cookies)."""

    SURVEY_PREFIX = "/kiosk/s"
    SEND_ACTION = "send"

    def __init__(self, client):
        self.client = _Client(client)
        self.csrf = None
        self.token = None
        self.html = ""
        self.last = None

    def _keep(self, response):
        self.last = response
        self.html = response.get_data(as_text=True)
        m = CSRF_RE.search(self.html)
        if m:
            self.csrf = m.group(1)
        m = TOKEN_RE.search(self.html)
        if m:
            self.token = m.group(1)
        return response

    @property
    def kind(self):
        m = KIND_RE.search(self.html)
        return m.group(1) if m else None

    def home(self, htmx=True):
        return self._keep(self.client.get("/kiosk/", headers=HX if htmx else {}))

    def post(self, url, data=None, htmx=True):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf)
        return self._keep(self.client.post(url, data=data, headers=HX if htmx else {}))

    def start(self, htmx=True):
        return self.post("/kiosk/start", htmx=htmx)

    def answer(self, step, value=None, htmx=True, **extra):
        data = dict(extra)
        if value is not None:
            data["value"] = value
        return self.post(f"{self.SURVEY_PREFIX}/{self.token}/{step}", data, htmx=htmx)

    def send(self, saran="", htmx=True, token=None):
        data = {"value": saran, "send": "1"} if saran else {"skip": "1"}
        return self.post(f"{self.SURVEY_PREFIX}/{token or self.token}/{self.SEND_ACTION}", data, htmx=htmx)

    def fill_all(self, unit, ratings, service_id=None, gender="P", age="34", education="S1",
                 occupation="SWASTA", htmx=True):
        """Answer every step shown, in order, until the saran screen."""
        codes = [e.code for e in unit.current_questionnaire.elements]
        by_step = {"service": service_id, "gender": gender, "age": age, "education": education,
                   "occupation": occupation}
        by_step.update({f"el-{c}": r for c, r in zip(codes, ratings)})
        for _ in range(40):
            if self.kind == "saran":
                return
            self._check_step_screen()
            self.answer(self._current_step(), by_step[self._current_step()], htmx=htmx)
        raise AssertionError("never reached the saran screen")

    def _check_step_screen(self):
        """A hook: the online channel also checks that no refusal page came instead."""

    def _current_step(self):
        m = re.search(rf'action="{self.SURVEY_PREFIX}/[^/]+/([^"/]+)"', self.html)
        return m.group(1)
