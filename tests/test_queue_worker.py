"""The queue worker as a real process (`skm worker`), on both backends: SqliteHuey and RedisHuey.

Each test gets its own queue (a temporary SqliteHuey file, or a uniquely named queue in
Redis DB 1, flushed afterwards) and starts the consumer as a subprocess on the test's
database. tests/queue_worker.py is the real consumer with two probes (a job log and a
rendering hold); one test runs the operator command itself.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from skm.models import ReportJob
from skm.queue import init_queue
from skm.reports import jobs as J
from tests.factories import make_period, make_response, make_unit

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("SKM_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
LOST_SECONDS = 2


@pytest.fixture(params=["sqlite", "redis"])
def queue(request, app, tmp_path):
    """The app's queue on one backend, isolated for this test."""
    name = f"skm-test-{uuid.uuid4().hex[:12]}"
    if request.param == "redis":
        import redis

        try:
            redis.Redis.from_url(REDIS_URL).ping()
        except redis.RedisError as exc:  # never skipped: the Redis backend is part of the suite
            pytest.fail(f"Redis is required for the queue tests ({REDIS_URL}): {exc}")
        app.config.update(QUEUE_URL=REDIS_URL, QUEUE_NAME=name)
    else:
        app.config.update(QUEUE_URL="", QUEUE_NAME=name, QUEUE_FILE=str(tmp_path / "queue.sqlite3"))
    q = init_queue(app)
    q.backend = request.param
    yield q
    q.huey.flush()


