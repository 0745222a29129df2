"""What is public: closing a period publishes the unit's results for it.

One rule, here only: a unit's period is published when the unit closed it
(skm.survey.period_admin.close_period), the unit has not opted out, and the unit did
not withdraw the publication after that closing. Reopening the period therefore takes
it off the public pages, and closing it again publishes it again. Opting out, opting
back in, withdrawing and republishing are logged (PublicationLog) with who and when.

Plain functions, no Flask; they flush, never commit.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from skm.core.clock import utcnow
from skm.core.errors import DomainError
from skm.models import (
    Period,
    PeriodUnit,
    PublicationLog,
    PublicationOptOut,
    PublicationWithdrawal,
    PublishedSuggestion,
    Response,
    Unit,
    User,
)

ACTION_LABELS = {"withdraw": "publikasi ditarik", "republish": "dipublikasikan kembali",
                 "opt_out": "tidak mempublikasikan hasil", "opt_in": "mempublikasikan hasil",
                 "pick": "saran dipilih untuk publik", "unpick": "saran tidak lagi dipublikasikan"}
NOTE_MAX = 300


def published_pairs(session: Session, unit_ids: Optional[Iterable[int]] = None) -> set[tuple[int, int]]:
    """(unit_id, period_id) of every published period, optionally of some units only."""
    q = (
        select(PeriodUnit.unit_id, PeriodUnit.period_id)
        .outerjoin(PublicationWithdrawal, (PublicationWithdrawal.unit_id == PeriodUnit.unit_id)
                   & (PublicationWithdrawal.period_id == PeriodUnit.period_id))
        .outerjoin(PublicationOptOut, PublicationOptOut.unit_id == PeriodUnit.unit_id)
        .where(PeriodUnit.closed_at.is_not(None), PublicationOptOut.id.is_(None),
               or_(PublicationWithdrawal.id.is_(None), PublicationWithdrawal.at < PeriodUnit.closed_at))
    )
    if unit_ids is not None:
        q = q.where(PeriodUnit.unit_id.in_(list(unit_ids)))
    return {(u, p) for u, p in session.execute(q).all()}


def is_published(session: Session, unit: Unit, period: Period) -> bool:
    return (unit.id, period.id) in published_pairs(session, [unit.id])


def published_periods(session: Session, unit: Unit) -> list[Period]:
    """The unit's published periods, newest first."""
    ids = [p for _u, p in published_pairs(session, [unit.id])]
    if not ids:
        return []
    return list(session.scalars(select(Period).where(Period.id.in_(ids))
                                .order_by(Period.end_date.desc(), Period.start_date.desc(), Period.id.desc())))


def publishing_units(session: Session) -> list[Unit]:
    """Units with at least one published period, by name."""
    unit_ids = {u for u, _p in published_pairs(session)}
    if not unit_ids:
        return []
    return list(session.scalars(select(Unit).where(Unit.id.in_(unit_ids)).order_by(Unit.name, Unit.id)))


def opted_out(session: Session, unit: Unit) -> bool:
    return session.scalar(select(PublicationOptOut.id).where(PublicationOptOut.unit_id == unit.id)) is not None


def _note(note: str) -> str:
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX:
        raise DomainError(f"Catatan terlalu panjang (maksimal {NOTE_MAX} karakter).")
    return note


def _log(session: Session, unit: Unit, period: Optional[Period], action: str, user: Optional[User],
         note: str) -> None:
    session.add(PublicationLog(unit_id=unit.id, period_id=period.id if period is not None else None,
                               action=action, user_id=user.id if user is not None else None, at=utcnow(),
                               note=note))


def set_opt_out(session: Session, unit: Unit, user: Optional[User], opt_out: bool, note: str = "") -> None:
    """Stop (or resume) publishing every period of the unit; logged."""
    note = _note(note)
    if opt_out == opted_out(session, unit):
        raise DomainError("Unit ini sudah tidak mempublikasikan hasil." if opt_out
                          else "Unit ini sudah mempublikasikan hasil.")
    if opt_out:
        session.add(PublicationOptOut(unit_id=unit.id, at=utcnow(), user_id=user.id if user else None))
    else:
        session.execute(delete(PublicationOptOut).where(PublicationOptOut.unit_id == unit.id))
    _log(session, unit, None, "opt_out" if opt_out else "opt_in", user, note)
    session.flush()


def withdraw(session: Session, unit: Unit, period: Period, user: Optional[User], note: str = "") -> None:
    """Take a published period off the public pages; logged. Closing it again republishes it."""
    note = _note(note)
    if not is_published(session, unit, period):
        raise DomainError(f"Hasil periode {period.name} tidak sedang dipublikasikan.")
    row = session.scalar(select(PublicationWithdrawal).where(PublicationWithdrawal.unit_id == unit.id,
                                                             PublicationWithdrawal.period_id == period.id))
    if row is None:
        row = PublicationWithdrawal(unit_id=unit.id, period_id=period.id)
        session.add(row)
    row.at = utcnow()
    row.user_id = user.id if user else None
    _log(session, unit, period, "withdraw", user, note)
    session.flush()


