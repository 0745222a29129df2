"""Publication of a unit's closed periods: opt-out, withdrawals and their audit trail.

A unit's period is public when it is closed (PeriodUnit.closed_at), the unit has not
opted out, and it was not withdrawn after that closing (see skm.survey.publication).
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from skm.core.clock import utcnow
from skm.extensions import Model

PUBLICATION_ACTIONS = ("withdraw", "republish", "opt_out", "opt_in", "pick", "unpick")


class PublicationOptOut(Model):
    """A unit that does not publish its results (one row per opted-out unit)."""

    __tablename__ = "publication_opt_out"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), unique=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))


class PublicationWithdrawal(Model):
    """A publication withdrawn by the unit; a later closing of the period publishes it again."""

    __tablename__ = "publication_withdrawal"
    __table_args__ = (UniqueConstraint("period_id", "unit_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))


class PublishedSuggestion(Model):
    """A suggestion the unit picked for its public page (shown only while its period is published)."""

    __tablename__ = "published_suggestion"
    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))


class PublicationLog(Model):
    """Who withdrew, republished, opted out or back in, picked a suggestion, when, and why."""

    __tablename__ = "publication_log"
    __table_args__ = (
        CheckConstraint("action IN ('withdraw','republish','opt_out','opt_in','pick','unpick')", name="action"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    period_id: Mapped[Optional[int]] = mapped_column(ForeignKey("period.id"))
    action: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(300), default="")
