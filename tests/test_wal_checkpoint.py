"""SQLite under the server: the WAL is checkpointed by a background thread, not by a request's
commit (issue 14, the tail of kiosk step latency under gunicorn). SQLite in every run (its
own database file, whatever DATABASE_URL says)."""
from __future__ import annotations

import os
import time

from sqlalchemy import text

from skm import create_app
from skm.core.database import checkpoint
from skm.extensions import db


def _app(tmp_path, **config):
    os.environ["SKM_INSTANCE_PATH"] = str(tmp_path)
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/t.sqlite3",
                      **config})
    with app.app_context():
        db.create_all()
    return app


def test_server_connections_leave_the_checkpoint_to_the_background_thread(tmp_path):
    app = _app(tmp_path, SQLITE_CHECKPOINT_SECONDS=0.2)
    with app.app_context():
        assert db.session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
        db.session.execute(text("CREATE TABLE filler (x TEXT)"))
        for _ in range(50):
            db.session.execute(text("INSERT INTO filler VALUES (:x)"), {"x": "x" * 4000})
        db.session.commit()
        db.session.remove()
        path = tmp_path / "t.sqlite3"
        deadline = time.monotonic() + 10
        while path.stat().st_size < 200_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        # ~50 pages: far below the 1000 pages of an autocheckpoint, so the thread copied them.
        assert path.stat().st_size >= 200_000
        busy, frames, copied = checkpoint(db.engine)
        assert busy == 0 and copied == frames
        db.engine.dispose()


def test_without_the_setting_sqlite_checkpoints_as_usual(tmp_path):
    app = _app(tmp_path)
    with app.app_context():
        assert db.session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
        db.session.remove()
        db.engine.dispose()
