"""The public online survey: the kiosk's survey (skm.kiosk.flow: the same steps, rules and
one-time token) answered in the visitor's own browser, at /survei/<unit> or with a one-time
ticket at /t/<code>. Functions flush, never commit.

Abuse without blocking offices (many visitors share one public IP, so nothing is limited
per IP alone):
- per browser: a signed anonymous id in a long-lived cookie; only its SHA-256 (the
  "browser key") is stored, on the survey row. One response per browser, service and unit
  day (the unique `kiosk_survey.daily_key`, so even racing sends store one); at most
  BROWSER_STARTS_PER_MINUTE starts a minute.
- per unit: above UNIT_MAX_PER_MINUTE online responses a minute, responses are still stored
  but flagged and quarantined, for the same review as the kiosk's flagged responses.
- a ticketed survey is bound to its ticket's unit and service and spends the ticket in the
  same transaction as its response (response.ticket_id is unique); it is not subject to the
  per-browser day limit or the unit ceiling (the ticket is the proof). Wrong ticket codes are
  throttled per browser (and, far more loosely, per client address).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from typing import Optional

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from skm.core.clock import unit_now, utcnow
from skm.core.errors import DomainError
from skm.core.parsing import parse_id
from skm.kiosk import flow as F
from skm.models import KioskSurvey, Response, Service, SurveyTicket, TicketAttempt, Unit
from skm.online.tickets import find_ticket
from skm.survey.period_admin import PeriodClosed

BROWSER_STARTS_PER_MINUTE = 10
UNIT_MAX_PER_MINUTE = 30  # online responses per unit per minute before they are flagged; 0 = off
TICKET_TRIES = 10  # wrong ticket codes per browser in the window
TICKET_CLIENT_TRIES = 300  # per client address (a whole office behind one IP)
TICKET_TRIES_WINDOW_SECONDS = 600

OFF_TITLE = "Survei daring tidak aktif"
OFF_MESSAGE = ("Survei daring unit ini sedang tidak aktif. Silakan sampaikan penilaian Saudara "
               "melalui kiosk atau petugas di kantor layanan. Terima kasih.")
DONE_TODAY = "Anda sudah mengisi survei layanan ini hari ini. Terima kasih."
TICKET_SPENT = "Tiket ini sudah dipakai. Setiap tiket hanya berlaku untuk satu kali pengisian survei."
TICKET_UNKNOWN = "Kode tiket tidak dikenal. Periksa kembali kode pada tiket Saudara."
TOO_MANY_TRIES = "Terlalu banyak kode tiket yang salah. Silakan coba lagi dalam beberapa menit."
TOO_MANY_STARTS = "Terlalu banyak survei dimulai dari peramban ini. Tunggu sebentar, lalu coba lagi."


class OnlineOff(DomainError):
    """The unit switched its online survey off."""


class DoneToday(DomainError):
    """This browser already gave a response for this service today."""


class TicketRefused(DomainError):
    """A ticket code that is unknown, spent, or throttled."""


def browser_key(browser_id: str) -> str:
    return hashlib.sha256(("skm-online:" + browser_id).encode()).hexdigest()


def unit_for_code(session: Session, code: str) -> Optional[Unit]:
    """The unit of a URL's code, any case; None when unknown."""
    code = (code or "").strip().upper()
    if not code or len(code) > 20:
        return None
    return session.scalar(select(Unit).where(func.upper(Unit.code) == code))


def service_for(session: Session, unit: Unit, raw: object) -> Optional[Service]:
    """The active service of the unit named by ?layanan=<id>; DomainError when it is not one."""
    service_id = parse_id(raw)
    service = session.get(Service, service_id) if service_id is not None else None
    if service is None or service.unit_id != unit.id or not service.active:
        raise DomainError("Layanan tidak ditemukan.")
    return service


def daily_key(key: str, service_id: Optional[int], day: dt.date) -> str:
    return f"{key}:{service_id or 0}:{day.isoformat()}"


