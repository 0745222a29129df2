"""SQLite: WAL, busy timeout, and write requests that take the lock when they begin."""
import sqlite3
import threading

import pytest
from sqlalchemy import event, select, text

from skm.extensions import db as _db
from skm.models import Unit



@pytest.fixture
def app(tmp_path, monkeypatch):
    """Always SQLite, also in the PostgreSQL run: these are the SQLite engine settings."""
    from skm import create_app

    monkeypatch.setenv("SKM_INSTANCE_PATH", str(tmp_path))
    app = create_app({"TESTING": True, "SECRET_KEY": "t",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'lite.sqlite3'}"})
    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.engine.dispose()


def _begins(app, method):
    seen = []

    def record(conn, cursor, statement, *args):
        if statement.startswith("BEGIN"):
            seen.append(statement)

    with app.app_context():
        event.listen(_db.engine, "before_cursor_execute", record)
        try:
            with app.test_request_context("/", method=method):
                _db.session.execute(select(Unit)).all()
                _db.session.rollback()
        finally:
            event.remove(_db.engine, "before_cursor_execute", record)
    return seen


def test_post_begins_immediate_and_get_deferred(app):
    assert _begins(app, "POST") == ["BEGIN IMMEDIATE"]
    assert _begins(app, "GET") == ["BEGIN"]


def test_wal_and_busy_timeout(app):
    with app.app_context():
        with _db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_concurrent_read_then_write_requests_all_succeed(app):
    """Eight threads each read a counter and write it back: no 'database is locked'."""
    from skm.units import create_unit

    with app.app_context():
        create_unit(_db.session, "RACE", "Unit Balapan", idle_seconds=0)
        _db.session.commit()

    @app.post("/_test/increment")
    def increment():
        unit = _db.session.scalar(select(Unit).where(Unit.code == "RACE"))
        unit.idle_seconds = unit.idle_seconds + 1
        _db.session.commit()
        return "ok"

    app.config["WTF_CSRF_ENABLED"] = False
    errors = []

    def worker():
        client = app.test_client()
        for _ in range(10):
            response = client.post("/_test/increment")
            if response.status_code != 200:
                errors.append(response.status_code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        assert _db.session.scalar(select(Unit.idle_seconds).where(Unit.code == "RACE")) == 80


def test_backup_command_copies_a_live_database(app, runner, tmp_path):
    from skm.units import create_unit

    with app.app_context():
        create_unit(_db.session, "BAK", "Unit Cadangan")
        _db.session.commit()
    target = tmp_path / "cadangan.sqlite3"
    out = runner.invoke(args=["skm", "backup", str(target)])
    assert out.exit_code == 0, out.output
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT code FROM unit").fetchall() == [("BAK",)]
    assert copy.execute("SELECT count(*) FROM element").fetchone()[0] == 9
    copy.close()
