"""Kiosk step cost against its floor, latency under concurrent tablets, and the bytes of each swap.

1. Floor (issue 14): in one process, on the same database kind, a full kiosk survey (start,
   service, four profile steps, nine elements, send) and the floor app (bench/floor_app.py:
   find the device, update the answer row, commit, render a cached template of the same
   size) answer requests one at a time; CPU time (time.process_time) is measured around the
   WSGI app of each request (the test client's own work is not counted), with the SQL
   statements each runs. Prints CPU ms and queries per step for both and their ratio
   (target: a kiosk step at most 1.5x its floor). BENCH_FLOOR_SURVEYS surveys (default 60).
2. Simulated tablets are threads, each with its own Flask test client, its own paired device
   and real CSRF tokens, answering the whole survey several times.
3. Real HTTP against gunicorn.
The database is a fresh SQLite file; with BENCH_DATABASE_URL the floor comparison runs on
PostgreSQL too, and the tablet scenarios run there instead of SQLite. BENCH_KIOSK_PARTS picks
parts (default "floor,threads,http").
Run: `make bench` or `.venv/bin/python -m bench bench_kiosk`;
only the floor: `BENCH_KIOSK_PARTS=floor .venv/bin/python -m bench bench_kiosk`.
"""
from __future__ import annotations

import os
import re
import statistics
import tempfile
import threading
import time
from collections import defaultdict

# (name, tablets, surveys per tablet, mean think time between taps in seconds)
SCENARIOS = [
    ("stress: no think time", int(os.environ.get("BENCH_TABLETS", "12")), 2, 0.0),
    ("lobby: a tap every ~0.6 s", int(os.environ.get("BENCH_TABLETS_THINK", "24")), 1, 0.6),
]
HX = {"HX-Request": "true"}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN_RE = re.compile(r'data-token="([^"]+)"')
ACTION_RE = re.compile(r'action="/kiosk/s/[^/]+/([^"/]+)"')


def _think(mean, rng):
    if mean:
        time.sleep(rng.uniform(mean * 0.5, mean * 1.5))


def _tablet(app, cookie, timings, sizes, errors, surveys, think):
    import random

    rng = random.Random(cookie)
    client = app.test_client()
    client.set_cookie("skm_kiosk", cookie, path="/kiosk")
    html = client.get("/kiosk/", headers=HX).get_data(as_text=True)
    for _ in range(surveys):
        _think(think, rng)
        t0 = time.perf_counter()
        r = client.post("/kiosk/start", data={"csrf_token": CSRF_RE.search(html).group(1)}, headers=HX)
        timings["start"].append(time.perf_counter() - t0)
        html = r.get_data(as_text=True)
        sizes["start"].append(len(r.data))
        token = TOKEN_RE.search(html).group(1)
        while r.headers.get("X-Kiosk") != "saran":
            step = ACTION_RE.search(html).group(1)
            value = {"service": re.search(r'name="value" value="(\d+)"', html).group(1) if "service" == step else None,
                     "gender": "P", "age": "35", "education": "SMA", "occupation": "SWASTA"}.get(step) or "4"
            kind = "element" if step.startswith("el-") else step
            _think(think, rng)
            t0 = time.perf_counter()
            r = client.post(f"/kiosk/s/{token}/{step}", data={"value": value, "csrf_token": CSRF_RE.search(html).group(1)},
                            headers=HX)
            timings[kind].append(time.perf_counter() - t0)
            sizes[r.headers.get("X-Kiosk", "?")].append(len(r.data))
            html = r.get_data(as_text=True)
            if r.status_code != 200:
                errors.append((step, r.status_code))
                return
        _think(think, rng)
        t0 = time.perf_counter()
        r = client.post(f"/kiosk/s/{token}/send", data={"skip": "1", "csrf_token": CSRF_RE.search(html).group(1)},
                        headers=HX)
        timings["send"].append(time.perf_counter() - t0)
        sizes["thanks"].append(len(r.data))
        if r.headers.get("X-Kiosk-Ack") != token:
            errors.append(("send", r.status_code))
        t0 = time.perf_counter()
        r = client.get("/kiosk/", headers=HX)
        timings["welcome"].append(time.perf_counter() - t0)
        sizes["welcome"].append(len(r.data))
        html = r.get_data(as_text=True)


