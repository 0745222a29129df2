"""The floor of a kiosk step: a minimal Flask + SQLAlchemy app doing only what answering one
tap cannot avoid (issue 14).

POST /floor/s/<token>/<step> (value=...):
  1. find the device by the SHA-256 of its cookie credential (one indexed SELECT),
  2. read the survey's row by its token and check it belongs to that device,
  3. write the answer into the row's JSON and commit (one UPDATE, one COMMIT),
  4. render a cached (compiled once) Jinja template producing the same HTML as the kiosk's
     screen: the real kiosk screen captured once, with the survey token and the CSRF value
     as its only variables.

No CSRF check, no Flask session, no validation, no step order: the kiosk's cost above this
floor is what those (and everything else) add. Its own two tables (floor_device,
floor_survey) live in the same database as the kiosk's, and on SQLite it uses the kiosk's
connection setup (WAL, busy timeout, BEGIN IMMEDIATE for a POST: skm.core.database), so
both pay the same database price. bench/bench_kiosk.py runs it beside a full kiosk survey.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import Flask, abort, render_template, request
from jinja2 import DictLoader
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, MetaData, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

COOKIE = "skm_kiosk"


class FloorBase(DeclarativeBase):
    metadata = MetaData()


class FloorDevice(FloorBase):
    __tablename__ = "floor_device"
    id: Mapped[int] = mapped_column(primary_key=True)
    credential_hash: Mapped[str] = mapped_column(String(128), unique=True)


class FloorSurvey(FloorBase):
    __tablename__ = "floor_survey"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    device_id: Mapped[int] = mapped_column(Integer, ForeignKey("floor_device.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    answers: Mapped[dict] = mapped_column(JSON)


def template_from(html: str, token: str, csrf: str) -> str:
    """A Jinja template giving back `html` with the token and CSRF value as variables."""
    def raw(part: str) -> str:
        return "{% raw %}" + part + "{% endraw %}" if part else ""

    pieces = []
    for i, chunk in enumerate(html.split(token)):
        if i:
            pieces.append("{{ token }}")
        pieces.append("{{ csrf }}".join(raw(p) for p in chunk.split(csrf)))
    return "".join(pieces)


def create_floor_app(url: str, screen: str, token: str, csrf: str) -> Flask:
    """The floor app on database `url` (tables created if missing), answering with `screen`
    (a kiosk screen's HTML, whose survey token and CSRF value are `token` and `csrf`)."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        from skm.core.database import configure_sqlite

        configure_sqlite(engine)
    FloorBase.metadata.create_all(engine)
    Session = sessionmaker(engine)
    app = Flask(__name__)
    app.jinja_loader = DictLoader({"screen.html": template_from(screen, token, csrf)})
    app.config["FLOOR_ENGINE"] = engine
    app.config["FLOOR_SESSION"] = Session

    @app.post("/floor/s/<token>/<step>")
    def step(token: str, step: str):
        raw = request.cookies.get(COOKIE) or ""
        with Session() as session:
            device = session.scalar(select(FloorDevice).where(
                FloorDevice.credential_hash == hashlib.sha256(raw.encode()).hexdigest()))
            if device is None:
                abort(403)
            survey = session.scalar(select(FloorSurvey).where(FloorSurvey.token == token))
            if survey is None or survey.device_id != device.id:
                abort(404)
            answers = survey.answers
            survey.answers = {**answers, "values": {**answers.get("values", {}), step: request.form.get("value")},
                              "at": step}
            survey.updated_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            session.commit()
        return render_template("screen.html", token=token, csrf=csrf)

    return app


def add_floor_survey(app: Flask) -> tuple[str, str]:
    """A paired floor device with one survey: (raw credential, survey token)."""
    raw, token = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    with app.config["FLOOR_SESSION"]() as session:
        device = FloorDevice(credential_hash=hashlib.sha256(raw.encode()).hexdigest())
        session.add(device)
        session.flush()
        session.add(FloorSurvey(token=token, device_id=device.id, updated_at=dt.datetime(2000, 1, 1),
                                answers={"q": 1, "steps": [], "values": {}}))
        session.commit()
    return raw, token


def drop_floor(app: Flask) -> None:
    engine = app.config["FLOOR_ENGINE"]
    FloorBase.metadata.drop_all(engine)
    engine.dispose()
