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

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from skm.core.clock import utcnow
from skm.core.errors import DomainError
from skm.models import Period, ReportJob, Unit, User
from skm.reports.data import RESULT_KINDS
from skm.survey.reporting import period_respondents, require_respondents

log = logging.getLogger(__name__)

LONG_KINDS = ("laporan", "pengolahan")
DEFAULT_SYNC_MAX = 1500
# Jobs rendering at once (config REPORT_JOBS_MAX_PER_UNIT, REPORT_JOBS_MAX_TOTAL); a job
# above either cap waits "queued" and starts when a running one ends.
DEFAULT_MAX_PER_UNIT = 1
DEFAULT_MAX_TOTAL = 2
# A job still unfinished after this long lost its worker (a restart): shown as failed.
STALE_AFTER = dt.timedelta(minutes=30)
KEEP_FINISHED = dt.timedelta(days=7)
# Shown as "Dokumen gagal dibuat: <text>. Silakan coba lagi."
GENERIC_FAILURE = "terjadi kesalahan pada server (rinciannya dicatat di log server)"


def needs_job(session: Session, kind: str, unit: Unit, period: Optional[Period], sync_max: int) -> bool:
    return kind in LONG_KINDS and period is not None and period_respondents(session, unit, period) > sync_max


def pending_job(session: Session, kind: str, unit: Unit, period: Optional[Period],
                now: Optional[dt.datetime] = None) -> Optional[ReportJob]:
    """The unit's queued or running (not stale) job for the same document, if any."""
    cutoff = (now or utcnow()) - STALE_AFTER
    return session.scalars(
        select(ReportJob).where(
            ReportJob.unit_id == unit.id, ReportJob.kind == kind,
            ReportJob.period_id == (period.id if period else None),
            ReportJob.status.in_(("queued", "running")), ReportJob.created_at >= cutoff)
        .order_by(ReportJob.id)
    ).first()


def request_job(session: Session, kind: str, unit: Unit, period: Optional[Period], user: Optional[User],
                filename: str, sync_max: int) -> ReportJob:
    """The job for this document: an identical pending one (same unit, period, kind) is
    reused, so repeated clicks start one job. Refused when the direct download suffices."""
    if kind not in LONG_KINDS or period is None:
        raise DomainError("Dokumen ini tidak perlu dibuat di latar belakang.")
    if kind in RESULT_KINDS:
        require_respondents(session, unit, period)  # an empty period has no document at all
    if not needs_job(session, kind, unit, period, sync_max):
        raise DomainError("Dokumen ini cukup kecil untuk diunduh langsung; tidak perlu dibuat di latar belakang.")
    # Concurrent requests for the unit's documents wait here, so they find each other's job
    # (PostgreSQL row lock; SQLite requests that write already take the database lock).
    session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())
    return pending_job(session, kind, unit, period) or create_job(session, kind, unit, period, user, filename)


def claim_runnable(engine, max_per_unit: int = DEFAULT_MAX_PER_UNIT, max_total: int = DEFAULT_MAX_TOTAL,
                   now: Optional[dt.datetime] = None) -> list[int]:
    """Mark queued jobs running, oldest first, as far as the caps allow; their ids.

    Short transactions of their own on `engine` (never the caller's session), so a request
    or a finishing job thread can call it; the conditional UPDATE makes each claim once."""
    cutoff = (now or utcnow()) - STALE_AFTER
    claimed: list[int] = []
    with engine.begin() as conn:
        # Claimers run one at a time: on SQLite a write statement first takes the write lock
        # (no read-then-upgrade failure), on PostgreSQL the pending rows are locked.
        conn.execute(update(ReportJob).where(ReportJob.id == -1).values(status="queued"))
        pending = conn.execute(
            select(ReportJob.id, ReportJob.unit_id, ReportJob.status).where(
                ReportJob.status.in_(("queued", "running")), ReportJob.created_at >= cutoff)
            .order_by(ReportJob.id).with_for_update()
        ).all()
        per_unit: dict[int, int] = {}
        for _job_id, unit_id, status in pending:
            if status == "running":
                per_unit[unit_id] = per_unit.get(unit_id, 0) + 1
        total = sum(per_unit.values())
        queued = [(job_id, unit_id) for job_id, unit_id, status in pending if status == "queued"]
        for job_id, unit_id in queued:
            if total >= max_total:
                break
            if per_unit.get(unit_id, 0) >= max_per_unit:
                continue
            done = conn.execute(update(ReportJob).where(ReportJob.id == job_id, ReportJob.status == "queued")
                                .values(status="running"))
            if done.rowcount:
                claimed.append(job_id)
                per_unit[unit_id] = per_unit.get(unit_id, 0) + 1
                total += 1
    return claimed


def queue_position(session: Session, job: ReportJob) -> int:
    """How many queued jobs wait before this one (0 when it is not queued)."""
    if job.status != "queued":
        return 0
    return session.scalar(select(func.count(ReportJob.id)).where(
        ReportJob.status == "queued", ReportJob.id < job.id,
        ReportJob.created_at >= utcnow() - STALE_AFTER)) or 0


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
        try:
            start_queued(app)  # a slot is free: the next waiting job, if any
        except Exception:  # noqa: BLE001 - the next POST or finishing job starts it instead
            log.exception("starting queued report jobs failed")


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


def start_queued(app) -> list[int]:
    """Start a thread for every queued job the caps allow (claimed first, so two workers
    never render the same job)."""
    from skm.extensions import db

    with app.app_context():
        ids = claim_runnable(db.engine, int(app.config.get("REPORT_JOBS_MAX_PER_UNIT", DEFAULT_MAX_PER_UNIT)),
                             int(app.config.get("REPORT_JOBS_MAX_TOTAL", DEFAULT_MAX_TOTAL)))
    for job_id in ids:
        launch(app, job_id)
    return ids