def _run(app, cookies, surveys, think):
    timings, sizes, errors = defaultdict(list), defaultdict(list), []
    threads = [threading.Thread(target=_tablet, args=(app, c, timings, sizes, errors, surveys, think))
               for c in cookies]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, timings, sizes, errors


def _report(title, wall, timings, errors, stored):
    print(f"-- {title}: wall {wall:.2f} s, {stored} responses stored, {len(errors)} errors")
    print(f"   {'step':<12}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for kind in ("start", "service", "gender", "age", "education", "occupation", "element", "send", "welcome"):
        values = sorted(timings.get(kind, []))
        if not values:
            continue
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(f"   {kind:<12}{len(values):>6}{statistics.median(values) * 1000:>9.1f}{p95 * 1000:>9.1f}"
              f"{values[-1] * 1000:>9.1f}")


class _HttpTablet:
    """A tablet speaking real HTTP to gunicorn, keeping its cookies by hand."""

    def __init__(self, port, device_cookie):
        import http.client

        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies = {"skm_kiosk": device_cookie}

    def request(self, method, path, data=None):
        from http.cookies import SimpleCookie
        from urllib.parse import urlencode

        headers = dict(HX, Cookie="; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        html = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response, html


def _http_tablet(port, cookie, timings, errors):
    t = _HttpTablet(port, cookie)
    _, html = t.request("GET", "/kiosk/")
    t0 = time.perf_counter()
    r, html = t.request("POST", "/kiosk/start", {"csrf_token": CSRF_RE.search(html).group(1)})
    timings["start"].append(time.perf_counter() - t0)
    token = TOKEN_RE.search(html).group(1)
    while r.headers.get("X-Kiosk") != "saran":
        if r.status != 200:
            errors.append(r.status)
            return
        step = ACTION_RE.search(html).group(1)
        value = {"service": re.search(r'name="value" value="(\d+)"', html).group(1) if step == "service" else None,
                 "gender": "L", "age": "50", "education": "S1", "occupation": "PNS"}.get(step) or "3"
        t0 = time.perf_counter()
        r, html = t.request("POST", f"/kiosk/s/{token}/{step}", {"value": value, "csrf_token": CSRF_RE.search(html).group(1)})
        timings["element" if step.startswith("el-") else step].append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    r, html = t.request("POST", f"/kiosk/s/{token}/send", {"skip": "1", "csrf_token": CSRF_RE.search(html).group(1)})
    timings["send"].append(time.perf_counter() - t0)
    if r.headers.get("X-Kiosk-Ack") != token:
        errors.append(("send", r.status))


def _gunicorn_scenario(tablets=12, workers=3):
    """Real HTTP against a gunicorn subprocess with several worker processes: every step may
    land on another process, so this also shows that no survey state is kept in memory."""
    import shutil
    import socket
    import subprocess
    import sys

    from sqlalchemy import func, select

    from skm import create_app
    from skm.extensions import db
    from skm.kiosk import devices as D
    from skm.models import Response
    from skm.survey.units import add_services, create_unit

    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable))
    if gunicorn is None:
        print("-- gunicorn not installed: HTTP scenario skipped")
        return
    tmp = tempfile.mkdtemp(prefix="bench-kiosk-http-")
    url = f"sqlite:///{tmp}/bench.sqlite3"
    env = dict(os.environ, SKM_INSTANCE_PATH=tmp, DATABASE_URL=url, SKM_SECURE_COOKIES="false")
    os.environ["SKM_INSTANCE_PATH"] = tmp
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        unit = create_unit(db.session, "HTTP", "Unit HTTP", min_survey_seconds=0)
        add_services(db.session, unit, ["Layanan A", "Layanan B"])
        cookies = []
        for _ in range(tablets):
            cookies.append(D.pair_device(db.session, D.create_pairing(db.session, unit).pairing_code)[1])
        db.session.commit()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([gunicorn, "--workers", str(workers), "--threads", "2", "--worker-class", "gthread",
                             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--access-logfile", "/dev/null",
                             "wsgi:app"],
                            env=env, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        timings, errors = defaultdict(list), []
        threads = [threading.Thread(target=_http_tablet, args=(port, c, timings, errors)) for c in cookies]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(10)
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(Response))
        db.engine.dispose()
    _report(f"real HTTP, gunicorn {workers} workers x 2 threads; {tablets} tablets x 1 survey, no think time",
            wall, timings, errors, stored)
    assert stored == tablets and not errors, errors


