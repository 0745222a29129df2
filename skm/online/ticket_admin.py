"""Staff side of one-time tickets: print a batch, issue one at the front desk, and the
counts the unit's page lists. Flushes, never commits (the view or the CLI does)."""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from skm.core.clock import unit_now
from skm.core.errors import DomainError
from skm.core.parsing import parse_id, parse_int
from skm.models import Service, SurveyTicket, Unit, User
from skm.online.tickets import MAX_BATCH, issue_tickets

COUNT_MESSAGE = f"Jumlah tiket harus bilangan bulat 1 sampai {MAX_BATCH}."


def parse_count(text: object) -> int:
    count = parse_int(str(text) if isinstance(text, int) else text, min=1, max=MAX_BATCH)
    if count is None:
        raise DomainError(COUNT_MESSAGE)
    return count


def unit_service(session: Session, unit: Unit, service_id: object) -> Optional[Service]:
    """The chosen service of the unit ("" or 0: none, every service); DomainError for another."""
    if service_id in (None, "", 0, "0"):
        return None
    number = parse_id(service_id)
    service = session.get(Service, number) if number is not None else None
    if service is None or service.unit_id != unit.id or not service.active:
        raise DomainError("Pilih layanan dari daftar.")
    return service


def batch_label(unit: Unit) -> str:
    """A printed batch's name: the unit's local time and a short random tail (unique enough)."""
    return f"{unit_now(unit):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def print_batch(session: Session, unit: Unit, service: Optional[Service], count: int,
                user: Optional[User] = None) -> list[SurveyTicket]:
    return issue_tickets(session, unit, service, count, user=user, batch=batch_label(unit))


def issue_one(session: Session, unit: Unit, service: Optional[Service], user: Optional[User] = None) -> SurveyTicket:
    """The front desk's ticket (batch "", as skm.models.online says)."""
    return issue_tickets(session, unit, service, 1, user=user, batch="")[0]


def batch_tickets(session: Session, unit: Unit, batch: str) -> list[SurveyTicket]:
    if not batch:
        return []
    return list(session.scalars(select(SurveyTicket).where(SurveyTicket.unit_id == unit.id,
                                                           SurveyTicket.batch == batch[:40])
                                .order_by(SurveyTicket.id)))


def unit_ticket(session: Session, unit: Unit, ticket_id: Optional[int]) -> Optional[SurveyTicket]:
    ticket = session.get(SurveyTicket, ticket_id) if ticket_id is not None else None
    return ticket if ticket is not None and ticket.unit_id == unit.id else None


@dataclass
class BatchRow:
    batch: str  # "" = issued one by one at the front desk
    created_at: dt.datetime  # the first ticket's
    count: int
    spent: int

    @property
    def unspent(self) -> int:
        return self.count - self.spent


def ticket_counts(session: Session, unit: Unit) -> tuple[int, int]:
    """(tickets, spent) of the unit."""
    total, spent = session.execute(
        select(func.count(SurveyTicket.id), func.count(SurveyTicket.spent_at)).where(SurveyTicket.unit_id == unit.id)
    ).one()
    return int(total), int(spent)


def recent_batches(session: Session, unit: Unit, limit: int = 20) -> list[BatchRow]:
    """Printed batches, newest first, and the front desk's tickets as one row (batch "")."""
    rows = session.execute(
        select(SurveyTicket.batch, func.min(SurveyTicket.created_at), func.count(SurveyTicket.id),
               func.sum(case((SurveyTicket.spent_at.is_not(None), 1), else_=0)))
        .where(SurveyTicket.unit_id == unit.id)
        .group_by(SurveyTicket.batch)
        .order_by(func.max(SurveyTicket.id).desc())
        .limit(limit)
    ).all()
    return [BatchRow(b, created, int(n), int(spent or 0)) for b, created, n, spent in rows]


def recent_desk_tickets(session: Session, unit: Unit, limit: int = 10) -> list[SurveyTicket]:
    return list(session.scalars(select(SurveyTicket)
                                .where(SurveyTicket.unit_id == unit.id, SurveyTicket.batch == "")
                                .order_by(SurveyTicket.id.desc()).limit(limit)))