class Workers:
    """Consumer subprocesses of one test; all are killed at the end."""

    def __init__(self, app, queue, tmp_path):
        self.app, self.queue, self.tmp = app, queue, tmp_path
        self.log = tmp_path / "jobs.log"
        self.procs: list[subprocess.Popen] = []

    def env(self, hold: float = 0, **config) -> dict:
        cfg = self.app.config
        env = dict(os.environ)
        env.update({
            "PYTHONPATH": str(ROOT), "SKM_INSTANCE_PATH": self.app.instance_path,
            "DATABASE_URL": str(cfg["SQLALCHEMY_DATABASE_URI"]), "SKM_SECRET_KEY": "test-secret-key",
            "SKM_QUEUE_URL": cfg["QUEUE_URL"], "SKM_QUEUE_NAME": cfg["QUEUE_NAME"],
            "SKM_QUEUE_FILE": str(cfg.get("QUEUE_FILE") or self.tmp / "queue.sqlite3"),
            "SKM_REPORT_JOB_LOST_SECONDS": str(LOST_SECONDS), "SKM_QUEUE_RECOVER_SECONDS": "0.5",
            "SKM_QUEUE_CAPPED_DELAY": "0.2", "SKM_QUEUE_POLL_SECONDS": "0.2",
            "SKM_TEST_JOB_LOG": str(self.log), "SKM_TEST_BUILD_SECONDS": str(hold),
        })
        env.update({f"SKM_{k}": str(v) for k, v in config.items()})
        return env

    def start(self, hold: float = 0, cli: bool = False, **config) -> subprocess.Popen:
        if cli:
            cmd = [sys.executable, "-m", "flask", "--app", "wsgi", "skm", "worker"]
        else:
            cmd = [sys.executable, str(ROOT / "tests" / "queue_worker.py")]
        out = open(self.tmp / f"worker-{len(self.procs)}.log", "w")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env(hold, **config), stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def events(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def output(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in sorted(self.tmp.glob("worker-*.log")))

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


@pytest.fixture
def workers(app, queue, tmp_path):
    w = Workers(app, queue, tmp_path)
    yield w
    w.close()


def _data(db, units=1, periods=1):
    made = [make_unit(db.session, code=f"U{i}", name=f"Unit {i}") for i in range(units)]
    spans = [make_period(db.session)]
    from skm.survey.periods import quarter

    for q in range(2, periods + 1):
        spans.append(make_period(db.session, quarter(2023, 4 if q == 2 else 2)))
    for unit in made:
        for p in spans:
            for i in range(3):
                make_response(db.session, unit, [4 - i % 2] * 9, day=p.start_date + dt.timedelta(days=i))
    db.session.commit()
    return made, spans


def _job(db, app, kind, unit, period) -> int:
    job, _new = J.request_job(db.session, kind, unit, period, None, kind, 0)
    job_id = job.id
    db.session.commit()
    J.launch(app, job_id)  # also for a merged request: a second task for one job is harmless
    return job_id


def _rows(db) -> dict[int, ReportJob]:
    db.session.rollback()
    db.session.expire_all()
    return {j.id: j for j in db.session.scalars(select(ReportJob)).all()}


def _wait(condition, timeout: float, workers: Workers, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n{workers.output()}")


def _all_done(db, ids):
    rows = _rows(db)
    return all(rows[i].status in ("done", "failed") for i in ids) and rows


def test_worker_command_runs_jobs_queued_while_it_was_stopped(app, db, queue, workers):
    """The operator command itself: a job asked for while no worker runs waits queued (the web
    server renders nothing), the worker started later renders it, and SIGTERM stops it."""
    [unit], [period] = _data(db)
    job_id = _job(db, app, "pengolahan", unit, period)
    time.sleep(0.5)
    assert _rows(db)[job_id].status == "queued"
    proc = workers.start(cli=True)
    rows = _wait(lambda: _all_done(db, [job_id]), 120, workers, "the job")
    job = rows[job_id]
    assert job.status == "done", workers.output()
    assert Path(job.file_path).read_bytes().startswith(b"%PDF") and job.attempts == 1
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0, workers.output()
    assert "Pekerja latar belakang berjalan" in workers.output()


def test_job_killed_mid_run_is_retried_to_completion_once(app, db, queue, workers):
    """SIGKILL of the consumer while it renders: the task is gone from Huey (taken off the
    queue when started), the row stays "running"; the restarted consumer finds its heartbeat
    stale, queues it again and completes it, exactly once."""
    [unit], [period] = _data(db)
    job_id = _job(db, app, "pengolahan", unit, period)
    first = workers.start(hold=30)
    _wait(lambda: any(e["event"] == "start" for e in workers.events()), 90, workers, "the job to start")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    job = _rows(db)[job_id]
    assert job.status == "running" and job.attempts == 1  # left behind by the dead worker
    # Huey does not give the task back by itself: it left the queue when the worker took it.
    assert [t for t in queue.huey.pending() if t.name.endswith("report_job")] == []
    workers.start()
    rows = _wait(lambda: _all_done(db, [job_id]), 120, workers, "the retried job")
    assert rows[job_id].status == "done" and rows[job_id].attempts == 2, workers.output()
    assert Path(rows[job_id].file_path).read_bytes().startswith(b"%PDF")
    events = [(e["event"], e["job"]) for e in workers.events()]
    assert events.count(("start", job_id)) == 2 and events.count(("end", job_id)) == 1


def test_identical_pending_jobs_are_merged(app, db, queue, workers):
    """Three requests for one document make one job; its three queue tasks make it once.
    Another document of the same period is a job of its own."""
    [unit], [period] = _data(db)
    ids = [_job(db, app, "responden.csv", unit, period) for _ in range(3)]
    other = _job(db, app, "responden.xlsx", unit, period)
    assert len(set(ids)) == 1 and other != ids[0]
    workers.start(REPORT_JOBS_MAX_PER_UNIT=2)
    rows = _wait(lambda: _all_done(db, [ids[0], other]), 120, workers, "both jobs")
    assert len(rows) == 2 and {r.status for r in rows.values()} == {"done"}, workers.output()
    events = [(e["event"], e["job"]) for e in workers.events()]
    assert events.count(("start", ids[0])) == 1 and events.count(("start", other)) == 1
    assert Path(rows[ids[0]].file_path).read_bytes().startswith("\ufeff".encode())  # the CSV


def test_caps_per_unit_and_installation(app, db, queue, workers):
    """Six jobs, four worker threads, at most one running per unit and two in all: the log
    of starts and ends never shows more, and two units' jobs do overlap."""
    units, periods = _data(db, units=3, periods=2)
    ids = [_job(db, app, kind, units[0], periods[0])
           for kind in ("responden.csv", "responden.xlsx", "pengolahan-data.xlsx")]
    ids += [_job(db, app, "responden.csv", units[0], periods[1]),
            _job(db, app, "responden.csv", units[1], periods[0]), _job(db, app, "responden.csv", units[2], periods[0])]
    workers.start(hold=0.6, QUEUE_WORKERS=4, REPORT_JOBS_MAX_PER_UNIT=1, REPORT_JOBS_MAX_TOTAL=2)
    rows = _wait(lambda: _all_done(db, ids), 120, workers, "all jobs")
    assert {r.status for r in rows.values()} == {"done"}, workers.output()
    unit_of = {i: rows[i].unit_id for i in ids}
    running: set[int] = set()
    most_total = 0
    for e in sorted(workers.events(), key=lambda e: e["t"]):
        if e["event"] == "start":
            running.add(e["job"])
            most_total = max(most_total, len(running))
            per_unit = [unit_of[j] for j in running]
            assert len(per_unit) == len(set(per_unit)), f"two jobs of one unit ran at once: {running}"
        else:
            running.discard(e["job"])
    assert most_total == 2
