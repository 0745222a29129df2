"""One-time survey tickets: issue a batch (printed slips) or one (front desk), find one by code."""
from __future__ import annotations

import secrets
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from skm.core.errors import DomainError
from skm.models import Service, SurveyTicket, Unit, User

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a code read off paper and typed on a phone stays unambiguous.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 8  # 25**8 ≈ 1,5e11: guessing a live code is hopeless at any allowed rate
MAX_BATCH = 1000


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    """A code as typed: spaces and dashes dropped, upper case."""
    return "".join(ch for ch in (text or "").upper() if ch not in " -")[:32]


def issue_tickets(session: Session, unit: Unit, service: Optional[Service], count: int,
                  user: Optional[User] = None, batch: str = "") -> list[SurveyTicket]:
    """Make `count` unspent tickets for the unit (and service); flushes, never commits."""
    if not 1 <= count <= MAX_BATCH:
        raise DomainError(f"Jumlah tiket harus antara 1 dan {MAX_BATCH}.")
    if service is not None and service.unit_id != unit.id:
        raise DomainError("Layanan itu bukan milik unit ini.")
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(new_code())
    taken = set(session.scalars(select(SurveyTicket.code).where(SurveyTicket.code.in_(codes))))
    codes -= taken
    while len(codes) < count:  # astronomically rare; keeps codes unique anyway
        code = new_code()
        if code not in taken and session.scalar(select(SurveyTicket.id).where(SurveyTicket.code == code)) is None:
            codes.add(code)
    tickets = [SurveyTicket(code=code, unit_id=unit.id, service_id=service.id if service else None,
                            batch=batch[:40], created_by_id=user.id if user else None)
               for code in sorted(codes)]
    session.add_all(tickets)
    session.flush()
    return tickets


def find_ticket(session: Session, code: str) -> Optional[SurveyTicket]:
    code = normalize_code(code)
    if not code or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return session.scalar(select(SurveyTicket).where(SurveyTicket.code == code))