def republish(session: Session, unit: Unit, period: Period, user: Optional[User], note: str = "") -> None:
    """Publish a withdrawn period again (it must still be closed); logged."""
    note = _note(note)
    if opted_out(session, unit):
        raise DomainError("Unit ini memilih tidak mempublikasikan hasil.")
    closed = session.scalar(select(PeriodUnit.id).where(PeriodUnit.unit_id == unit.id,
                                                        PeriodUnit.period_id == period.id,
                                                        PeriodUnit.closed_at.is_not(None)))
    if closed is None:
        raise DomainError(f"Periode {period.name} belum ditutup; hasil dipublikasikan saat periode ditutup.")
    if is_published(session, unit, period):
        raise DomainError(f"Hasil periode {period.name} sudah dipublikasikan.")
    session.execute(delete(PublicationWithdrawal).where(PublicationWithdrawal.unit_id == unit.id,
                                                        PublicationWithdrawal.period_id == period.id))
    _log(session, unit, period, "republish", user, note)
    session.flush()


@dataclass
class PeriodState:
    period: Period
    closed: bool
    published: bool
    withdrawn: bool  # closed, and withdrawn after the closing


def period_states(session: Session, unit: Unit) -> list[PeriodState]:
    """Every period (newest first) with the unit's closing and publication state."""
    closed = {row.period_id for row in session.scalars(
        select(PeriodUnit).where(PeriodUnit.unit_id == unit.id, PeriodUnit.closed_at.is_not(None)))}
    published = {p for _u, p in published_pairs(session, [unit.id])}
    out = []
    optout = opted_out(session, unit)
    for period in session.scalars(select(Period).order_by(Period.end_date.desc(), Period.id.desc())):
        is_closed = period.id in closed
        is_pub = period.id in published
        out.append(PeriodState(period, is_closed, is_pub, is_closed and not is_pub and not optout))
    return out


def publication_log(session: Session, unit: Unit) -> list[PublicationLog]:
    return list(session.scalars(select(PublicationLog).where(PublicationLog.unit_id == unit.id)
                                .order_by(PublicationLog.at.desc(), PublicationLog.id.desc())))


# --------------------------------------------------------------------------- picked suggestions


def picked_ids(session: Session, unit: Unit) -> set[int]:
    return set(session.scalars(select(PublishedSuggestion.response_id)
                               .where(PublishedSuggestion.unit_id == unit.id)))


def set_suggestion_public(session: Session, unit: Unit, response_id: int, user: Optional[User],
                          public: bool) -> None:
    """Pick a respondent's suggestion for the public page (or unpick it); logged.

    It is shown only while the response's period is published and the response counts."""
    response = session.get(Response, response_id)
    if response is None or response.unit_id != unit.id:
        raise DomainError("Saran tidak ditemukan pada unit ini.")
    if not (response.suggestion or "").strip():
        raise DomainError("Responden ini tidak menulis saran.")
    row = session.scalar(select(PublishedSuggestion).where(PublishedSuggestion.response_id == response_id))
    if public == (row is not None):
        return
    if public:
        session.add(PublishedSuggestion(response_id=response_id, unit_id=unit.id, at=utcnow(),
                                        user_id=user.id if user else None))
    else:
        session.delete(row)
    _log(session, unit, None, "pick" if public else "unpick", user, f"saran #{response_id}")
    session.flush()


def period_suggestions(session: Session, unit: Unit, period: Period, limit: int = 100):
    """The period's suggestions to pick from (skm.scoring.analytics, the dashboard's list): (rows, total)."""
    from skm.scoring.analytics import suggestions
    from skm.scoring.results import Scope

    return suggestions(session, Scope(unit.id, period.start_date, period.end_date), limit=limit)


@dataclass
class PublicSuggestion:
    response_id: int
    survey_date: dt.date
    text: str
    period_name: str


def public_suggestions(session: Session, unit: Unit) -> list[PublicSuggestion]:
    """Picked suggestions whose period is published and whose response still counts, newest first."""
    from skm.scoring.results import Scope, _response_filter

    picked = picked_ids(session, unit)
    if not picked:
        return []
    out = []
    for period in published_periods(session, unit):
        scope = Scope(unit.id, period.start_date, period.end_date)
        for rid, day, text in session.execute(
            select(Response.id, Response.survey_date, Response.suggestion)
            .where(*_response_filter(scope), Response.id.in_(picked))
            .order_by(Response.survey_date.desc(), Response.id.desc())
        ):
            text = (text or "").strip()
            if text:
                out.append(PublicSuggestion(rid, day, text, period.name))
    return out
