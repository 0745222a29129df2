"""Tables added by the admin area: login throttling, period closing audit, alert rules."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from skm.core.clock import utcnow
from skm.extensions import Model


class LoginThrottle(Model):
    """Failed logins per key ("user:<name>" or "ip:<address>"), kept in the database so
    every worker process sees the same counter."""

    __tablename__ = "login_throttle"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    blocked_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)


class PeriodUnitLog(Model):
    """Who closed or reopened a unit's period, and when."""

    __tablename__ = "period_unit_log"
    __table_args__ = (CheckConstraint("action IN ('close','reopen')", name="action"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    action: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(300), default="")


class AlertRule(Model):
    """Per unit: warn when at least share_percent % of the responses in the last
    window_minutes rated one element at most max_rating, with at least min_responses."""

    __tablename__ = "alert_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    window_minutes: Mapped[int] = mapped_column(Integer, default=15)
    min_responses: Mapped[int] = mapped_column(Integer, default=4)
    share_percent: Mapped[int] = mapped_column(Integer, default=50)
    max_rating: Mapped[int] = mapped_column(Integer, default=2)


class StoredAlert(Model):
    """An alert episode as last computed by the queue worker (skm.scoring.analytics.refresh_alerts);
    pages read these rows instead of scanning the responses on every view."""

    __tablename__ = "stored_alert"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(300))
    start: Mapped[dt.datetime] = mapped_column(DateTime)  # unit time, like analytics.Alert
    end: Mapped[dt.datetime] = mapped_column(DateTime)
    low: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)


class AlertState(Model):
    """When a unit's alerts were last computed and over which data (`marker`: responses in
    the window and the rule), so the worker recomputes only after something changed."""

    __tablename__ = "alert_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), unique=True)
    marker: Mapped[str] = mapped_column(String(200), default="")
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
