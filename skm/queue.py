"""Background work on a Huey queue, run by `flask --app wsgi skm worker` beside the web server.

The queue is built from the app's config:

- `QUEUE_URL` (env `SKM_QUEUE_URL`) `redis://…` → RedisHuey on that Redis (several app
  servers share it);
- otherwise SqliteHuey in `instance/queue.sqlite3` (`QUEUE_FILE`), the embedded default;
- `QUEUE_NAME` (default "skm") names the queue inside the file or the Redis keys;
- `QUEUE_IMMEDIATE` runs each task at once in the caller (tests, debugging).

A task carries only ids. The database rows (ReportJob, …) stay the truth about state,
progress, merging and caps, and every task is idempotent: a task that finds its work done
or taken does nothing. Huey removes a task from the queue when a worker takes it, so a
consumer killed hard (SIGKILL, OOM, power loss) loses the tasks it was running; the rows it
left "running" stop beating and `recover()` (at worker start and every
`QUEUE_RECOVER_SECONDS` while it runs) queues them again, so they are retried to completion.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey, crontab

log = logging.getLogger(__name__)

EXTENSION = "skm_queue"
DEFAULT_WORKERS = 2
DEFAULT_RECOVER_SECONDS = 15
CAPPED_DELAY_SECONDS = 2  # a task held back by the caps asks again this much later


def make_huey(config: dict, instance_path: str) -> Huey:
    url = str(config.get("QUEUE_URL") or "")
    name = str(config.get("QUEUE_NAME") or "skm")
    huey: Huey
    if url.startswith(("redis://", "rediss://", "unix://")):
        huey = RedisHuey(name, url=url, results=False)
    elif url:
        raise ValueError(f"SKM_QUEUE_URL must be redis://…, not {url!r}")
    else:
        filename = config.get("QUEUE_FILE") or os.path.join(instance_path, "queue.sqlite3")
        huey = SqliteHuey(name, filename=str(filename), results=False)
    huey.immediate = bool(config.get("QUEUE_IMMEDIATE"))
    return huey


class Queue:
    """The app's Huey instance and its tasks (each runs inside an app context)."""

    def __init__(self, app):
        self.app = app
        self.huey = make_huey(app.config, app.instance_path)
        self.tasks: dict[str, Any] = {}
        self._register()

    def _in_app(self, func: Callable) -> Callable:
        app = self.app

        def run(*args):
            from skm.extensions import db

            with app.app_context():
                try:
                    return func(app, *args)
                finally:
                    db.session.remove()

        run.__name__ = func.__name__
        return run

    def _register(self) -> None:
        from skm.followup.reminders import remind_task
        from skm.reports.jobs import run_report_task
        from skm.scoring.analytics import refresh_alerts_task

        huey = self.huey
        report = huey.task(name="report_job")(self._in_app(run_report_task))
        self.tasks["report_job"] = report
        self.tasks["recover"] = huey.periodic_task(crontab(), name="recover")(self._in_app(recover))
        self.tasks["alerts"] = huey.periodic_task(crontab(), name="alerts")(self._in_app(refresh_alerts_task))
        # Daily, and once when a worker starts (skm worker), so a stopped server misses no day.
        self.tasks["reminders"] = huey.periodic_task(crontab(minute="5", hour="*"), name="reminders")(
            self._in_app(remind_task))

    def enqueue(self, name: str, *args, delay: float | None = None) -> None:
        task = self.tasks[name]
        if delay:
            task.schedule(args=args, delay=delay)
        else:
            task(*args)


def init_queue(app) -> Queue:
    queue = Queue(app)
    app.extensions[EXTENSION] = queue
    return queue


def get_queue(app) -> Queue:
    return app.extensions[EXTENSION]


def recover(app) -> int:
    """Queue again the work whose worker died (see skm.reports.jobs.recover_jobs)."""
    from skm.extensions import db
    from skm.reports.jobs import recover_jobs

    ids = recover_jobs(db.engine, lost_seconds(app))
    queue = get_queue(app)
    for job_id in ids:
        queue.enqueue("report_job", job_id)
    if ids:
        log.warning("re-queued report jobs whose worker stopped: %s", ids)
    return len(ids)


def lost_seconds(app) -> float:
    return float(app.config.get("REPORT_JOB_LOST_SECONDS", 60))


def run_worker(app, workers: int | None = None) -> None:
    """The consumer: recover lost work, then run tasks until SIGINT (graceful) or SIGTERM."""
    queue = get_queue(app)
    if queue.huey.immediate:
        raise RuntimeError("QUEUE_IMMEDIATE is set: tasks already run in the web process")
    workers = workers or int(app.config.get("QUEUE_WORKERS", DEFAULT_WORKERS))
    every = float(app.config.get("QUEUE_RECOVER_SECONDS", DEFAULT_RECOVER_SECONDS))
    # At start: the jobs a killed consumer left behind, and the day's reminders.
    queue.tasks["recover"].call_local()
    queue.enqueue("reminders")
    queue.enqueue("alerts")
    stop = threading.Event()

    def watchdog():
        # Recovery more often than Huey's one-minute periodic tasks: a job lost to a
        # SIGKILL waits REPORT_JOB_LOST_SECONDS plus at most this interval.
        while not stop.wait(every):
            try:
                queue.tasks["recover"].call_local()
            except Exception:  # noqa: BLE001 - try again next round
                log.exception("recovering lost jobs failed")

    thread = threading.Thread(target=watchdog, name="skm-recover", daemon=True)
    thread.start()
    # An idle SqliteHuey consumer polls its file at most every QUEUE_POLL_SECONDS (Redis blocks).
    consumer = queue.huey.create_consumer(workers=workers, periodic=True, worker_type="thread",
                                          check_worker_health=True,
                                          max_delay=float(app.config.get("QUEUE_POLL_SECONDS", 1.0)))
    try:
        consumer.run()
    finally:
        stop.set()
