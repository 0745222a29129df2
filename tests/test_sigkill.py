"""SIGKILL the production server (gunicorn.conf.py, master and workers) under kiosk load.

Tablets keep sending surveys over HTTP and, like static/js/kiosk.js, resend a request that
got no answer. The server is killed hard mid-load and started again on the same SQLite
file: every survey that was acknowledged is stored, none twice, each with all its answers.
"""
from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

from bench.http_tablet import HttpTablet, ServerGone, Stats

ROOT = Path(__file__).resolve().parent.parent
TABLETS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(instance: Path, url: str, tablets: int) -> list[str]:
    """A unit and paired tablets, made in a child process (keeps this process's app state clean)."""
    code = f"""
import sys
from skm import create_app
from skm import devices as D
from skm.extensions import db
from skm.units import add_services, create_unit
app = create_app({{"SQLALCHEMY_DATABASE_URI": {url!r}}})
with app.app_context():
    db.create_all()
    unit = create_unit(db.session, "KILL", "Unit Uji Mati", min_survey_seconds=0, ask_age=False,
                       ask_education=False, ask_occupation=False)
    add_services(db.session, unit, ["Layanan A", "Layanan B"])
    for _ in range({tablets}):
        device = D.create_pairing(db.session, unit)
        print(D.pair_device(db.session, device.pairing_code)[1])
    db.session.commit()
"""
    env = server_env(instance, url)
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def server_env(instance: Path, url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKM_")}
    env.update(SKM_INSTANCE_PATH=str(instance), DATABASE_URL=url, SKM_SECURE_COOKIES="false")
    return env


def start_server(instance: Path, url: str, port: int, log) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=server_env(instance, url), stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/kiosk/", timeout=2) as r:
                if r.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer")


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL the master and every worker at once (they share the new session's group)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def test_sigkill_mid_load_loses_no_acknowledged_survey(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    url = f"sqlite:///{instance / 'kiosk.sqlite3'}"
    credentials = prepare_database(instance, url, TABLETS)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "gunicorn.log", "w")
    stats = Stats()
    stop = threading.Event()

    def tablet(i):
        t = HttpTablet(base, credentials[i], seed=i, stats=stats)
        t.retry_seconds = 60
        while not stop.is_set():
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
        while len(stats.acked) < 30:
            time.sleep(0.05)
        acked_before_kill = len(stats.acked)
        kill_hard(server)
        killed = True
        gone_at_kill = stats.gone
        server = start_server(instance, url, port, log)
        killed = False
        target = len(stats.acked) + 30
        deadline = time.monotonic() + 60
        while len(stats.acked) < target and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(90)
        if not killed:
            server.terminate()
            server.wait(20)
        log.close()

    assert acked_before_kill >= 30 and len(stats.acked) >= acked_before_kill + 30
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
