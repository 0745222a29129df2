"""The migrations build the same schema as the models, on SQLite and PostgreSQL."""
import os

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from skm import create_app
from skm.extensions import db


def test_migrations_match_models(tmp_path, monkeypatch):
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'm.sqlite3'}"
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migtest CASCADE"))
            conn.execute(text("CREATE SCHEMA migtest"))
        engine.dispose()
        url_opts = {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": "-csearch_path=migtest"}}}
    else:
        url_opts = {}
    monkeypatch.setenv("SKM_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", **url_opts})
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], diff
        assert "answer" in inspect(db.engine).get_table_names()
        downgrade(directory=directory, revision="base")
        assert "answer" not in inspect(db.engine).get_table_names()
        db.engine.dispose()
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migtest CASCADE"))
        engine.dispose()
