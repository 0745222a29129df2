"""Creating periods, per-unit population, closing and reopening (with an audit trail).

Plain functions; they flush, never commit. A closed period is frozen for its unit in every
channel: `closed_period_for(session, unit_id, day)` is the one test, and `refuse_if_closed`
raises PeriodClosed; record_response (kiosk, paper), the import, exclude/include and undo
call them, and the kiosk does not start a survey dated in a closed period.
"""
from __future__ import annotations

import datetime as dt
from typing import Literal, Optional, overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from skm.core.clock import utcnow
from skm.core.errors import DomainError
from skm.models import Period, PeriodUnit, PeriodUnitLog, Response, Unit, User
from skm.survey.periods import PeriodSpan, custom, full_year, quarter, semester

YEAR_MIN, YEAR_MAX = 2000, 2100


def spans_for_year(kind: str, year: int, number: Optional[int] = None) -> list[PeriodSpan]:
    """The periods of a kind in a year: all of them, or only `number` (quarter 1–4, semester 1–2)."""
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise DomainError(f"Tahun harus antara {YEAR_MIN} dan {YEAR_MAX}.")
    if kind == "triwulan":
        numbers = [number] if number else [1, 2, 3, 4]
        if any(n not in (1, 2, 3, 4) for n in numbers):
            raise DomainError("Nomor triwulan harus 1–4.")
        return [quarter(year, n) for n in numbers]
    if kind == "semester":
        numbers = [number] if number else [1, 2]
        if any(n not in (1, 2) for n in numbers):
            raise DomainError("Nomor semester harus 1 atau 2.")
        return [semester(year, n) for n in numbers]
    if kind == "tahun":
        return [full_year(year)]
    raise DomainError("Jenis periode harus triwulan, semester atau tahun.")


def create_periods(session: Session, spans: list[PeriodSpan], population: Optional[int] = None) -> list[Period]:
    """Store the spans that do not exist yet (by name); returns the new ones."""
    if population is not None and population < 1:
        raise DomainError("Populasi harus lebih dari 0.")
    created = []
    for span in spans:
        if session.scalar(select(Period).where(Period.name == span.name)) is not None:
            continue
        period = Period(name=span.name, kind=span.kind, start_date=span.start, end_date=span.end,
                        population=population)
        session.add(period)
        created.append(period)
    session.flush()
    if not created:
        raise DomainError("Periode tersebut sudah ada.")
    return created


def create_custom_period(session: Session, start: dt.date, end: dt.date, name: str = "",
                         population: Optional[int] = None) -> Period:
    if start > end:
        raise DomainError("Tanggal mulai harus sebelum atau sama dengan tanggal selesai.")
    if not (YEAR_MIN <= start.year <= YEAR_MAX and YEAR_MIN <= end.year <= YEAR_MAX):
        raise DomainError(f"Tahun harus antara {YEAR_MIN} dan {YEAR_MAX}.")
    name = " ".join((name or "").split())
    if len(name) > 100:
        raise DomainError("Nama periode maksimal 100 karakter.")
    return create_periods(session, [custom(start, end, name or None)], population)[0]


@overload
def period_unit(session: Session, period: Period, unit: Unit, create: Literal[True]) -> PeriodUnit: ...
@overload
def period_unit(session: Session, period: Period, unit: Unit, create: bool = False) -> Optional[PeriodUnit]: ...
def period_unit(session: Session, period: Period, unit: Unit, create: bool = False) -> Optional[PeriodUnit]:
    row = session.scalar(select(PeriodUnit).where(PeriodUnit.period_id == period.id,
                                                  PeriodUnit.unit_id == unit.id))
    if row is None and create:
        row = PeriodUnit(period_id=period.id, unit_id=unit.id)
        session.add(row)
        session.flush()
    return row


def set_population(session: Session, period: Period, unit: Unit, population: Optional[int]) -> None:
    if population is not None and not 1 <= population <= 100_000_000:
        raise DomainError("Populasi harus bilangan bulat lebih dari 0.")
    period_unit(session, period, unit, create=True).population = population
    session.flush()


def close_period(session: Session, period: Period, unit: Unit, user: User, note: str = "") -> None:
    row = period_unit(session, period, unit, create=True)
    if row.closed_at is not None:
        raise DomainError(f"Periode {period.name} sudah ditutup untuk unit ini.")
    row.closed_at = utcnow()
    row.closed_by_id = user.id
    session.add(PeriodUnitLog(period_id=period.id, unit_id=unit.id, action="close", user_id=user.id,
                              at=row.closed_at, note=note[:300]))
    session.flush()


def reopen_period(session: Session, period: Period, unit: Unit, user: User, note: str = "") -> None:
    if user.role != "admin":
        raise DomainError("Hanya admin yang dapat membuka kembali periode.")
    row = period_unit(session, period, unit)
    if row is None or row.closed_at is None:
        raise DomainError(f"Periode {period.name} belum ditutup untuk unit ini.")
    row.closed_at = None
    row.closed_by_id = None
    session.add(PeriodUnitLog(period_id=period.id, unit_id=unit.id, action="reopen", user_id=user.id,
                              at=utcnow(), note=note[:300]))
    session.flush()


class PeriodClosed(DomainError):
    """The day falls in a period closed for the unit: responses in it do not change."""

    def __init__(self, period: Period, message: str = ""):
        self.period = period
        super().__init__(message or f"Periode {period.name} sudah ditutup untuk unit ini; data di dalamnya "
                                    "tidak dapat diubah.")


def closed_period_for(session: Session, unit_id: int, day: dt.date) -> Optional[Period]:
    """A closed period of this unit that contains the day, if any (refuse entries then)."""
    return session.scalar(
        select(Period)
        .join(PeriodUnit, PeriodUnit.period_id == Period.id)
        .where(PeriodUnit.unit_id == unit_id, PeriodUnit.closed_at.is_not(None),
               Period.start_date <= day, Period.end_date >= day)
        .order_by(Period.start_date, Period.id)
        .limit(1)
    )


def refuse_if_closed(session: Session, unit_id: int, day: dt.date, message: str = "") -> None:
    """PeriodClosed when the day falls in a period closed for the unit."""
    period = closed_period_for(session, unit_id, day)
    if period is not None:
        raise PeriodClosed(period, message.format(period=period.name) if message else "")


def closed_period_of_responses(session: Session, response_ids: list[int]) -> Optional[Period]:
    """A closed period that holds any of these responses (for its own unit), if any."""
    if not response_ids:
        return None
    return session.scalar(
        select(Period)
        .join(PeriodUnit, PeriodUnit.period_id == Period.id)
        .join(Response, Response.unit_id == PeriodUnit.unit_id)
        .where(Response.id.in_(response_ids), PeriodUnit.closed_at.is_not(None),
               Period.start_date <= Response.survey_date, Period.end_date >= Response.survey_date)
        .order_by(Period.start_date, Period.id)
        .limit(1)
    )


def period_log(session: Session, period: Period, unit_ids: Optional[list[int]] = None) -> list[PeriodUnitLog]:
    q = select(PeriodUnitLog).where(PeriodUnitLog.period_id == period.id)
    if unit_ids is not None:
        q = q.where(PeriodUnitLog.unit_id.in_(unit_ids))
    return list(session.scalars(q.order_by(PeriodUnitLog.at.desc(), PeriodUnitLog.id.desc())))


def periods_newest_first(session: Session) -> list[Period]:
    return list(session.scalars(select(Period).order_by(Period.start_date.desc(), Period.end_date.desc(), Period.id)))
