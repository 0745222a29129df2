"""Kiosk load against the production server, beside a bare "hello" route on the same server.

gunicorn (gunicorn.conf.py) serves bench/hello_app.py: the production app plus /__hello
answered by a WSGI wrapper. N simulated tablets (threads speaking HTTP, bench/http_tablet.py,
think time BENCH_LOAD_THINK, default 0) complete surveys for BENCH_LOAD_SECONDS each; then N clients hit /__hello
for the same time. Prints completed surveys/s, step p50/p95/p99, errors, and kiosk steps/s
as a share of the hello requests/s. N from BENCH_LOAD_TABLETS (10,100,500). SQLite, and
PostgreSQL when BENCH_DATABASE_URL is set. Note: the clients run on the same machine and
share its CPUs with the server.
"""
from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

from bench import on_both_databases
from bench.http_tablet import Connection, HttpTablet, ServerGone, Stats, percentile

TABLETS = [int(x) for x in os.environ.get("BENCH_LOAD_TABLETS", "10,100,500").split(",")]
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "15"))
# Mean seconds between a tablet's taps (0: a closed loop, every tablet taps as soon as it can).
THINK = float(os.environ.get("BENCH_LOAD_THINK", "0"))
# BENCH_LOAD_HELLO=0: the kiosk only (no hello ceiling after it).
HELLO = os.environ.get("BENCH_LOAD_HELLO", "1") != "0"
# Extra gunicorn settings for the run, e.g. "--workers 1 --threads 8".


def _kiosk(base, credentials, seconds):
    stats = Stats()
    end = time.monotonic() + seconds

    def run(cred, i):
        tablet = HttpTablet(base, cred, seed=i, stats=stats)
        try:
            while time.monotonic() < end:
                tablet.survey(think=THINK)
        except ServerGone:
            pass
        tablet.close()

    threads = [threading.Thread(target=run, args=(c, i)) for i, c in enumerate(credentials)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, stats


def _hello(host, port, n, seconds):
    counts, errors = [], []
    end = time.monotonic() + seconds

    def run():
        conn, done = Connection(host, port), 0
        while time.monotonic() < end:
            try:
                r = conn.request("GET", "/__hello", headers={"Connection": "keep-alive"})
                r.read()
                done += r.status == 200
            except ServerGone:
                errors.append(1)
        conn.close()
        counts.append(done)

    threads = [threading.Thread(target=run) for _ in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - t0), len(errors)


def run(url: str | None) -> None:
    from bench.server import free_port, prepare_database, start_server, stop

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        instance = Path(tmp)
        url = url or f"sqlite:///{instance / 'bench.sqlite3'}"
        credentials = prepare_database(instance, url, max(TABLETS))
        port = free_port()
        with open(instance / "gunicorn.log", "w") as log:
            server = start_server(instance, url, port, log, app="bench.hello_app:app", wait_path="/__hello",
                                  GUNICORN_CMD_ARGS="--access-logfile /dev/null --backlog 2048 "
                                  + os.environ.get("BENCH_LOAD_GUNICORN_ARGS", ""))
            try:
                for n in TABLETS:
                    wall, stats = _kiosk(f"http://127.0.0.1:{port}", credentials[:n], SECONDS)
                    steps = [s for _, s in stats.latencies]
                    rate = len(steps) / wall
                    line = (f"{url.split(':')[0]:10} N={n:>3} think {THINK:g} s, {SECONDS:g} s: "
                            f"{len(stats.acked) / wall:6.1f} surveys/s, {rate:6.1f} steps/s ({len(steps)}), "
                            f"step p50 {percentile(steps, 50)*1000:6.1f} ms p95 {percentile(steps, 95)*1000:6.1f} ms "
                            f"p99 {percentile(steps, 99)*1000:6.1f} ms max {max(steps)*1000:6.1f} ms, "
                            f"5xx {len(stats.server_errors)}, errors {len(stats.errors) + stats.gone}")
                    if HELLO:
                        hello, hello_errors = _hello("127.0.0.1", port, n, SECONDS)
                        line += f"; hello {hello:7.1f} req/s (errors {hello_errors}); kiosk/hello {rate / hello:5.1%}"
                    print(line, flush=True)
            finally:
                stop(server)


def main() -> None:
    on_both_databases(run)


if __name__ == "__main__":
    main()
