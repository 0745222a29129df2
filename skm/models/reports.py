"""Report jobs generated in the background."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
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
    unit: Mapped[Unit] = relationship()
    period: Mapped[Optional[Period]] = relationship()
