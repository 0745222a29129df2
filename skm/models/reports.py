"""Report jobs generated in the background."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from skm.core.clock import utcnow
from skm.extensions import Model
from skm.models.survey import Period, Unit


class ReportJob(Model):
    """A report generated in the background (long results reports and data sheets).

    The page that asked for it polls this row (htmx) for progress; the finished PDF
    lies in the instance folder under `reports/` and is served only to users of the unit.
    """

    __tablename__ = "report_job"
    __table_args__ = (
        CheckConstraint("status IN ('queued','running','done','failed')", name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    period_id: Mapped[Optional[int]] = mapped_column(ForeignKey("period.id"))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)  # respondent rows laid out so far
    total: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str] = mapped_column(String(200), default="")
    file_path: Mapped[Optional[str]] = mapped_column(String(300))
    error: Mapped[Optional[str]] = mapped_column(String(300))
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # Last sign of life from a queue worker (claim, progress, a wait at the caps); a
    # "running" job whose heartbeat is older than REPORT_JOB_LOST_SECONDS lost its worker
    # (SIGKILL, deploy) and is queued again (skm.reports.jobs.recover_jobs).
    heartbeat_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # times a worker started it
    unit: Mapped[Unit] = relationship()
    period: Mapped[Optional[Period]] = relationship()


class ReportSetting(Model):
    """What a unit chose when printing a period's reports: the report date and the
    signatories, remembered so the next print of the same period is dated the same."""

    __tablename__ = "report_setting"
    __table_args__ = (UniqueConstraint("unit_id", "period_id", name="uq_report_setting_unit_period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"), index=True)
    report_date: Mapped[dt.date] = mapped_column(Date)
    head_name: Mapped[str] = mapped_column(String(200), default="")
    head_position: Mapped[str] = mapped_column(String(200), default="")
    head_rank: Mapped[str] = mapped_column(String(200), default="")
    head_nip: Mapped[str] = mapped_column(String(30), default="")
    officer_name: Mapped[str] = mapped_column(String(200), default="")  # Petugas survei
    officer_nip: Mapped[str] = mapped_column(String(30), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ReportText(Model):
    """A unit's own text for one part of its printed reports (skm.reports.texts.TEXT_KEYS);
    period_id and element_code for the analysis and recommendation of one weak element."""

    __tablename__ = "report_text"
    __table_args__ = (UniqueConstraint("unit_id", "key", "period_id", "element_code", name="uq_report_text"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    period_id: Mapped[Optional[int]] = mapped_column(ForeignKey("period.id"))
    element_code: Mapped[Optional[str]] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
