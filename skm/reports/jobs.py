"""Background generation of long reports, with progress the requesting page polls.

A results report or data sheet of a few hundred respondents renders in about a second
and is sent straight back. Past `REPORT_SYNC_MAX_RESPONDENTS` (config, default 1 500)
the request only creates a ReportJob row (or finds the identical pending one) and puts
its id on the queue (skm.queue); the queue worker (`skm worker`, a process of its own)
claims it within the caps, renders the PDF into instance/reports/ and updates the row,
which the page polls with htmx. A restart of the web server no longer touches a running
job, and a killed worker's job is queued again (recover_jobs).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from pathlib import Path
from typing import Optional, cast

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from skm.core.clock import utcnow
from skm.core.errors import DomainError
from skm.models import Period, ReportJob, Unit, User
from skm.reports.data import RESULT_KINDS
from skm.reports.exports import LARGE_EXPORTS, export_builders
from skm.survey.reporting import period_respondents, require_respondents

log = logging.getLogger(__name__)

LONG_KINDS = ("laporan", "pengolahan")
DEFAULT_SYNC_MAX = 1500
DEFAULT_EXPORT_SYNC_MAX = 5000  # config EXPORT_SYNC_MAX_RESPONDENTS
DEFAULT_IMPORT_SYNC_MAX = 5000  # config IMPORT_SYNC_MAX_ROWS: larger previewed imports are stored by the worker
IMPORT_KIND = "impor"
# Jobs rendering at once (config REPORT_JOBS_MAX_PER_UNIT, REPORT_JOBS_MAX_TOTAL); a job
# above either cap waits "queued" and starts when a running one ends.
DEFAULT_MAX_PER_UNIT = 1
DEFAULT_MAX_TOTAL = 2
# A job still unfinished this long after it was asked for is shown as stopped ("terhenti").
STALE_AFTER = dt.timedelta(minutes=30)
# A running job whose worker has not beaten its heartbeat for this long lost that worker
# (config REPORT_JOB_LOST_SECONDS); it is queued again, at most MAX_ATTEMPTS starts in all.
LOST_AFTER = dt.timedelta(seconds=60)
MAX_ATTEMPTS = 3
REPEATED_FAILURE = "pembuatan dokumen terhenti berulang kali"
KEEP_FINISHED = dt.timedelta(days=7)
# Shown as "Dokumen gagal dibuat: <text>. Silakan coba lagi."
GENERIC_FAILURE = "terjadi kesalahan pada server (rinciannya dicatat di log server)"


def is_export(kind: str) -> bool:
    return kind in LARGE_EXPORTS


def needs_job(session: Session, kind: str, unit: Unit, period: Optional[Period], sync_max: int) -> bool:
    """A long report (above REPORT_SYNC_MAX_RESPONDENTS) or a large export (above
    EXPORT_SYNC_MAX_RESPONDENTS; the caller passes the threshold of the kind)."""
    return ((kind in LONG_KINDS or is_export(kind)) and period is not None
            and period_respondents(session, unit, period) > sync_max)


def file_type(kind: str) -> tuple[str, str]:
    """(extension, MIME type) of a job's file."""
    if is_export(kind):
        return kind.rsplit(".", 1)[1], export_builders()[kind][1]
    return "pdf", "application/pdf"


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
                filename: str, sync_max: int) -> tuple[ReportJob, bool]:
    """The job for this document and whether it is new: an identical pending one (same unit,
    period, kind) is reused, so repeated clicks make one job and one queue task. Refused
    when the direct download suffices."""
    if (kind not in LONG_KINDS and not is_export(kind)) or period is None:
        raise DomainError("Dokumen ini tidak perlu dibuat di latar belakang.")
    if kind in RESULT_KINDS:
        require_respondents(session, unit, period)  # an empty period has no document at all
    if not needs_job(session, kind, unit, period, sync_max):
        raise DomainError("Dokumen ini cukup kecil untuk diunduh langsung; tidak perlu dibuat di latar belakang.")
    # Concurrent requests for the unit's documents wait here, so they find each other's job
    # (PostgreSQL row lock; SQLite requests that write already take the database lock).
    session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())
    pending = pending_job(session, kind, unit, period)
    if pending is not None:
        return pending, False
    return create_job(session, kind, unit, period, user, filename), True


