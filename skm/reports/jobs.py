"""Background generation of long reports, with progress the requesting page polls.

A results report or data sheet of a few hundred respondents renders in about a second
and is sent straight back. Past `REPORT_SYNC_MAX_RESPONDENTS` (config, default 1 500)
the request only creates a ReportJob row and returns; a thread of the same worker
renders the PDF into instance/reports/ and updates the row, which the page polls with
htmx. No proxy ever waits on a long request, and no extra service (queue, broker) is
needed on a kiosk server.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from pathlib import Path
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from skm.core.clock import utcnow
from skm.core.errors import DomainError
from skm.models import Period, ReportJob, Unit, User
from skm.reports.data import RESULT_KINDS
from skm.survey.reporting import period_respondents, require_respondents

log = logging.getLogger(__name__)

LONG_KINDS = ("laporan", "pengolahan")
DEFAULT_SYNC_MAX = 1500
# A job still unfinished after this long lost its worker (a restart): shown as failed.
STALE_AFTER = dt.timedelta(minutes=30)
KEEP_FINISHED = dt.timedelta(days=7)
# Shown as "Dokumen gagal dibuat: <text>. Silakan coba lagi."
GENERIC_FAILURE = "terjadi kesalahan pada server (rinciannya dicatat di log server)"


def needs_job(session: Session, kind: str, unit: Unit, period: Optional[Period], sync_max: int) -> bool:
    return kind in LONG_KINDS and period is not None and period_respondents(session, unit, period) > sync_max


def create_job(session: Session, kind: str, unit: Unit, period: Optional[Period], user: Optional[User],
               filename: str) -> ReportJob:
    """Queue a long document (flush only); refused (DomainError) for a period without
    respondents, like every other way of making a result-based document."""
    total = require_respondents(session, unit, period) if period is not None and kind in RESULT_KINDS else 0
    prune_jobs(session, unit.id)
    job = ReportJob(unit_id=unit.id, period_id=period.id if period else None, kind=kind, status="queued",
                    total=total, filename=filename,
                    created_by_id=user.id if user else None)
    session.add(job)
    session.flush()
    return job


def is_stale(job: ReportJob, now: Optional[dt.datetime] = None) -> bool:
    return job.status in ("queued", "running") and (now or utcnow()) - job.created_at > STALE_AFTER


def prune_jobs(session: Session, unit_id: int, now: Optional[dt.datetime] = None) -> int:
    """Forget the unit's jobs finished more than a week ago, and their files (flush only)."""
    cutoff = (now or utcnow()) - KEEP_FINISHED
    old = session.scalars(select(ReportJob).where(ReportJob.unit_id == unit_id, ReportJob.created_at < cutoff)).all()
    for job in old:
        if job.file_path:
            try:
                os.remove(job.file_path)
            except OSError:
                pass
        session.delete(job)
    session.flush()
    return len(old)


def percent(job: ReportJob) -> int:
    if job.status == "done":
        return 100
    if not job.total:
        return 0
    # Rows laid out are ~90 % of the work; writing the file is the rest.
    return min(95, int(90 * job.progress / job.total))


def run_job(app, job_id: int) -> None:
    """Render one job's PDF. Runs in its own thread with its own session."""
    from skm.extensions import db
    from skm.reports.render import build

    # Outside a request and the CLI, skm.database opens deferred (read) transactions on
    # SQLite, so the long read of a big period never holds the write lock kiosks need;
    # the progress updates are short write-only transactions of their own.
    with app.app_context():
        session = db.session
        job = session.get(ReportJob, job_id)
        if job is None:
            return

        def set_fields(**values):
            with db.engine.begin() as conn:
                conn.execute(update(ReportJob).where(ReportJob.id == job_id).values(**values))

        set_fields(status="running")
        try:
            out_dir = Path(app.instance_path) / "reports"
            out_dir.mkdir(parents=True, exist_ok=True)
            target = out_dir / f"job-{job_id}.pdf"
            unit, period = job.unit, job.period
            last = [0]

            def progress(rows: int):
                # At most ~20 updates per job.
                if job.total and rows - last[0] >= max(200, job.total // 20):
                    last[0] = rows
                    set_fields(progress=rows)

            data = build(job.kind, session, unit, period, progress=progress)
            tmp = target.with_suffix(".part")
            tmp.write_bytes(data)
            os.replace(tmp, target)
            session.rollback()
            set_fields(status="done", progress=job.total, file_path=str(target), finished_at=utcnow())
        except Exception as exc:  # noqa: BLE001 - any failure must end in a visible state
            # The details (paths, library messages) go to the log; the page gets Indonesian text.
            log.exception("report job %s failed", job_id)
            session.rollback()
            set_fields(status="failed", error=failure_text(exc), finished_at=utcnow())
        finally:
            db.session.remove()


def failure_text(exc: BaseException) -> str:
    """What the job page says about a failure: a DomainError's own (Indonesian, meant for
    users) message, otherwise a fixed sentence; never the exception's text."""
    if isinstance(exc, DomainError):
        return str(exc).rstrip(". ")[:300] or GENERIC_FAILURE
    return GENERIC_FAILURE


def launch(app, job_id: int) -> threading.Thread:
    thread = threading.Thread(target=run_job, args=(app, job_id), name=f"report-job-{job_id}", daemon=True)
    thread.start()
    return thread
