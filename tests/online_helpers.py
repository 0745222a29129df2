"""A simulated phone for online survey tests: its own cookies (browser id, session)."""
from __future__ import annotations

import re

from tests.kiosk_helpers import CSRF_RE, HX, KIND_RE, TOKEN_RE


class _Client:
    """Tests share one app context (the db fixture's), so flask.g would carry one request's
    CSRF token into the next; a real request starts with an empty g."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if name in ("get", "post"):
            def call(*args, **kwargs):
                from flask import g, has_app_context

                if has_app_context():
                    g.pop("csrf_token", None)
                return attr(*args, **kwargs)
            return call
        return attr

STEP_RE = re.compile(r'action="/survei/s/[^/]+/([^"/]+)"')
START_RE = re.compile(r'<form method="post" action="([^"]+)"[^>]*hx-post')


class Phone:
    def __init__(self, app, ip="203.0.113.7"):
        self.client = _Client(app.test_client())
        self.environ = {"REMOTE_ADDR": ip}
        self.csrf = None
        self.token = None
        self.html = ""
        self.last = None

    def _keep(self, response):
        self.last = response
        self.html = response.get_data(as_text=True)
        for regex, attr in ((CSRF_RE, "csrf"), (TOKEN_RE, "token")):
            m = regex.search(self.html)
            if m:
                setattr(self, attr, m.group(1))
        return response

    @property
    def kind(self):
        m = KIND_RE.search(self.html)
        return m.group(1) if m else None

    @property
    def status(self):
        return self.last.status_code

    def get(self, url, htmx=False):
        return self._keep(self.client.get(url, headers=HX if htmx else {}, environ_base=self.environ))

    def post(self, url, data=None, htmx=True):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf)
        return self._keep(self.client.post(url, data=data, headers=HX if htmx else {}, environ_base=self.environ))

    def start(self, url, htmx=True):
        """Open the welcome page at `url` and press its start button."""
        self.get(url)
        assert self.kind == "welcome", self.html[:400]
        action = START_RE.search(self.html).group(1).replace("&amp;", "&")
        return self.post(action, htmx=htmx)

    def current_step(self):
        return STEP_RE.search(self.html).group(1)

    def answer(self, step, value=None, htmx=True, **extra):
        data = dict(extra)
        if value is not None:
            data["value"] = value
        return self.post(f"/survei/s/{self.token}/{step}", data, htmx=htmx)

    def fill_all(self, unit, ratings, service_id=None, gender="P", age="34", education="S1",
                 occupation="SWASTA", htmx=True):
        codes = [e.code for e in unit.current_questionnaire.elements]
        by_step = {"service": service_id, "gender": gender, "age": age, "education": education,
                   "occupation": occupation}
        by_step.update({f"el-{c}": r for c, r in zip(codes, ratings)})
        for _ in range(40):
            if self.kind == "saran":
                return
            assert self.kind not in (None, "notice", "welcome"), self.html[:600]
            self.answer(self.current_step(), by_step[self.current_step()], htmx=htmx)
        raise AssertionError("never reached the saran screen")

    def send(self, saran="", htmx=True, token=None):
        data = {"value": saran, "send": "1"} if saran else {"skip": "1"}
        return self.post(f"/survei/s/{token or self.token}/kirim", data, htmx=htmx)