def done_today(session: Session, key: str, service_id: Optional[int], day: dt.date) -> bool:
    return session.scalar(select(KioskSurvey.id).where(
        KioskSurvey.daily_key == daily_key(key, service_id, day))) is not None


def _check_on(unit: Unit) -> None:
    if not unit.online_enabled:
        raise OnlineOff(OFF_MESSAGE)


def _check_ticket(ticket: SurveyTicket) -> None:
    if ticket.spent_at is not None:
        raise TicketRefused(TICKET_SPENT)


def start_online(session: Session, unit: Unit, key: str, service: Optional[Service] = None,
                 ticket: Optional[SurveyTicket] = None, now: Optional[dt.datetime] = None,
                 max_starts_per_minute: int = BROWSER_STARTS_PER_MINUTE) -> KioskSurvey:
    """A new online survey for this browser: the unit's (and service's) or the ticket's."""
    now = now or utcnow()
    if ticket is not None:
        unit = session.get_one(Unit, ticket.unit_id)
    _check_on(unit)
    if ticket is not None:
        _check_ticket(ticket)
        service = session.get(Service, ticket.service_id) if ticket.service_id else None
    service_id = service.id if service is not None and service.active else None
    questionnaire = F.current_questionnaire(unit)
    closed = F.closed_period_today(session, unit, now)
    if closed is not None:
        raise PeriodClosed(closed, F.CLOSED_MESSAGE)
    asks_service = service_id is None and any(s.active for s in unit.services)
    if ticket is None and not asks_service and done_today(session, key, service_id, unit_now(unit, now).date()):
        raise DoneToday(DONE_TODAY)  # else checked after the service question
    if max_starts_per_minute:
        recent = session.scalar(select(func.count(KioskSurvey.id)).where(
            KioskSurvey.browser_key == key, KioskSurvey.started_at >= now - dt.timedelta(seconds=60))) or 0
        if recent >= max_starts_per_minute:
            raise DomainError(TOO_MANY_STARTS)
    return F.begin_survey(session, unit, questionnaire, service_id, now, channel="online",
                          browser_key=key, ticket_id=ticket.id if ticket is not None else None)


def find_online(session: Session, token: str, lock: bool = False) -> KioskSurvey:
    """The online survey of this token (any state); `lock`: its row locked for this
    transaction (PostgreSQL; SQLite's write transactions are serial anyway). The unguessable
    token in the URL is the visitor's hold on it (not the browser cookie)."""
    survey = None
    if token and len(token) <= 64:
        query = select(KioskSurvey).where(KioskSurvey.token == token)
        survey = session.scalar(query.with_for_update() if lock else query)
    if survey is None or survey.channel != "online":
        raise F.StaleSurvey("Survei ini tidak dikenal. Silakan mulai lagi.")
    return survey


def open_online(session: Session, token: str) -> KioskSurvey:
    survey = find_online(session, token)
    _check_on(session.get_one(Unit, survey.unit_id))
    if survey.status != "open":
        raise F.StaleSurvey("Survei ini sudah berakhir. Silakan mulai lagi.")
    return survey


def answer_online_step(session: Session, survey: KioskSurvey, step: str, form: dict,
                       now: Optional[dt.datetime] = None) -> Optional[str]:
    """F.answer_step, and a service this browser already rated today ends the survey at once
    (DoneToday) rather than after the last question."""
    following = F.answer_step(session, survey, step, form, now)
    if step == "service" and survey.ticket_id is None and survey.browser_key:
        if done_today(session, survey.browser_key, F.values_of(survey).get("service"), survey.survey_date):
            F.abandon_survey(session, survey, now)
            raise DoneToday(DONE_TODAY)
    return following


def acknowledged_online(session: Session, token: str) -> Optional[Response]:
    if not token or len(token) > 64:
        return None
    response = session.scalar(select(Response).where(Response.token == token))
    return response if response is not None and response.channel == "online" else None


