"""Which period a page, channel or command shows when none is named: one rule, one place.

- `reporting_period`: the period whose results are shown by default (lobby poster, poster
  preview, kiosk welcome IKM, results dashboard, Laporan page, `skm report`, `skm results`).
- `collecting_period`: the period the unit is collecting responses in today.
- `default_period`: what the dashboard and the Laporan page open on: the reporting period,
  else (no responses at all yet) the collecting period.
- `periods_of_dates`: the date range of some rows and the period(s) they fall into (import preview).
- `period_respondents` / `require_respondents`: whether a period has counted responses for a
  unit; result-based documents (results report, data sheet, posters) are refused without.

Plain functions over a session; no Flask here. "Today" is the unit's own date
(`skm.core.clock.unit_today`), never the server's.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from skm.core.clock import unit_today
from skm.core.errors import DomainError
from skm.models import Period, Response, Unit


def _counted(unit_id: int, start, end) -> list:
    """Conditions for the responses that count in a unit's results: dated in [start, end],
    not excluded (flagged ones count until a manager excludes them, as in skm.scoring.results)."""
    return [Response.unit_id == unit_id, Response.survey_date >= start, Response.survey_date <= end,
            Response.excluded.is_(False)]


def period_respondents(session: Session, unit: Unit, period: Period) -> int:
    """The number of counted responses of the unit in the period."""
    return session.scalar(
        select(func.count(Response.id)).where(*_counted(unit.id, period.start_date, period.end_date))
    ) or 0


def reporting_period(session: Session, unit: Unit, today: Optional[dt.date] = None) -> Optional[Period]:
    """The latest period that has counted responses for this unit, or None.

    Latest means the latest end date among the periods that have started by the unit's
    today. Between periods with the same end date the shortest wins (the one that starts
    last: a quarter over the semester and the year that end with it), then the newest
    row. An empty period never wins, so at the start of a quarter the pages keep showing
    the last quarter with data instead of an empty one. A longer period that ends later
    (a year still running) wins over the quarter it contains.
    """
    today = today or unit_today(unit)
    return session.scalar(
        select(Period)
        .where(Period.start_date <= today,
               exists().where(*_counted(unit.id, Period.start_date, Period.end_date)))
        .order_by(Period.end_date.desc(), Period.start_date.desc(), Period.id.desc())
        .limit(1)
    )


def collecting_period(session: Session, unit: Unit, today: Optional[dt.date] = None) -> Optional[Period]:
    """The period that contains the unit's today, or None: the shortest one when several
    do (a quarter inside its semester and year); equal lengths, the one that starts last."""
    today = today or unit_today(unit)
    periods = session.scalars(
        select(Period).where(Period.start_date <= today, Period.end_date >= today)
    ).all()
    return _shortest_containing(periods, today)


def _shortest_containing(periods, day: dt.date) -> Optional[Period]:
    """The shortest of the periods that contain the day; equal lengths, the one that starts last."""
    containing = [p for p in periods if p.start_date <= day <= p.end_date]
    if not containing:
        return None
    return min(containing, key=lambda p: (p.end_date - p.start_date, -p.start_date.toordinal(), -p.id))


@dataclass
class DateSpan:
    """Where a set of dated rows falls: first and last date, and rows per period (the
    shortest period containing each date, as the collecting period; None = no period)."""
    first: Optional[dt.date]
    last: Optional[dt.date]
    periods: list[tuple[Optional[Period], int]]


def periods_of_dates(session: Session, dates: Iterable[dt.date]) -> DateSpan:
    """The date range of the rows (an import's preview or batch) and the period(s) they fall into."""
    counts = Counter(dates)
    if not counts:
        return DateSpan(None, None, [])
    first, last = min(counts), max(counts)
    periods = session.scalars(select(Period).where(Period.start_date <= last, Period.end_date >= first)).all()
    per: dict[Optional[int], int] = {}
    by_id: dict[Optional[int], Optional[Period]] = {None: None}
    for day, n in counts.items():
        period = _shortest_containing(periods, day)
        key = period.id if period is not None else None
        by_id[key] = period
        per[key] = per.get(key, 0) + n
    pairs = [(by_id[k], per[k]) for k in per]
    pairs.sort(key=lambda pair: (pair[0] is None, pair[0].start_date if pair[0] is not None else first))
    return DateSpan(first, last, pairs)


def import_batch_span(session: Session, unit: Unit, batch_id: int) -> Optional[DateSpan]:
    """periods_of_dates over the responses an import batch stored for this unit (None: not this unit's)."""
    dates = session.scalars(select(Response.survey_date).where(Response.import_batch_id == batch_id,
                                                               Response.unit_id == unit.id)).all()
    return periods_of_dates(session, dates) if dates else None


def default_period(session: Session, unit: Unit, today: Optional[dt.date] = None) -> Optional[Period]:
    """The period a page opens on when none is chosen: the reporting period; without any
    responses yet, the collecting period (the page then says it has no respondents)."""
    today = today or unit_today(unit)
    return reporting_period(session, unit, today) or collecting_period(session, unit, today)


def no_respondents_text(period: Period) -> str:
    """'Belum ada responden pada periode Triwulan IV 2023 (1 Oktober s.d. 31 Desember 2023).'"""
    from skm.core.formatting import date_range_id  # local: formatting imports Babel

    return f"Belum ada responden pada periode {period.name} ({date_range_id(period.start_date, period.end_date)})."


def empty_period_message(period: Period) -> str:
    """Why a result-based document of the period cannot be made."""
    return (no_respondents_text(period)
            + " Laporan hasil, pengolahan data dan poster baru dapat dibuat setelah ada responden.")


def reports_unavailable(session: Session, unit: Unit, period: Period) -> Optional[str]:
    """Why the period's result-based documents cannot be made (no counted responses), or None."""
    return None if period_respondents(session, unit, period) else empty_period_message(period)


def require_respondents(session: Session, unit: Unit, period: Period) -> int:
    """The period's counted responses; DomainError when there are none (nothing to report)."""
    count = period_respondents(session, unit, period)
    if not count:
        raise DomainError(empty_period_message(period))
    return count
