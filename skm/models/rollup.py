"""Daily rollups of the responses: the figures period results read (issue 14).

The raw answers stay the source of truth; these tables are a sum over them kept in the same
transaction as every write (skm.scoring.rollup) and rebuilt from them by
`flask --app wsgi skm rebuild-rollups`. Keys: unit, service (0 = none), day (the survey
date in the unit's time zone), channel, verified (made with a one-time ticket) and excluded.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from skm.extensions import Model


class RollupAnswerDay(Model):
    """Count and sum of ratings per element and key."""

    __tablename__ = "rollup_answer_day"
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    service_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    verified: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    excluded: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    element_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)


class RollupResponseDay(Model):
    """Respondents per key and per value of one response field: `questionnaire` (its id;
    summing these rows counts the respondents), `flag` ("00", "10" flagged, "11" flagged and
    quarantined), `gender`, `education`, `occupation`, `age` ("" = not given)."""

    __tablename__ = "rollup_response_day"
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    service_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    verified: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    excluded: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    field: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