def _serialize_claims(conn) -> None:
    """Claimers and recoverers run one at a time: on SQLite a first write statement takes the
    write lock (no read-then-upgrade failure), on PostgreSQL a transaction advisory lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7514001)"))
    else:
        conn.execute(update(ReportJob).where(ReportJob.id == -1).values(status="queued"))


def runnable_ids(conn, max_per_unit: int, max_total: int, lost_after: dt.timedelta,
                 now: dt.datetime) -> list[int]:
    """The queued jobs that may start now, oldest first, as far as the caps allow. Jobs
    running with a fresh heartbeat hold their slots; a lost one (stale heartbeat) does not."""
    cutoff = now - STALE_AFTER
    pending = conn.execute(
        select(ReportJob.id, ReportJob.unit_id, ReportJob.status, ReportJob.heartbeat_at).where(
            ReportJob.status.in_(("queued", "running")), ReportJob.created_at >= cutoff)
        .order_by(ReportJob.id)
    ).all()
    per_unit: dict[int, int] = {}
    for _job_id, unit_id, status, beat in pending:
        if status == "running" and beat is not None and beat >= now - lost_after:
            per_unit[unit_id] = per_unit.get(unit_id, 0) + 1
    total = sum(per_unit.values())
    runnable: list[int] = []
    for job_id, unit_id, status, _beat in pending:
        if status != "queued":
            continue
        if total >= max_total:
            break
        if per_unit.get(unit_id, 0) >= max_per_unit:
            continue
        runnable.append(job_id)
        per_unit[unit_id] = per_unit.get(unit_id, 0) + 1
        total += 1
    return runnable


def claim_job(engine, job_id: int, max_per_unit: int = DEFAULT_MAX_PER_UNIT, max_total: int = DEFAULT_MAX_TOTAL,
              lost_after: dt.timedelta = LOST_AFTER, now: Optional[dt.datetime] = None) -> str:
    """Try to start one job: "claimed" (now running, ours), "wait" (queued behind the caps
    or an older job; it was touched so recovery knows a task still asks for it) or "skip"
    (done, failed, running in a live worker, or gone: nothing to do).

    A short transaction of its own on `engine`; the conditional UPDATE claims each job once
    even with several consumers on several machines."""
    now = now or utcnow()
    with engine.begin() as conn:
        _serialize_claims(conn)
        status = conn.execute(select(ReportJob.status).where(ReportJob.id == job_id)).scalar()
        if status != "queued":
            return "skip"
        if job_id not in runnable_ids(conn, max_per_unit, max_total, lost_after, now):
            conn.execute(update(ReportJob).where(ReportJob.id == job_id, ReportJob.status == "queued")
                         .values(heartbeat_at=now))
            return "wait"
        done = conn.execute(update(ReportJob).where(ReportJob.id == job_id, ReportJob.status == "queued")
                            .values(status="running", heartbeat_at=now, progress=0,
                                    attempts=ReportJob.attempts + 1))
        return "claimed" if done.rowcount else "skip"


def recover_jobs(engine, lost_seconds: float, now: Optional[dt.datetime] = None) -> list[int]:
    """Jobs to queue again: "running" ones whose worker stopped beating (killed) go back to
    "queued" (or to "failed" after MAX_ATTEMPTS starts), and "queued" ones nobody asked
    about for as long (their task was lost). Their ids; enqueueing twice is harmless."""
    now = now or utcnow()
    lost = now - dt.timedelta(seconds=lost_seconds)
    cutoff = now - STALE_AFTER
    with engine.begin() as conn:
        _serialize_claims(conn)
        rows = conn.execute(
            select(ReportJob.id, ReportJob.status, ReportJob.attempts).where(
                ReportJob.status.in_(("queued", "running")), ReportJob.created_at >= cutoff,
                or_(ReportJob.heartbeat_at < lost,
                    and_(ReportJob.heartbeat_at.is_(None), ReportJob.created_at < lost)))
            .order_by(ReportJob.id)
        ).all()
        again: list[int] = []
        for job_id, status, attempts in rows:
            if status == "running" and attempts >= MAX_ATTEMPTS:
                conn.execute(update(ReportJob).where(ReportJob.id == job_id, ReportJob.status == "running")
                             .values(status="failed", error=REPEATED_FAILURE, finished_at=now))
                continue
            conn.execute(update(ReportJob).where(ReportJob.id == job_id, ReportJob.status == status)
                         .values(status="queued", heartbeat_at=now))
            again.append(job_id)
    return again


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
    if period is not None and kind in RESULT_KINDS:
        total = require_respondents(session, unit, period)
    else:
        total = period_respondents(session, unit, period) if period is not None else 0
    prune_jobs(session, unit.id)
    job = ReportJob(unit_id=unit.id, period_id=period.id if period else None, kind=kind, status="queued",
                    total=total, filename=filename,
                    created_by_id=user.id if user else None)
    session.add(job)
    session.flush()
    return job


def create_import_job(session: Session, unit: Unit, user: Optional[User], filename: str, rows: int,
                      meta_path: str) -> ReportJob:
    """Queue the storing of a previewed import (flush only). `meta_path` is the claimed
    preview's description beside its bytes (admin/data.py); the worker imports them in one
    transaction together with marking the job done, and removes both files."""
    prune_jobs(session, unit.id)
    job = ReportJob(unit_id=unit.id, period_id=None, kind=IMPORT_KIND, status="queued", total=rows,
                    filename=filename[:200], file_path=meta_path, created_by_id=user.id if user else None)
    session.add(job)
    session.flush()
    return job


def _run_import(session: Session, job: ReportJob) -> None:
    """Store the previewed file of an import job: its rows and the job's "done" in one
    transaction, so a worker killed at any point leaves either both or neither, and a retry
    cannot store the file twice. Refusals end the job "failed" with the first reasons."""
    from skm.core.database import write_intent
    from skm.intake.importer import ImportRejected, import_previewed

    job_id, attempt = job.id, job.attempts  # this worker's claim
    meta_path = Path(job.file_path or "")
    data_path = meta_path.with_suffix(".bin")
    files = (meta_path, data_path)
    try:
        meta = json.loads(meta_path.read_text())
        content = data_path.read_bytes()
    except (OSError, ValueError):
        raise DomainError("berkas impor tidak ditemukan lagi; unggah berkasnya lagi") from None
    # Like the web request it replaces: take the SQLite write lock up front (no deferred upgrade).
    token = write_intent.set(True)
    try:
        session.rollback()
        unit = session.get(ReportJob, job_id).unit  # type: ignore[union-attr]
        batch = import_previewed(session, unit, meta["filename"], content, meta["create_services"],
                                 meta["fingerprint"], meta["channel"], meta.get("user_id"))
        mark_done = (update(ReportJob)
                     .where(ReportJob.id == job_id, ReportJob.status == "running", ReportJob.attempts == attempt)
                     .values(status="done", progress=batch.row_count, total=batch.row_count, file_path=None,
                             finished_at=utcnow(), heartbeat_at=utcnow()))
        done = cast(CursorResult, session.execute(mark_done))
        if not done.rowcount:  # recovered as lost and claimed by another worker meanwhile: theirs
            session.rollback()
            return
        session.commit()
    except ImportRejected as exc:
        session.rollback()
        _remove(files)
        reasons = "; ".join(exc.errors[:3])
        raise DomainError(f"impor ditolak, tidak ada data yang disimpan: {reasons}"[:290]) from None
    finally:
        write_intent.reset(token)
    _remove(files)


def _remove(paths) -> None:
    for path in paths:
        try:
            path.unlink()
        except OSError:
            pass


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


def _caps(app) -> tuple[int, int, dt.timedelta]:
    return (int(app.config.get("REPORT_JOBS_MAX_PER_UNIT", DEFAULT_MAX_PER_UNIT)),
            int(app.config.get("REPORT_JOBS_MAX_TOTAL", DEFAULT_MAX_TOTAL)),
            dt.timedelta(seconds=float(app.config.get("REPORT_JOB_LOST_SECONDS", LOST_AFTER.total_seconds()))))


def run_report_task(app, job_id: int) -> str:
    """The queue task of a report job (skm.queue): claim it within the caps and render it;
    when the caps hold it back, ask again a little later. Idempotent: a job already done,
    failed or running in a live worker is left alone, so a repeated or recovered task
    completes a job exactly once."""
    from skm.extensions import db
    from skm.queue import CAPPED_DELAY_SECONDS, get_queue

    max_per_unit, max_total, lost_after = _caps(app)
    with app.app_context():
        outcome = claim_job(db.engine, job_id, max_per_unit, max_total, lost_after)
    if outcome == "wait":
        delay = float(app.config.get("QUEUE_CAPPED_DELAY", CAPPED_DELAY_SECONDS))
        get_queue(app).enqueue("report_job", job_id, delay=delay)
    elif outcome == "claimed":
        run_job(app, job_id)
    return outcome


def run_job(app, job_id: int) -> None:
    """Make one claimed job's file (a PDF, or an export) with its own session, beating its
    heartbeat while it runs."""
    from skm.extensions import db
    from skm.reports.render import build

    _max_unit, _max_total, lost_after = _caps(app)
    beat_every = max(0.2, lost_after.total_seconds() / 4)
    # Outside a request and the CLI, skm.database opens deferred (read) transactions on
    # SQLite, so the long read of a big period never holds the write lock kiosks need;
    # the progress updates are short write-only transactions of their own.
    with app.app_context():
        session = db.session
        job = session.get(ReportJob, job_id)
        if job is None:
            return

        engine = db.engine  # the heartbeat thread has no app context
        attempt = job.attempts  # this worker's claim

        def set_fields(**values):
            # Only while the job is ours: a job recovered as lost and claimed again elsewhere
            # (a later attempt) is not overwritten by a worker that was merely slow.
            with engine.begin() as conn:
                conn.execute(update(ReportJob).where(ReportJob.id == job_id, ReportJob.status == "running",
                                                     ReportJob.attempts == attempt)
                             .values(heartbeat_at=utcnow(), **values))

        stop = threading.Event()

        def heartbeat():
            while not stop.wait(beat_every):
                try:
                    set_fields()
                except Exception:  # noqa: BLE001 - the next beat tries again
                    log.exception("heartbeat of report job %s failed", job_id)

        beater = threading.Thread(target=heartbeat, name=f"report-job-{job_id}-beat", daemon=True)
        beater.start()
        try:
            out_dir = Path(app.instance_path) / "reports"
            out_dir.mkdir(parents=True, exist_ok=True)
            if job.kind == IMPORT_KIND:
                _run_import(session(), job)
                return
            target = out_dir / f"job-{job_id}.{file_type(job.kind)[0]}"
            unit, period = job.unit, job.period
            last = [0]

            def progress(rows: int):
                # At most ~20 updates per job.
                if job.total and rows - last[0] >= max(200, job.total // 20):
                    last[0] = rows
                    set_fields(progress=rows)

            if is_export(job.kind):
                assert period is not None, "exports are of a period"
                builder = export_builders()[job.kind][0]
                raw = job.kind.startswith("responden.")  # these report progress per row
                data = builder(session, unit, period, progress=progress) if raw else builder(session, unit, period)
            else:
                data = build(job.kind, session, unit, period, progress=progress)
            tmp = target.with_suffix(f".{os.getpid()}.part")
            tmp.write_bytes(data)
            os.replace(tmp, target)
            session.rollback()
            stop.set()
            beater.join()
            set_fields(status="done", progress=job.total, file_path=str(target), finished_at=utcnow())
        except Exception as exc:  # noqa: BLE001 - any failure must end in a visible state
            # The details (paths, library messages) go to the log; the page gets Indonesian text.
            log.exception("report job %s failed", job_id)
            session.rollback()
            stop.set()
            beater.join()
            set_fields(status="failed", error=failure_text(exc), finished_at=utcnow())
        finally:
            stop.set()
            db.session.remove()


def failure_text(exc: BaseException) -> str:
    """What the job page says about a failure: a DomainError's own (Indonesian, meant for
    users) message, otherwise a fixed sentence; never the exception's text."""
    if isinstance(exc, DomainError):
        return str(exc).rstrip(". ")[:300] or GENERIC_FAILURE
    return GENERIC_FAILURE


def launch(app, job_id: int) -> None:
    """Hand a committed job to the queue (skm.queue); the worker claims and renders it."""
    from skm.queue import get_queue

    get_queue(app).enqueue("report_job", job_id)
