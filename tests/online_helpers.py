"""A simulated phone for online survey tests: its own cookies (browser id, session)."""
from __future__ import annotations

import re

from tests.kiosk_helpers import HX, Tablet

START_RE = re.compile(r'<form method="post" action="([^"]+)"[^>]*hx-post')


class Phone(Tablet):
    SURVEY_PREFIX = "/survei/s"
    SEND_ACTION = "kirim"

    def __init__(self, app, ip="203.0.113.7"):
        super().__init__(app.test_client())
        self.environ = {"REMOTE_ADDR": ip}

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
        return self._current_step()

    def _check_step_screen(self):
        assert self.kind not in (None, "notice", "welcome"), self.html[:600]
