"""Kiosk tables: paired tablets, surveys started on a tablet, and wrong-PIN attempts (shared by all workers)."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from skm.core.clock import utcnow
from skm.extensions import Model
from skm.models.survey import Service, Unit


class Device(Model):
    """A paired kiosk tablet."""

    __tablename__ = "device"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    service_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service.id"))
    name: Mapped[str] = mapped_column(String(100), default="")
    pairing_code: Mapped[Optional[str]] = mapped_column(String(32), unique=True)
    pairing_expires_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    credential_hash: Mapped[Optional[str]] = mapped_column(String(128), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    paired_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    last_seen_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    revoked_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # Surveys waiting in the tablet's outbox, as it last reported them (X-Kiosk-Outbox).
    outbox_size: Mapped[Optional[int]] = mapped_column(Integer)
    unit: Mapped[Unit] = relationship()
    service: Mapped[Optional[Service]] = relationship()




SURVEY_STATES = ("open", "finished", "abandoned")


class KioskSurvey(Model):
    """One survey started on a tablet (channel "kiosk", device_id set) or in a visitor's own
    browser (channel "online": the public survey /survei/<unit>, or a one-time ticket /t/<code>).
    Its token is the response's one-time token; the answers given so far live here between
    steps (never in process memory)."""

    __tablename__ = "kiosk_survey"
    __table_args__ = (
        Index("ix_kiosk_survey_unit_date", "unit_id", "survey_date", "status"),
        Index("ix_kiosk_survey_device_status", "device_id", "status"),
        Index("ix_kiosk_survey_browser_started", "browser_key", "started_at"),
        Index("ix_kiosk_survey_unit_channel_finished", "unit_id", "channel", "finished_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    device_id: Mapped[Optional[int]] = mapped_column(ForeignKey("device.id"))  # None online
    channel: Mapped[str] = mapped_column(String(10), default="kiosk", server_default="kiosk")
    # Online: SHA-256 of the browser's signed anonymous id (skm.online.survey); None on a tablet.
    browser_key: Mapped[Optional[str]] = mapped_column(String(64))
    ticket_id: Mapped[Optional[int]] = mapped_column(ForeignKey("survey_ticket.id"))
    # Online without a ticket, once finished: "<browser_key>:<service id>:<local date>", unique,
    # so the database itself refuses a second response per browser, service and day.
    daily_key: Mapped[Optional[str]] = mapped_column(String(100), unique=True)
    service_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service.id"))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)  # UTC
    survey_date: Mapped[dt.date] = mapped_column(Date)  # the unit's local date at start
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(10), default="open")
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    response_id: Mapped[Optional[int]] = mapped_column(ForeignKey("response.id", ondelete="SET NULL"))


class TicketAttempt(Model):
    """A wrong ticket code typed at /t by a browser; many lock that browser out for a while."""

    __tablename__ = "ticket_attempt"
    __table_args__ = (Index("ix_ticket_attempt_browser_at", "browser_key", "attempted_at"),
                      Index("ix_ticket_attempt_client_at", "client", "attempted_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    browser_key: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64), default="")
    attempted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class KioskPinAttempt(Model):
    """A wrong staff PIN typed on a tablet; recent ones lock the PIN pad for a while."""

    __tablename__ = "kiosk_pin_attempt"
    __table_args__ = (Index("ix_kiosk_pin_attempt_device_at", "device_id", "attempted_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    attempted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
