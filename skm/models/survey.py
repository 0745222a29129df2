"""Units, services, questionnaires, periods, responses and their answers."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy import (
    false as sa_false,
)
from sqlalchemy import (
    true as sa_true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from skm.core.clock import utcnow
from skm.extensions import Model, db


class Unit(Model):
    __tablename__ = "unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    city: Mapped[str] = mapped_column(String(100), default="")  # place in signature blocks
    timezone: Mapped[str] = mapped_column(String(4), default="WIB")
    head_name: Mapped[str] = mapped_column(String(200), default="")
    head_position: Mapped[str] = mapped_column(String(200), default="")
    head_rank: Mapped[str] = mapped_column(String(200), default="")
    head_nip: Mapped[str] = mapped_column(String(30), default="")
    logo_path: Mapped[Optional[str]] = mapped_column(String(300))
    intro_text: Mapped[str] = mapped_column(Text, default="")  # report chapter I, reused
    # Kiosk settings
    kiosk_pin_hash: Mapped[Optional[str]] = mapped_column(String(300))
    kiosk_show_ikm: Mapped[bool] = mapped_column(Boolean, default=False)
    idle_seconds: Mapped[int] = mapped_column(Integer, default=60)
    thanks_seconds: Mapped[int] = mapped_column(Integer, default=8)
    min_survey_seconds: Mapped[int] = mapped_column(Integer, default=8)
    ask_suggestion_on_low: Mapped[bool] = mapped_column(Boolean, default=False)
    # Profile items the unit asks
    ask_gender: Mapped[bool] = mapped_column(Boolean, default=True)
    ask_age: Mapped[bool] = mapped_column(Boolean, default=True)
    ask_education: Mapped[bool] = mapped_column(Boolean, default=True)
    ask_occupation: Mapped[bool] = mapped_column(Boolean, default=True)
    # Lower bounds of the age bands, comma separated: "17,24,30,41" -> 17–23, 24–29, 30–40, > 40
    age_bands: Mapped[str] = mapped_column(String(100), default="17,24,30,41")
    rtl_priority_count: Mapped[int] = mapped_column(Integer, default=3)
    # The public online survey (/survei/<code>): on by default, a unit may switch it off.
    online_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    services: Mapped[list[Service]] = relationship(
        back_populates="unit", order_by="Service.name"
    )
    questionnaires: Mapped[list[Questionnaire]] = relationship(
        back_populates="unit", order_by="Questionnaire.version"
    )

    @property
    def current_questionnaire(self) -> Optional[Questionnaire]:
        return self.questionnaires[-1] if self.questionnaires else None

    @property
    def age_band_bounds(self) -> list[int]:
        return [int(x) for x in self.age_bands.split(",") if x.strip()]


class Service(Model):
    """A jenis layanan; retired services keep their responses."""

    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("unit_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    retired_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    unit: Mapped[Unit] = relationship(back_populates="services")

    @property
    def active(self) -> bool:
        return self.retired_at is None


class Questionnaire(Model):
    """One version of a unit's questionnaire; the highest version is current."""

    __tablename__ = "questionnaire"
    __table_args__ = (UniqueConstraint("unit_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    unit: Mapped[Unit] = relationship(back_populates="questionnaires")
    elements: Mapped[list[Element]] = relationship(
        back_populates="questionnaire", order_by="Element.position"
    )


class Element(Model):
    """An unsur pelayanan as asked in one questionnaire version."""

    __tablename__ = "element"
    __table_args__ = (UniqueConstraint("questionnaire_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"), index=True)
    code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    label1: Mapped[str] = mapped_column(String(100))
    label2: Mapped[str] = mapped_column(String(100))
    label3: Mapped[str] = mapped_column(String(100))
    label4: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    questionnaire: Mapped[Questionnaire] = relationship(back_populates="elements")

    @property
    def labels(self) -> list[str]:
        return [self.label1, self.label2, self.label3, self.label4]


class Period(Model):
    """A reporting period shared by every unit of the installation."""

    __tablename__ = "period"
    __table_args__ = (CheckConstraint("start_date <= end_date", name="dates_ordered"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    population: Mapped[Optional[int]] = mapped_column(Integer)  # default for every unit


class PeriodUnit(Model):
    """Per-unit state of a period: population for the sample-size check, closing."""

    __tablename__ = "period_unit"
    __table_args__ = (UniqueConstraint("period_id", "unit_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    population: Mapped[Optional[int]] = mapped_column(Integer)
    closed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    closed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))


class ImportBatch(Model):
    __tablename__ = "import_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    row_count: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))


class Response(Model):
    """One respondent's questionnaire."""

    __tablename__ = "response"
    __table_args__ = (
        CheckConstraint("channel IN ('kiosk','paper','import','online')", name="channel"),
        CheckConstraint("gender IS NULL OR gender IN ('L','P')", name="gender"),
        CheckConstraint("age IS NULL OR (age >= 10 AND age <= 120)", name="age"),
        # Covers the one GROUP BY that gives a period's counts and profile (skm.results).
        Index("ix_response_unit_date", "unit_id", "survey_date", "excluded", "flagged", "questionnaire_id",
              "service_id", "gender", "education", "occupation", "age"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    service_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service.id"), index=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"))
    channel: Mapped[str] = mapped_column(String(10))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)  # UTC
    survey_date: Mapped[dt.date] = mapped_column(Date)  # in the unit's time zone
    survey_time: Mapped[Optional[dt.time]] = mapped_column(Time)  # in the unit's time zone
    time_slot: Mapped[Optional[str]] = mapped_column(String(20))  # "08.00-12.00"
    gender: Mapped[Optional[str]] = mapped_column(String(1))
    age: Mapped[Optional[int]] = mapped_column(SmallInteger)
    education: Mapped[Optional[str]] = mapped_column(String(20))
    occupation: Mapped[Optional[str]] = mapped_column(String(20))
    occupation_other: Mapped[Optional[str]] = mapped_column(String(200))
    suggestion: Mapped[Optional[str]] = mapped_column(Text)
    # Kiosk: the survey's one-time token makes a repeated submit store nothing twice.
    token: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    device_id: Mapped[Optional[int]] = mapped_column(ForeignKey("device.id"), index=True)
    duration_seconds: Mapped[Optional[int]] = mapped_column(Integer)
    import_batch_id: Mapped[Optional[int]] = mapped_column(ForeignKey("import_batch.id"), index=True)
    # Online: the one-time ticket it was made with ("terverifikasi"); NULL otherwise.
    ticket_id: Mapped[Optional[int]] = mapped_column(ForeignKey("survey_ticket.id"), unique=True)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_reason: Mapped[Optional[str]] = mapped_column(String(200))
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    # A flagged kiosk response waits for review: stored and shown on the flagged-review
    # page, but `excluded` (on the response and its answers) until a manager accepts it
    # ("terima": counted) or excludes it ("kecualikan"); either decision ends the quarantine.
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    service: Mapped[Optional[Service]] = relationship()
    questionnaire: Mapped[Questionnaire] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class Answer(Model):
    """One rating. Unit, service, date and exclusion are copied from the response so
    that period results are one index-only GROUP BY over this table."""

    __tablename__ = "answer"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 4", name="rating_range"),
        UniqueConstraint("response_id", "element_id"),
        # Period results seek each element's date range and read ratings from the index
        # alone, in element order, so the GROUP BY needs no sort (see skm.results).
        Index("ix_answer_scoring", "unit_id", "excluded", "element_id", "survey_date", "rating"),
        Index("ix_answer_service_scoring", "service_id", "excluded", "element_id", "survey_date", "rating"),
        Index("ix_answer_response", "response_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    element_id: Mapped[int] = mapped_column(ForeignKey("element.id"))
    rating: Mapped[int] = mapped_column(SmallInteger)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    service_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service.id"))
    survey_date: Mapped[dt.date] = mapped_column(Date)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)

    response: Mapped[Response] = relationship(back_populates="answers")
    element: Mapped[Element] = relationship()


user_unit = Table(
    "user_unit",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True),
)
