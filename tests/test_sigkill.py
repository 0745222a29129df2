"""SIGKILL the production server (gunicorn.conf.py, master and workers) under kiosk load.

Tablets keep sending surveys over HTTP and, like static/js/kiosk.js, resend a request that
got no answer. The server is killed hard mid-load and started again on the same SQLite
file: every survey that was acknowledged is stored, none twice, each with all its answers.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter

from bench.http_tablet import HttpTablet, ServerGone, Stats
from bench.server import free_port, kill_hard, prepare_database, start_server, stop

TABLETS = 8


def test_sigkill_mid_load_loses_no_acknowledged_survey(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    url = f"sqlite:///{instance / 'kiosk.sqlite3'}"
    credentials = prepare_database(instance, url, TABLETS)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "gunicorn.log", "w")
    stats = Stats()
    done = threading.Event()

    def tablet(i):
        t = HttpTablet(base, credentials[i], seed=i, stats=stats)
        t.retry_seconds = 60
        while not done.is_set():
            try:
                t.survey(double_tap=0.1, resend=0.1)
            except ServerGone:  # gave up after retry_seconds: the test fails on `gone` below
                break
        t.close()

    server = start_server(instance, url, port, log)
    threads = [threading.Thread(target=tablet, args=(i,)) for i in range(TABLETS)]
    killed = False
    try:
        for t in threads:
            t.start()
        while len(stats.acked) < 25:
            time.sleep(0.05)
        acked_before_kill = len(stats.acked)
        kill_hard(server)
        killed = True
        gone_at_kill = stats.gone
        server = start_server(instance, url, port, log)
        killed = False
        target = len(stats.acked) + 25
        deadline = time.monotonic() + 60
        while len(stats.acked) < target and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        done.set()
        for t in threads:
            t.join(90)
        if not killed:
            stop(server)
        log.close()

    assert acked_before_kill >= 25 and len(stats.acked) >= acked_before_kill + 25
    assert stats.server_errors == [], (tmp_path / "gunicorn.log").read_text()[-3000:]
    assert stats.errors == []
    assert stats.gone > gone_at_kill or stats.gone > 0  # the kill did cut requests off; they were resent

    con = sqlite3.connect(instance / "kiosk.sqlite3")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = Counter(t for (t,) in con.execute("SELECT token FROM response"))
        answers = dict(con.execute("SELECT response_id, count(*) FROM answer GROUP BY response_id").fetchall())
        responses = [r for (r,) in con.execute("SELECT id FROM response")]
    finally:
        con.close()
    assert max(stored.values()) == 1  # none twice
    assert set(stats.acked) <= set(stored)  # every acknowledged survey is there
    assert len(stats.acked) == len(set(stats.acked))
    # A send whose answer was lost in the kill was resent and acknowledged after the restart.
    assert set(stored) == set(stats.acked)
    assert all(answers.get(r) == 9 for r in responses)  # no response lost part of its answers