# --- 1. the kiosk step against its floor -----------------------------------------------

FLOOR_SURVEYS = int(os.environ.get("BENCH_FLOOR_SURVEYS", "60"))
FLOOR_WARMUP = 5


class _CpuMeter:
    """WSGI middleware: the CPU time (time.process_time) of the app answering one request,
    body included, and the SQL statements it ran (counted by _count_statements)."""

    def __init__(self, wsgi):
        self.wsgi = wsgi
        self.cpu = 0.0
        self.statements = 0

    def __call__(self, environ, start_response):
        self.statements = 0
        t0 = time.process_time()
        body = self.wsgi(environ, start_response)
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        self.cpu = time.process_time() - t0
        return [data]


def _count_statements(engine, meter):
    from sqlalchemy import event

    def count(conn, cursor, statement, parameters, context, executemany):
        # BEGIN / BEGIN IMMEDIATE are transaction control, like the COMMIT (not a statement).
        if not statement.lstrip().upper().startswith("BEGIN"):
            meter.statements += 1

    event.listen(engine, "before_cursor_execute", count)


def _kiosk_survey(client, meter, html, record):
    """One whole kiosk survey through the htmx screens; record(kind, cpu, statements, bytes)."""
    def post(path, data, kind):
        r = client.post(path, data={**data, "csrf_token": CSRF_RE.search(html).group(1)}, headers=HX)
        assert r.status_code == 200, (path, r.status_code)
        record(kind, meter.cpu, meter.statements, len(r.data))
        return r, r.get_data(as_text=True)

    r, html = post("/kiosk/start", {}, "start")
    token = TOKEN_RE.search(html).group(1)
    while r.headers.get("X-Kiosk") != "saran":
        step = ACTION_RE.search(html).group(1)
        value = {"service": re.search(r'name="value" value="(\d+)"', html).group(1) if step == "service" else None,
                 "gender": "P", "age": "35", "education": "SMA", "occupation": "SWASTA"}.get(step) or "4"
        r, html = post(f"/kiosk/s/{token}/{step}", {"value": value}, "step")
    r, html = post(f"/kiosk/s/{token}/send", {"skip": "1"}, "send")
    assert r.headers.get("X-Kiosk-Ack") == token
    r = client.get("/kiosk/", headers=HX)
    record("welcome", meter.cpu, meter.statements, len(r.data))
    return r.get_data(as_text=True)


