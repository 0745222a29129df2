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


def _begins(app, method, commit_first=False):
    """The BEGIN statements a request of this method issues (reading twice around a commit)."""
    seen = []

    def record(conn, cursor, statement, *args):
        if statement.startswith("BEGIN"):
            seen.append(statement)

    with app.app_context():
        event.listen(_db.engine, "before_cursor_execute", record)
        try:
            with app.test_request_context("/", method=method):
                _db.session.execute(select(Unit)).all()
                if commit_first:
                    _db.session.commit()
                    _db.session.execute(select(Unit)).all()  # rendering after the one commit
                _db.session.rollback()
        finally:
            event.remove(_db.engine, "before_cursor_execute", record)
    return seen


def test_post_begins_immediate_and_get_deferred(app):
    assert _begins(app, "POST") == ["BEGIN IMMEDIATE"]
    assert _begins(app, "GET") == ["BEGIN"]


def test_after_the_commit_a_write_request_renders_without_the_lock(app):
    assert _begins(app, "POST", commit_first=True) == ["BEGIN IMMEDIATE", "BEGIN"]


def test_wal_and_busy_timeout(app):
    with app.app_context():
        with _db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_concurrent_read_then_write_requests_all_succeed(app):
    """Eight threads each read a counter and write it back: no 'database is locked'."""
    from skm.survey.units import create_unit

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
    from skm.survey.units import create_unit

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


def test_restore_from_backup_gives_the_same_results(app, runner, tmp_path, monkeypatch):
    """Back up while a session holds a read transaction, restore into a new app: same figures."""
    import datetime as dt

    from skm import create_app
    from skm.scoring.results import Scope, compute_results
    from tests.factories import make_response, make_unit

    with app.app_context():
        unit = make_unit(_db.session, "PULIH", "Unit Pulih")
        for ratings in ([4, 3, 3, 4, 3, 4, 4, 2, 3], [3, 3, 2, 4, 3, 3, 4, 2, 2], [4] * 9):
            make_response(_db.session, unit, ratings)
        _db.session.commit()
        scope = Scope(unit.id, dt.date(2023, 7, 1), dt.date(2023, 9, 30))
        before = compute_results(_db.session, scope, unit)
        # a reader mid-transaction, as a busy dashboard would be
        _db.session.execute(select(Unit)).all()
        target = tmp_path / "cadangan.sqlite3"
        assert runner.invoke(args=["skm", "backup", str(target)]).exit_code == 0
        _db.session.rollback()
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    monkeypatch.setenv("SKM_INSTANCE_PATH", str(restored_dir))
    restored = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{target}"})
    with restored.app_context():
        unit = _db.session.scalar(select(Unit).where(Unit.code == "PULIH"))
        after = compute_results(_db.session, Scope(unit.id, scope.start, scope.end), unit)
        assert after.respondents == before.respondents == 3
        assert after.scores.ikm == before.scores.ikm
        assert [e.nrr for e in after.scores.elements] == [e.nrr for e in before.scores.elements]
        _db.engine.dispose()
