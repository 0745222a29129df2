"""A simulated kiosk tablet over real HTTP (http.client, keep-alive, its own cookies).

Shared by tests/test_reliability.py, tests/test_sigkill.py and the load/reliability
benchmarks. It answers the survey the way the htmx page does (HX-Request, the CSRF token
scraped from the screens) and can double-tap a step (two concurrent identical requests on
two connections) and resend the final submit as a tablet does after a lost answer.
"""
from __future__ import annotations

import http.client
import random
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN_RE = re.compile(r'data-token="([^"]+)"')
ACTION_RE = re.compile(r'action="/kiosk/s/[^/]+/([^"/]+)"')
SERVICE_RE = re.compile(r'name="value" value="(\d+)"')
PROFILE = {"gender": ["L", "P"], "age": ["19", "27", "35", "52", "70"], "education": ["SMA", "S1", "DIII", "SMP"],
           "occupation": ["PNS", "SWASTA", "WIRAUSAHA"]}


class ServerGone(Exception):
    """The connection failed: no answer from the server (refused, reset, closed)."""


@dataclass
class Reply:
    status: int
    headers: dict
    body: str
    seconds: float

    @property
    def kind(self) -> str:
        return self.headers.get("x-kiosk", "")


@dataclass
class Stats:
    """What one or many tablets saw. Lists are appended from several threads (atomic in CPython)."""

    latencies: list = field(default_factory=list)  # (kind, seconds) per step request
    statuses: list = field(default_factory=list)  # every HTTP status received
    acked: list = field(default_factory=list)  # survey tokens acknowledged (X-Kiosk-Ack)
    ratings: dict = field(default_factory=dict)  # token -> list of ratings sent (acknowledged only)
    errors: list = field(default_factory=list)  # unexpected answers (status >= 500, wrong screen)
    gone: int = 0  # requests that got no answer at all (server killed)

    @property
    def server_errors(self) -> list:
        return [s for s in self.statuses if s >= 500]


class Connection:
    def __init__(self, host: str, port: int, timeout: float = 30):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                return self.conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                # A keep-alive connection the server closed between requests: reconnect once.
                self.close()
                if attempt:
                    raise ServerGone(str(exc)) from exc
            except (ConnectionRefusedError, TimeoutError, OSError, http.client.HTTPException) as exc:
                self.close()
                raise ServerGone(str(exc)) from exc
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class HttpTablet:
    def __init__(self, base_url: str, credential: str, seed=None, stats: Stats | None = None):
        parsed = urllib.parse.urlsplit(base_url)
        self.host, self.port = parsed.hostname, parsed.port
        self.cookies = {"skm_kiosk": credential}
        self.lock = threading.Lock()
        self.main = Connection(self.host, self.port)
        self.twin = Connection(self.host, self.port)
        self.rng = random.Random(seed)
        self.stats = stats or Stats()
        self.csrf = None
        self.html = ""
        # Like static/js/kiosk.js: on network trouble, send the same request again (for up to
        # this many seconds) instead of giving up.
        self.retry_seconds = 0.0

    def close(self):
        self.main.close()
        self.twin.close()

    # -- HTTP ------------------------------------------------------------------------
    def _call(self, method, path, data=None, conn=None) -> Reply:
        deadline = time.monotonic() + self.retry_seconds
        while True:
            try:
                return self._call_once(method, path, data, conn)
            except ServerGone:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)

    def _call_once(self, method, path, data=None, conn=None) -> Reply:
        headers = {"HX-Request": "true", "Connection": "keep-alive"}
        with self.lock:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            data = dict(data)
            if self.csrf:
                data.setdefault("csrf_token", self.csrf)
            body = urllib.parse.urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        t0 = time.perf_counter()
        try:
            response = (conn or self.main).request(method, path, body, headers)
            text = response.read().decode("utf-8", "replace")
        except ServerGone:
            self.stats.gone += 1
            raise
        except (http.client.HTTPException, OSError) as exc:
            (conn or self.main).close()
            self.stats.gone += 1
            raise ServerGone(str(exc)) from exc
        seconds = time.perf_counter() - t0
        for raw in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(raw)
            with self.lock:
                for name, morsel in jar.items():
                    self.cookies[name] = morsel.value
        reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, text, seconds)
        self.stats.statuses.append(reply.status)
        if reply.status >= 500:
            self.stats.errors.append((method, path, reply.status))
        m = CSRF_RE.search(text)
        if m:
            self.csrf = m.group(1)
        return reply

    def _tap(self, path, data, double: bool) -> Reply:
        """One tap, or two identical concurrent requests (a double tap); the first answer is used."""
        if not double:
            return self._call("POST", path, data)
        result = {}

        def twin():
            try:
                result["twin"] = self._call("POST", path, data, conn=self.twin)
            except ServerGone as exc:
                result["twin"] = exc

        thread = threading.Thread(target=twin)
        thread.start()
        try:
            reply = self._call("POST", path, data)
        finally:
            thread.join()
        return reply

    # -- the survey ------------------------------------------------------------------
    def home(self) -> Reply:
        reply = self._call("GET", "/kiosk/")
        self.html = reply.body
        return reply

    def survey(self, double_tap: float = 0.0, resend: float = 0.0, think: float = 0.0,
               hello_path: str | None = None) -> str | None:
        """Fill and send one survey. Returns its token once acknowledged, None if the
        server said something else. Raises ServerGone when the server does not answer."""
        rng = self.rng
        if self.csrf is None:
            self.home()
        reply = self._call("POST", "/kiosk/start", {})
        self.stats.latencies.append(("start", reply.seconds))
        m = TOKEN_RE.search(reply.body)
        if reply.status != 200 or not m:
            self.stats.errors.append(("start", reply.status, reply.kind))
            return None
        token = m.group(1)
        ratings = []
        for _ in range(40):
            if reply.kind == "saran":
                break
            action = ACTION_RE.search(reply.body)
            if not action:
                self.stats.errors.append(("no step", reply.status, reply.kind))
                return None
            step = action.group(1)
            if step == "service":
                value = rng.choice(SERVICE_RE.findall(reply.body))
            elif step in PROFILE:
                value = rng.choice(PROFILE[step])
            else:
                value = str(rng.choice((1, 2, 3, 3, 4, 4)))
            if think:
                time.sleep(rng.uniform(think * 0.5, think * 1.5))
            reply = self._tap(f"/kiosk/s/{token}/{step}", {"value": value}, rng.random() < double_tap)
            self.stats.latencies.append(("element" if step.startswith("el-") else step, reply.seconds))
            if step.startswith("el-"):
                ratings.append(int(value))
            if reply.status != 200:
                self.stats.errors.append((step, reply.status, reply.kind))
                return None
        else:
            self.stats.errors.append(("never reached saran", reply.kind))
            return None
        if think:
            time.sleep(rng.uniform(think * 0.5, think * 1.5))
        path = f"/kiosk/s/{token}/send"
        reply = self._tap(path, {"skip": "1"}, rng.random() < double_tap)
        self.stats.latencies.append(("send", reply.seconds))
        while rng.random() < resend:
            # The tablet lost the answer (Wi-Fi) and sends again: the same acknowledgement.
            reply = self._call("POST", path, {"skip": "1"})
            self.stats.latencies.append(("send", reply.seconds))
        if reply.status == 200 and reply.headers.get("x-kiosk-ack") == token:
            self.stats.acked.append(token)
            self.stats.ratings[token] = ratings
            return token
        self.stats.errors.append(("send", reply.status, reply.kind))
        return None


def percentile(values, p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
