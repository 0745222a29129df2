"""SKM Kiosk: community satisfaction surveys, IKM scoring, follow-up and reports."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import flask_login
from flask import Flask

from skm.extensions import csrf, db, htmx, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _secret_key(instance_path: str) -> str:
    """The configured key, else one generated on first start and kept in instance/."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    # Several server workers may start at once on a fresh install: write a private temp
    # file, then link it into place atomically; whoever loses the race reads the winner's key.
    key = secrets.token_hex(32)
    tmp = path.with_name(f"secret_key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    try:
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        os.unlink(tmp)
    return key


def _make_files_private(app: Flask) -> None:
    from skm.core.files import make_private

    files = []
    uri = str(app.config["SQLALCHEMY_DATABASE_URI"])
    if uri.startswith("sqlite:///"):
        database = uri[len("sqlite:///"):].split("?")[0]
        files = [database, database + "-wal", database + "-shm"]
    upload = app.config.get("UPLOAD_FOLDER") or ""
    make_private([app.instance_path, upload, os.path.join(app.instance_path, "reports")], files)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("SKM_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI="sqlite:///" + os.path.join(app.instance_path, "skm.sqlite3"),
        SQLALCHEMY_ENGINE_OPTIONS={},
        UPLOAD_FOLDER=os.path.join(app.instance_path, "uploads"),
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        WTF_CSRF_TIME_LIMIT=3600,
        # Plain-HTTP LAN installs set SKM_SECURE_COOKIES=0.
        SECURE_COOKIES=True,
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("SKM")
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if config:
        app.config.update(config)
    if not str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        # A server connection may have been dropped while pooled: test it at checkout. (A
        # SQLite file cannot drop; the ping would only cost every request a statement.)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
    _make_files_private(app)
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config["SECURE_COOKIES"]) and not app.testing
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    # current_user in templates as Flask-Login's lazy proxy: the user is loaded only by a page
    # that uses it (its own context processor loads it for every render, kiosk screens too).
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(lambda: {"current_user": flask_login.current_user})
    login_manager.login_view = "admin.login"
    login_manager.login_message = "Silakan masuk terlebih dahulu."

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            from skm.core.database import configure_sqlite

            configure_sqlite(db.engine, checkpoint_seconds=float(app.config.get("SQLITE_CHECKPOINT_SECONDS") or 0))

    from skm import models  # noqa: F401  (register tables)
    from skm.web import register_web

    register_web(app)

    from admin import bp as admin_bp
    from kiosk import bp as kiosk_bp
    from kiosk import online_bp

    app.register_blueprint(kiosk_bp)
    app.register_blueprint(online_bp)
    from kiosk.qr import bp as qr_bp

    app.register_blueprint(qr_bp)
    app.register_blueprint(admin_bp)

    from skm.static_files import install as install_static_files

    install_static_files(app)

    from skm.queue import init_queue

    init_queue(app)

    from skm.cli import skm_cli

    app.cli.add_command(skm_cli)
    return app