def floor_comparison(url: str | None) -> dict:
    """CPU ms and statements per request: a kiosk survey's steps against the floor app's,
    interleaved in one process on one database kind. Returns the figures (also printed)."""
    from bench.floor_app import add_floor_survey, create_floor_app, drop_floor
    from skm import create_app
    from skm.extensions import db
    from skm.kiosk import devices as D
    from skm.survey.units import add_services, create_unit

    tmp = tempfile.mkdtemp(prefix="bench-floor-")
    os.environ["SKM_INSTANCE_PATH"] = tmp
    url = url or f"sqlite:///{tmp}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SECURE_COOKIES": False,
                      "KIOSK_DEVICE_STARTS_PER_MINUTE": 0, "KIOSK_COOLDOWN_SECONDS": 0,
                      "KIOSK_DEVICE_MAX_PER_WINDOW": 1_000_000, "KIOSK_SAME_ANSWERS_RUN": 0})
    with app.app_context():
        db.drop_all()
        db.create_all()
        unit = create_unit(db.session, "FLOOR", "Unit Bench Lantai", min_survey_seconds=0)
        add_services(db.session, unit, ["Layanan A", "Layanan B", "Layanan C"])
        cookie = D.pair_device(db.session, D.create_pairing(db.session, unit).pairing_code)[1]
        db.session.commit()
        engine = db.engine
    kiosk_meter = _CpuMeter(app.wsgi_app)
    app.wsgi_app = kiosk_meter
    _count_statements(engine, kiosk_meter)
    client = app.test_client()
    client.set_cookie("skm_kiosk", cookie, path="/kiosk")

    # The floor answers with the kiosk's own first element screen (same bytes), made a template.
    page = client.get("/kiosk/", headers=HX).get_data(as_text=True)
    page = client.post("/kiosk/start", data={"csrf_token": CSRF_RE.search(page).group(1)},
                       headers=HX).get_data(as_text=True)
    token = TOKEN_RE.search(page).group(1)
    while ACTION_RE.search(page).group(1) != "el-U1":
        step = ACTION_RE.search(page).group(1)
        value = {"service": re.search(r'name="value" value="(\d+)"', page).group(1) if step == "service" else None,
                 "gender": "P", "age": "35", "education": "SMA", "occupation": "SWASTA"}.get(step)
        page = client.post(f"/kiosk/s/{token}/{step}", data={"value": value, "csrf_token": CSRF_RE.search(page).group(1)},
                           headers=HX).get_data(as_text=True)
    screen = page
    client.post(f"/kiosk/s/{token}/abandon", data={"csrf_token": CSRF_RE.search(page).group(1)}, headers=HX)
    html = client.get("/kiosk/", headers=HX).get_data(as_text=True)

    floor = create_floor_app(url, screen, token, CSRF_RE.search(screen).group(1))
    floor_meter = _CpuMeter(floor.wsgi_app)
    floor.wsgi_app = floor_meter
    _count_statements(floor.config["FLOOR_ENGINE"], floor_meter)
    floor_client = floor.test_client()

    figures: dict = defaultdict(list)
    try:
        for n in range(FLOOR_WARMUP + FLOOR_SURVEYS):
            measured = n >= FLOOR_WARMUP

            def record(kind, cpu, statements, size, measured=measured):
                if measured:
                    figures[kind].append((cpu, statements, size))

            steps_before = len(figures["step"])
            html = _kiosk_survey(client, kiosk_meter, html, record)
            steps = (len(figures["step"]) - steps_before) if measured else 14
            raw, floor_token = add_floor_survey(floor)
            floor_client.set_cookie("skm_kiosk", raw)
            for i in range(steps):
                r = floor_client.post(f"/floor/s/{floor_token}/s{i}", data={"value": "4"})
                assert r.status_code == 200, r.status_code
                record("floor", floor_meter.cpu, floor_meter.statements, len(r.data))
    finally:
        drop_floor(floor)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    def mean_ms(kind):
        return statistics.fmean(c for c, _, _ in figures[kind]) * 1000

    def median_ms(kind):
        return statistics.median(c for c, _, _ in figures[kind]) * 1000

    def queries(kind):
        return statistics.fmean(q for _, q, _ in figures[kind])

    name = url.split(":")[0].split("+")[0]
    print(f"-- kiosk step against its floor on {name}: {FLOOR_SURVEYS} surveys "
          f"({len(figures['step'])} steps) and as many floor steps, one process, one request at a time; "
          f"CPU = time.process_time() around the WSGI app" +
          ("" if name == "sqlite" else " (the database server's own CPU is not in it)"))
    print(f"   {'request':<22}{'n':>6}{'CPU mean ms':>13}{'median ms':>11}{'queries':>9}{'bytes':>8}")
    for kind, label in (("floor", "floor step"), ("step", "kiosk step"), ("start", "kiosk start"),
                        ("send", "kiosk send"), ("welcome", "kiosk welcome")):
        print(f"   {label:<22}{len(figures[kind]):>6}{mean_ms(kind):>13.2f}{median_ms(kind):>11.2f}"
              f"{queries(kind):>9.1f}{max(b for _, _, b in figures[kind]):>8}")
    ratio, ratio_median = mean_ms("step") / mean_ms("floor"), median_ms("step") / median_ms("floor")
    print(f"   kiosk step / floor step: {ratio:.2f}x (mean), {ratio_median:.2f}x (median); target <= 1.5x: "
          f"{'met' if ratio <= 1.5 else 'missed'}")
    return {"db": name, "floor_ms": mean_ms("floor"), "step_ms": mean_ms("step"), "ratio": ratio,
            "ratio_median": ratio_median, "floor_queries": queries("floor"), "step_queries": queries("step")}