def submit_online(session: Session, token: str, form: Optional[dict] = None, now: Optional[dt.datetime] = None,
                  unit_max_per_minute: int = UNIT_MAX_PER_MINUTE) -> Response:
    """Store the online survey as one response, once (a repeated send returns it).

    Refused with nothing stored (the answers discarded): the unit switched the survey off
    (OnlineOff), the ticket was spent meanwhile (TicketRefused), this browser already rated
    this service today (DoneToday), the period closed (PeriodClosed). Two sends racing each
    other: a unique key (token, ticket, day key) makes the second flush fail (IntegrityError);
    the caller rolls back and calls this again, which then acknowledges or refuses."""
    now = now or utcnow()
    survey = find_online(session, token, lock=True)  # a twin send of this token waits here
    if survey.status == "finished":
        existing = acknowledged_online(session, token)
        if existing is not None:
            return existing
    unit = session.get_one(Unit, survey.unit_id)
    ticket = None
    try:
        _check_on(unit)
        if survey.ticket_id is not None:
            ticket = session.get_one(SurveyTicket, survey.ticket_id, with_for_update=True)
            _check_ticket(ticket)
    except DomainError:
        F.abandon_survey(session, survey, now)
        raise
    F.ready_to_store(session, survey, form, now)
    unit, questionnaire, data, _ratings = F.response_data(session, survey)
    if ticket is None:
        key = daily_key(survey.browser_key or survey.token, data.service_id, survey.survey_date)
        if session.scalar(select(KioskSurvey.id).where(KioskSurvey.daily_key == key)) is not None:
            F.abandon_survey(session, survey, now)
            raise DoneToday(DONE_TODAY)
        survey.daily_key = key
    duration = max(0, int((now - survey.started_at).total_seconds()))
    reasons = F.too_fast(unit, duration)
    if ticket is None and unit_max_per_minute:
        recent = session.scalar(select(func.count(Response.id)).where(
            Response.unit_id == unit.id, Response.channel == "online", Response.ticket_id.is_(None),
            Response.submitted_at >= now - dt.timedelta(seconds=60))) or 0
        if recent >= unit_max_per_minute:
            reasons.append(f"lebih dari {unit_max_per_minute} survei daring per menit di unit ini")
    response = F.store_survey(session, survey, unit, questionnaire, data, reasons, now, duration,
                              ticket_id=ticket.id if ticket is not None else None)
    if ticket is not None:
        ticket.spent_at = now
        session.flush()
    return response


def ticket_for_code(session: Session, code: str, key: str, client: str = "",
                    now: Optional[dt.datetime] = None, tries: int = TICKET_TRIES,
                    client_tries: int = TICKET_CLIENT_TRIES) -> SurveyTicket:
    """The ticket of a typed or scanned code; TicketRefused when unknown (the wrong try is
    kept: the caller commits it) or when this browser made too many wrong tries. A spent
    ticket is returned (the caller shows that it is spent)."""
    now = now or utcnow()
    since = now - dt.timedelta(seconds=TICKET_TRIES_WINDOW_SECONDS)
    client = (client or "")[:64]
    wrong = session.execute(select(
        func.count().filter(TicketAttempt.browser_key == key),
        func.count().filter(TicketAttempt.client == client),
    ).where(TicketAttempt.attempted_at >= since,
            or_(TicketAttempt.browser_key == key, TicketAttempt.client == client))).one()
    if (tries and wrong[0] >= tries) or (client_tries and client and wrong[1] >= client_tries):
        raise TicketRefused(TOO_MANY_TRIES)
    ticket = find_ticket(session, code)
    if ticket is None:
        session.add(TicketAttempt(browser_key=key, client=client, attempted_at=now))
        session.flush()
        raise TicketRefused(TICKET_UNKNOWN)
    return ticket
