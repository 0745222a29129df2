"""The production server (gunicorn with gunicorn.conf.py) as a subprocess, for load and fault tests.

The database is prepared in a child process: a fresh schema, one unit with a short survey,
and paired tablets whose credentials are returned.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_PREPARE = """
from skm import create_app
from skm.kiosk import devices as D
from skm.extensions import db
from skm.survey.units import add_services, create_unit
app = create_app({{"SQLALCHEMY_DATABASE_URI": {url!r}}})
with app.app_context():
    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    db.create_all()
    unit = create_unit(db.session, "LOAD", "Unit Uji Beban", min_survey_seconds=0, ask_age=False,
                       ask_education=False, ask_occupation=False)
    add_services(db.session, unit, ["Layanan A", "Layanan B", "Layanan C"])
    for _ in range({tablets}):
        device = D.create_pairing(db.session, unit)
        print(D.pair_device(db.session, device.pairing_code)[1])
    db.session.commit()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(instance: Path, url: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKM_")}
    # Simulated tablets start surveys back to back, far faster than the per-device limit allows;
    # no cool-down and no abuse flags either (flagged responses are quarantined, not counted).
    env.update(SKM_INSTANCE_PATH=str(instance), DATABASE_URL=url, SKM_SECURE_COOKIES="false",
               SKM_KIOSK_DEVICE_STARTS_PER_MINUTE="0", SKM_KIOSK_COOLDOWN_SECONDS="0",
               SKM_KIOSK_DEVICE_MAX_PER_WINDOW="1000000", SKM_KIOSK_SAME_ANSWERS_RUN="0", **extra)
    return env


def prepare_database(instance: Path, url: str, tablets: int) -> list[str]:
    """Fresh schema, one unit (gender + nine elements + saran), `tablets` paired devices."""
    out = subprocess.run([sys.executable, "-c", _PREPARE.format(url=url, tablets=tablets)],
                         env=server_env(instance, url), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def start_server(instance: Path, url: str, port: int, log, app: str = "wsgi:app",
                 wait_path: str = "/kiosk/", **env) -> subprocess.Popen:
    """gunicorn --config gunicorn.conf.py, in its own process group; returns once it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", app],
        cwd=ROOT, env=server_env(instance, url, **env), stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("gunicorn exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{wait_path}", timeout=2) as r:
                if r.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer")


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL the master and every worker at once (they share the process group)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        kill_hard(process)