PARTS = os.environ.get("BENCH_KIOSK_PARTS", "floor,threads,http").split(",")


def main() -> None:
    if "floor" in PARTS:
        from bench import on_both_databases

        on_both_databases(floor_comparison)
    if "threads" in PARTS:
        _threads()
    if "http" in PARTS:
        _gunicorn_scenario()


def _threads() -> None:
    from sqlalchemy import func, select

    from skm import create_app
    from skm.extensions import db
    from skm.kiosk import devices as D
    from skm.models import Response
    from skm.survey.units import add_services, create_unit

    tmp = tempfile.mkdtemp(prefix="bench-kiosk-")
    os.environ["SKM_INSTANCE_PATH"] = tmp
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    # Surveys back to back from each tablet: no start limit, cool-down or abuse flags.
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SECURE_COOKIES": False,
                      "TESTING": True, "KIOSK_DEVICE_STARTS_PER_MINUTE": 0, "KIOSK_COOLDOWN_SECONDS": 0,
                      "KIOSK_DEVICE_MAX_PER_WINDOW": 1_000_000, "KIOSK_SAME_ANSWERS_RUN": 0})
    most = max(n for _, n, _, _ in SCENARIOS)
    with app.app_context():
        db.drop_all()
        db.create_all()
        unit = create_unit(db.session, "BENCH", "Unit Bench", min_survey_seconds=0)
        add_services(db.session, unit, ["Layanan A", "Layanan B", "Layanan C"])
        cookies = []
        for _ in range(most):
            device = D.create_pairing(db.session, unit)
            cookies.append(D.pair_device(db.session, device.pairing_code)[1])
        db.session.commit()
        page = app.test_client()
        page.set_cookie("skm_kiosk", cookies[0], path="/kiosk")
        full = len(page.get("/kiosk/").data)
        static = {name: os.path.getsize(os.path.join(app.static_folder, name))
                  for name in ("js/htmx-2.0.8.min.js", "js/kiosk.js", "css/kiosk.css")}

    print(f"kiosk on {url.split(':')[0]}; {os.cpu_count()} CPUs; threads with the Flask test client, "
          f"one app process (a GIL), real CSRF tokens")
    expected = 0
    all_sizes = defaultdict(list)
    for title, tablets, surveys, think in SCENARIOS:
        wall, timings, sizes, errors = _run(app, cookies[:tablets], surveys, think)
        expected += tablets * surveys
        with app.app_context():
            stored = db.session.scalar(select(func.count()).select_from(Response))
            db.session.remove()
        _report(f"{title}; {tablets} tablets x {surveys} survey(s)", wall, timings, errors, stored)
        for k, v in sizes.items():
            all_sizes[k] += v
        assert not errors, errors
    with app.app_context():
        db.engine.dispose()
    print("bytes per htmx swap (uncompressed HTML, largest seen):")
    print("   " + ", ".join(f"{kind} {max(values)}" for kind, values in sorted(all_sizes.items())))
    print(f"full first page: {full} bytes; static (cached after first load): " +
          ", ".join(f"{k} {v}" for k, v in static.items()))
    assert stored == expected


if __name__ == "__main__":
    main()
