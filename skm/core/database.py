"""Engine setup: SQLite pragmas and write transactions that take the lock up front."""
from __future__ import annotations

import logging
import threading
import time
import weakref
from contextvars import ContextVar

from flask import g, has_request_context, request
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Set by the operator CLI: its commands write while the kiosk may be writing too.
write_intent: ContextVar[bool] = ContextVar("skm_write_intent", default=False)


def _wants_write_lock() -> bool:
    # A request that may write (any unsafe method) or an operator CLI command takes the write
    # lock when its transaction begins; a deferred read-then-write transaction
    # otherwise fails with "database is locked" when two of them race (9,7 % of
    # such requests failed under load without it). Plain scripts and tests default to
    # deferred transactions so that an idle read does not hold the write lock.
    if has_request_context():
        # After the request's one commit (views commit once) only rendering is left: its
        # lazy loads read in a deferred transaction instead of taking the write lock again.
        return request.method not in SAFE_METHODS and not g.get("skm_committed", False)
    return write_intent.get()


@event.listens_for(Session, "after_commit")
def _after_commit(_session) -> None:
    if has_request_context():
        g.skm_committed = True


def keep_loaded_after_commit(session: Session) -> None:
    """This request's commit keeps what it loaded (no expiry): a kiosk view commits once and
    then renders the next screen from the rows it has just read and written, without reading
    them again (a reload was most of a step's queries). Undone by forget_loaded()."""
    session.expire_on_commit = False


def forget_loaded(session: Session) -> None:
    """End of such a request: back to expiring on commit, and nothing loaded outlives it
    unexpired (a session that lives on, as in tests, reads fresh rows next time)."""
    session.expire_on_commit = True
    session.expire_all()


def configure_sqlite(engine: Engine, checkpoint_seconds: float = 0) -> None:
    """SQLite pragmas and BEGIN IMMEDIATE for writers. With `checkpoint_seconds` (the server
    sets it: gunicorn.conf.py), the WAL is copied back into the database file by a background
    thread of this process every so many seconds, never by a request's commit."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Writers wait for the lock rather than fail. SQLite's busy handler polls, it does not
        # queue: under many concurrent writers (tests/test_reliability.py on a loaded 2-core
        # machine) a waiter was seen to give up after 10 s with "database is locked" (a 500).
        # 30 s stays well below gunicorn's 120 s timeout.
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if checkpoint_seconds:
            # Otherwise the commit that takes the WAL past 1000 pages runs the checkpoint (copy
            # and fsync) itself, holding up that request and every writer queued behind it.
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    if checkpoint_seconds:
        _start_checkpointer(engine, checkpoint_seconds)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() else "BEGIN")


def serialize_run(session: Session, key: int) -> None:
    """Let one transaction at a time past this point for `key` (a periodic task that several
    queue workers may run at once): on PostgreSQL a transaction advisory lock, released at
    commit or when a killed worker's connection drops. SQLite has one writer anyway; a
    second run that loses the race fails on its write and the next run repeats it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def checkpoint(engine: Engine) -> tuple:
    """One passive WAL checkpoint (never waits for readers or writers):
    (busy, WAL frames, frames copied into the database)."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        row = tuple(cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
        cursor.close()
        return row
    finally:
        connection.close()


def _start_checkpointer(engine: Engine, seconds: float) -> None:
    """A daemon thread checkpointing the engine's database every `seconds` while the engine
    lives (under gunicorn each worker has its own; a second one at the same moment is busy
    and simply skips)."""
    ref = weakref.ref(engine)

    def run() -> None:
        while True:
            time.sleep(seconds)
            target = ref()
            if target is None:
                return
            try:
                checkpoint(target)
            except Exception:  # noqa: BLE001 - a failed checkpoint is retried next time
                logging.getLogger(__name__).warning("WAL checkpoint failed", exc_info=True)
            del target

    threading.Thread(target=run, name="skm-wal-checkpoint", daemon=True).start()
