"""Online channel tables: one-time survey tickets (a printed slip or a front-desk issue)."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from skm.core.clock import utcnow
from skm.extensions import Model
from skm.models.survey import Service, Unit


class SurveyTicket(Model):
    """A one-time survey ticket: admits exactly one online response for its unit (and
    service), then is spent. Responses made with one are "terverifikasi"."""

    __tablename__ = "survey_ticket"
    __table_args__ = (Index("ix_survey_ticket_unit_created", "unit_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # short, typed or scanned
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    service_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service.id"))
    batch: Mapped[str] = mapped_column(String(40), default="")  # printed batch label, "" = front desk
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    # Spent when its response is stored (in the same transaction); the response carries
    # ticket_id, unique, so the database itself refuses a second response per ticket.
    spent_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    unit: Mapped[Unit] = relationship()
    service: Mapped[Optional[Service]] = relationship()
