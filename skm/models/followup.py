"""Follow-up plans (Rencana Tindak Lanjut): priorities, actions, photos and their history."""
from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Optional

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from skm.core.clock import utcnow
from skm.extensions import Model
from skm.models.accounts import User
from skm.models.survey import Period, Unit

ACTION_STATUSES = ("belum", "sudah")


class FollowUpPlan(Model):
    """One unit's plan for one period; editable until `final`."""

    __tablename__ = "followup_plan"
    __table_args__ = (UniqueConstraint("unit_id", "period_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"), index=True)
    forum_date: Mapped[Optional[dt.date]] = mapped_column(Date)  # Forum Konsultasi Publik
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    finalized_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    finalized_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))

    unit: Mapped[Unit] = relationship()
    period: Mapped[Period] = relationship()
    priorities: Mapped[list[FollowUpPriority]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="FollowUpPriority.position"
    )
    history: Mapped[list[FollowUpHistory]] = relationship(
        order_by="FollowUpHistory.id", viewonly=True
    )

    @property
    def actions(self) -> list[FollowUpAction]:
        return [a for p in self.priorities for a in p.actions]


class FollowUpPriority(Model):
    """A priority element, with its NRR as it stood when the plan was made (exact: total/count)."""

    __tablename__ = "followup_priority"
    __table_args__ = (UniqueConstraint("plan_id", "element_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("followup_plan.id", ondelete="CASCADE"), index=True)
    element_code: Mapped[str] = mapped_column(String(10))
    element_name: Mapped[str] = mapped_column(String(200))
    rating_total: Mapped[int] = mapped_column(Integer, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    grade: Mapped[str] = mapped_column(String(1), default="")
    # "lowest" (among the N lowest), "grade" (graded C or D) or "manual" (chosen by the manager)
    source: Mapped[str] = mapped_column(String(10), default="manual")
    position: Mapped[int] = mapped_column(Integer, default=0)

    plan: Mapped[FollowUpPlan] = relationship(back_populates="priorities")
    actions: Mapped[list[FollowUpAction]] = relationship(
        back_populates="priority", cascade="all, delete-orphan", order_by="FollowUpAction.position"
    )

    @property
    def nrr(self) -> Optional[Fraction]:
        return Fraction(self.rating_total, self.rating_count) if self.rating_count else None


class FollowUpAction(Model):
    """A program/activity for a priority, its schedule (TW 1–4 of a year) and its realization."""

    __tablename__ = "followup_action"
    __table_args__ = (
        CheckConstraint("status IN ('belum','sudah')", name="status"),
        CheckConstraint("done_end IS NULL OR done_start IS NULL OR done_start <= done_end", name="done_ordered"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    priority_id: Mapped[int] = mapped_column(ForeignKey("followup_priority.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    program: Mapped[str] = mapped_column(Text)
    year: Mapped[int] = mapped_column(Integer)
    tw1: Mapped[bool] = mapped_column(Boolean, default=False)
    tw2: Mapped[bool] = mapped_column(Boolean, default=False)
    tw3: Mapped[bool] = mapped_column(Boolean, default=False)
    tw4: Mapped[bool] = mapped_column(Boolean, default=False)
    pic: Mapped[str] = mapped_column(String(200))  # penanggung jawab
    # Realization
    status: Mapped[str] = mapped_column(String(10), default="belum")
    realization: Mapped[str] = mapped_column(Text, default="")
    done_start: Mapped[Optional[dt.date]] = mapped_column(Date)
    done_end: Mapped[Optional[dt.date]] = mapped_column(Date)
    obstacles: Mapped[str] = mapped_column(Text, default="")
    # While Belum: why, how it will be settled, by when and by whom
    pending_reason: Mapped[str] = mapped_column(Text, default="")
    strategy: Mapped[str] = mapped_column(Text, default="")
    target_date: Mapped[Optional[dt.date]] = mapped_column(Date)
    pending_pic: Mapped[str] = mapped_column(String(200), default="")
    reported_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    reported_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    priority: Mapped[FollowUpPriority] = relationship(back_populates="actions")
    photos: Mapped[list[FollowUpPhoto]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="FollowUpPhoto.id"
    )
    history: Mapped[list[FollowUpHistory]] = relationship(
        back_populates="action", order_by="FollowUpHistory.id"
    )

    @property
    def quarters(self) -> list[int]:
        return [q for q, on in enumerate((self.tw1, self.tw2, self.tw3, self.tw4), start=1) if on]

    @property
    def done(self) -> bool:
        return self.status == "sudah"


class FollowUpPhoto(Model):
    """A documentation photo, re-encoded; files live under <upload folder>/rtl/<unit_id>/."""

    __tablename__ = "followup_photo"
    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("followup_action.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(64), unique=True)
    thumb_name: Mapped[str] = mapped_column(String(64), unique=True)
    mime_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    caption: Mapped[str] = mapped_column(String(300), default="")
    # Shown on the public results page beside the realized action ("kami menindaklanjuti").
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))

    action: Mapped[FollowUpAction] = relationship(back_populates="photos")


class FollowUpHistory(Model):
    """Who changed which field of a plan or action, when, from what to what."""

    __tablename__ = "followup_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("followup_plan.id", ondelete="CASCADE"), index=True)
    # Kept when an action is deleted, so the plan's history still shows it.
    action_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("followup_action.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)  # UTC
    field: Mapped[str] = mapped_column(String(50))
    old_value: Mapped[Optional[str]] = mapped_column(Text)
    new_value: Mapped[Optional[str]] = mapped_column(Text)

    user: Mapped[Optional[User]] = relationship()
    action: Mapped[Optional[FollowUpAction]] = relationship(back_populates="history")


class FollowUpReminder(Model):
    """A reminder about an overdue RTL action (still Belum after its last scheduled quarter),
    written by the daily queue task (skm.followup.reminders) and shown on the unit's RTL
    pages. One row per action while it stays overdue: `last_on` is the unit's day of the
    latest daily run that still found it overdue, `days` how many daily runs did; it is
    resolved (resolved_at) once the action is done or no longer overdue."""

    __tablename__ = "followup_reminder"
    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("followup_action.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    first_on: Mapped[dt.date] = mapped_column(Date)
    last_on: Mapped[dt.date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    action: Mapped[FollowUpAction] = relationship()
