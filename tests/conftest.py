"""Fixtures: a fresh database per test, on SQLite or (DATABASE_URL) PostgreSQL."""
from __future__ import annotations

import os
import shutil
import threading

import pytest
from sqlalchemy import text

from skm import create_app
from skm.extensions import db as _db

IN_CI = os.environ.get("CI") == "true"
PG_URL = os.environ.get("DATABASE_URL", "")
# Screenshots and PDF pages; the PostgreSQL run writes its own (SKM_TEST_ARTIFACTS, Makefile):
# both suites run at once under CI, and some tests read back the PDF they wrote.
ARTIFACTS = os.environ.get("SKM_TEST_ARTIFACTS") or os.path.join(os.path.dirname(__file__), "artifacts")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

_pg_sequences: list[str] | None = None  # set once the schema is made


def _fresh_postgres(app):
    """The schema once per run, then empty tables and ids from 1 for each test. DELETE (children
    first) and setval rather than TRUNCATE … RESTART IDENTITY: TRUNCATE gives every table and
    index new files (and fsyncs them), ~1 s a test here against ~0.1 s for these few rows."""
    global _pg_sequences
    with app.app_context():
        if _pg_sequences is None:
            _db.drop_all()
            with _db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            _db.create_all()
            with _db.engine.begin() as conn:
                _pg_sequences = list(conn.scalars(text(
                    "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind = 'S' AND n.nspname = current_schema()")))
        else:
            with _db.engine.begin() as conn:
                for table in reversed(_db.metadata.sorted_tables):
                    conn.execute(table.delete())
                for sequence in _pg_sequences:
                    conn.execute(text("SELECT setval(:sequence, 1, false)"), {"sequence": sequence})


@pytest.fixture(scope="session")
def static_build(tmp_path_factory):
    """One build folder of versioned static files for the whole run (skm.static_files): the
    copies are written once, not for every test's fresh instance folder."""
    return tmp_path_factory.mktemp("static-build")


@pytest.fixture
def app(tmp_path, static_build):
    # A CLI command run through CliRunner marks this thread as a writer for good (the CLI
    # group sets it, a real CLI process then exits): start every test as a plain script.
    from skm.core.database import write_intent

    write_intent.set(False)
    instance = tmp_path / "instance"
    instance.mkdir()
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "UPLOAD_FOLDER": str(instance / "uploads"),
        "SECURE_COOKIES": False,
        "STATIC_BUILD_FOLDER": str(static_build),
    }
    if PG_URL:
        config["SQLALCHEMY_DATABASE_URI"] = PG_URL
    else:
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'test.sqlite3'}"
    os.environ["SKM_INSTANCE_PATH"] = str(instance)
    app = create_app(config)
    if PG_URL:
        _fresh_postgres(app)
    else:
        with app.app_context():
            _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db
        _db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def no_csrf(app):
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.fixture
def live_server(app):
    """The app served over HTTP in a thread, for the browser."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail("chromium is required under CI=true")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def artifacts():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def queue_consumer(app):
    """The app's queue worker (skm.queue: the same Huey consumer `skm worker` runs), as threads
    of this process for the length of a test; the worker process itself is tested in
    test_queue_worker.py."""
    import signal

    from skm.queue import get_queue

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer = get_queue(app).huey.create_consumer(workers=1, worker_type="thread", periodic=False,
                                                   check_worker_health=False)
    consumer.start()
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)
        for sig, handler in saved.items():
            signal.signal(sig, handler)
