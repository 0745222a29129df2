"""The public online survey in the visitor's own browser (blueprint `online`): /survei/<unit>
(?layanan=<id>), a one-time ticket at /t/<code> (or typed at /t). The kiosk's screens and
survey flow (kiosk.screens, skm.kiosk.flow) with the online rules of skm.online.survey. Views
are thin: read the request, call one domain function, commit, render a screen. Without
JavaScript every step is a plain form post answered with the next screen, as on the kiosk."""
from __future__ import annotations

import secrets
from functools import partial
from typing import Optional

from flask import abort, current_app, redirect, request, send_file, url_for
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError

from skm.core.errors import DomainError
from skm.extensions import db
from skm.kiosk import flow as F
from skm.models import KioskSurvey, Service, SurveyTicket, Unit
from skm.online import survey as O
from skm.online.tickets import normalize_code
from skm.survey.period_admin import PeriodClosed
from skm.survey.unit_settings import logo_file
from skm.web import wants_fragment

from . import online_bp as bp
from .screens import render_screen, step_context, step_kind, use_screen_urls

BROWSER_COOKIE = "skm_browser"
BROWSER_COOKIE_MAX_AGE = 2 * 365 * 24 * 3600
COOKIES_NEEDED = ("Halaman survei sudah kedaluwarsa, atau peramban Saudara menolak cookie. "
                  "Aktifkan cookie untuk situs ini, lalu mulai lagi.")


# --- the browser's anonymous id ---------------------------------------------------

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt="skm-online-browser")


def _browser_key() -> str:
    """The SHA-256 key of this browser's signed random id (a new one when it has none)."""
    env = request.environ
    if "skm.browser_id" not in env:
        browser_id = None
        raw = request.cookies.get(BROWSER_COOKIE)
        if raw and len(raw) < 200:
            try:
                browser_id = _serializer().loads(raw)
            except BadSignature:
                browser_id = None
        if not isinstance(browser_id, str) or not browser_id:
            browser_id = secrets.token_urlsafe(18)
            env["skm.browser_new"] = True
        env["skm.browser_id"] = browser_id
    return O.browser_key(env["skm.browser_id"])


@bp.after_request
def _keep_browser_id(response):
    if request.environ.get("skm.browser_new"):
        response.set_cookie(BROWSER_COOKIE, _serializer().dumps(request.environ["skm.browser_id"]), max_age=BROWSER_COOKIE_MAX_AGE,
                            httponly=True, samesite="Lax", secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


# --- screens ----------------------------------------------------------------------

def _urls(name: str, home: str, start: str, unit_code: str, **values) -> str:
    """Where the shared screens' forms go on this channel (kiosk.screens.screen_url)."""
    if name == "index":
        return home
    if name == "start":
        return start
    if name == "logo":
        return url_for("online.logo", code=unit_code)
    if name == "outbox":
        return ""  # the tablet's store and forward; a phone sends directly
    return url_for("online." + name, **values)


def _use_urls(unit: Unit, service_id: Optional[int] = None, ticket: Optional[SurveyTicket] = None) -> None:
    if ticket is not None:
        home = start = url_for("online.ticket", code=ticket.code)
    else:
        args = {"layanan": service_id} if service_id else {}
        home = url_for("online.survey", code=unit.code, **args)
        start = url_for("online.start", code=unit.code, **args)
    use_screen_urls(partial(_urls, home=home, start=start, unit_code=unit.code))


def _screen(kind: str, unit: Optional[Unit], status: int = 200, **ctx):
    return render_screen(kind, unit, status, channel="online", **ctx)


def _notice(unit: Optional[Unit], title: str, text: str, status: int = 200, link: Optional[tuple[str, str]] = None):
    """A polite page instead of the survey; nothing was stored."""
    return _screen("notice", unit, status, title=title, text=text,
                   link_url=link[0] if link else None, link_text=link[1] if link else None)


def _welcome(unit: Unit, service: Optional[Service] = None, ticket: Optional[SurveyTicket] = None,
             message: Optional[str] = None, status: int = 200):
    _use_urls(unit, service.id if service else None, ticket)
    if not unit.online_enabled:
        return _refusal(O.OnlineOff(O.OFF_MESSAGE), unit)
    if F.closed_period_today(db.session, unit) is not None:
        return _notice(unit, "Survei ditutup", F.CLOSED_MESSAGE)
    note = None
    if ticket is not None:
        note = f"Tiket {ticket.code}" + (f" · Layanan: {service.name}" if service else "")
    elif service is not None:
        note = f"Layanan: {service.name}"
    return _screen("welcome", unit, status, message=message, welcome_note=note,
                   ikm=F.public_ikm(db.session, unit))


def _survey_home(survey: KioskSurvey, message: Optional[str] = None):
    unit = db.session.get_one(Unit, survey.unit_id)
    ticket = db.session.get(SurveyTicket, survey.ticket_id) if survey.ticket_id else None
    service = db.session.get(Service, survey.service_id) if survey.service_id and ticket is None else None
    if ticket is not None:
        service = db.session.get(Service, ticket.service_id) if ticket.service_id else None
    return _welcome(unit, service, ticket, message)


def _step(survey: KioskSurvey, step: str, message: Optional[str] = None, show_other: bool = False):
    unit = db.session.get_one(Unit, survey.unit_id)
    _use_urls(unit, survey.service_id, db.session.get(SurveyTicket, survey.ticket_id) if survey.ticket_id else None)
    return _screen(step_kind(step), unit, message=message, show_other=show_other, **step_context(survey, step, unit))


def _refusal(exc: DomainError, unit: Optional[Unit]):
    """The polite page for a refused start or send."""
    if isinstance(exc, O.OnlineOff):  # not even the unit's name: it may want to stay out of sight
        return _notice(None, O.OFF_TITLE, str(exc))
    if isinstance(exc, O.DoneToday):
        return _notice(unit, "Terima kasih", str(exc))
    if isinstance(exc, O.TicketRefused):
        return _notice(unit, "Tiket tidak dapat dipakai", str(exc),
                       link=(url_for("online.ticket_form"), "Ketik kode lain"))
    if isinstance(exc, PeriodClosed):
        return _notice(unit, "Survei ditutup", str(exc))
    return None


def _unit_or_404(code: str) -> Unit:
    unit = O.unit_for_code(db.session, code)
    if unit is None:
        abort(404)
    return unit


def _service_or_404(unit: Unit) -> Optional[Service]:
    raw = request.values.get("layanan")
    if raw is None:
        return None
    try:
        return O.service_for(db.session, unit, raw)
    except DomainError:
        abort(404)


# --- the public survey of a unit ----------------------------------------------------

@bp.route("/survei/<code>")
def survey(code):
    unit = _unit_or_404(code)
    return _welcome(unit, _service_or_404(unit))


@bp.route("/survei/<code>/logo")
def logo(code):
    path = logo_file(_unit_or_404(code), current_app.config["UPLOAD_FOLDER"])
    if path is None:
        abort(404)
    return send_file(path, mimetype="image/png", max_age=3600)


@bp.route("/survei/<code>/mulai", methods=["POST"])
def start(code):
    unit = _unit_or_404(code)
    service = _service_or_404(unit)
    return _start(unit, service, None)


def _start(unit: Unit, service: Optional[Service], ticket: Optional[SurveyTicket]):
    try:
        survey = O.start_online(db.session, unit, _browser_key(), service, ticket, max_starts_per_minute=current_app.config.get(
            "ONLINE_BROWSER_STARTS_PER_MINUTE", O.BROWSER_STARTS_PER_MINUTE))
    except DomainError as exc:
        db.session.rollback()
        page = _refusal(exc, unit)
        return page if page is not None else _welcome(unit, service, ticket, str(exc))
    db.session.commit()
    return _step(survey, F.first_step(survey))


@bp.route("/survei/s/<token>/<step>", methods=["GET", "POST"])
def step(token, step):
    try:
        survey = O.open_online(db.session, token)
        if request.method == "GET":  # only the step the survey is on, never an earlier answer
            return _step(survey, F.current_step(survey))
        following = O.answer_online_step(db.session, survey, step, request.form.to_dict())
    except O.DoneToday as exc:
        db.session.commit()  # the survey is abandoned; nothing stored
        return _refusal(exc, db.session.get(Unit, O.find_online(db.session, token).unit_id))
    except F.StaleSurvey as exc:
        db.session.rollback()
        return _stale(token, str(exc))
    except O.OnlineOff as exc:
        db.session.rollback()
        return _refusal(exc, db.session.get(Unit, O.find_online(db.session, token).unit_id))
    except F.NotCurrentStep as exc:  # a late duplicate tap, a reloaded page: the screen it is on
        db.session.rollback()
        response = _step(O.open_online(db.session, token), exc.step)
        response.headers["X-Kiosk-Ignored"] = "1"
        return response
    except F.StepError as exc:
        return _step_error(token, exc)
    db.session.commit()
    return _step(survey, following or "saran", show_other=(following == step == "occupation"))


def _stale(token: str, message: str):
    """A finished, abandoned or unknown survey: back to its start screen (or 404)."""
    try:
        survey = O.find_online(db.session, token)
    except F.StaleSurvey:
        abort(404)
    return _survey_home(survey, message)


def _step_error(token: str, exc: F.StepError):
    """Nothing of the bad answer is kept; the survey goes to the step to answer again."""
    db.session.rollback()
    survey = O.open_online(db.session, token)
    F.set_current_step(db.session, survey, exc.step)
    db.session.commit()
    return _step(survey, exc.step, message=exc.message)


@bp.route("/survei/s/<token>/<step>/kembali", methods=["POST"])
def back(token, step):
    try:
        survey = O.open_online(db.session, token)
    except O.OnlineOff as exc:
        db.session.rollback()
        return _refusal(exc, db.session.get(Unit, O.find_online(db.session, token).unit_id))
    except F.StaleSurvey as exc:
        db.session.rollback()
        return _stale(token, str(exc))
    previous = F.go_back(db.session, survey, step)
    if previous is None:
        F.abandon_survey(db.session, survey)
    db.session.commit()
    return _survey_home(survey) if previous is None else _step(survey, previous)


@bp.route("/survei/s/<token>/batal", methods=["POST"])
def abandon(token):
    try:
        survey = O.find_online(db.session, token)
    except F.StaleSurvey:
        abort(404)
    F.abandon_survey(db.session, survey)
    db.session.commit()
    return _survey_home(survey)


@bp.route("/survei/s/<token>/kirim", methods=["POST"])
def send(token):
    limit = current_app.config.get("ONLINE_UNIT_MAX_PER_MINUTE", O.UNIT_MAX_PER_MINUTE)
    for attempt in (1, 2):
        try:
            O.submit_online(db.session, token, request.form.to_dict(), unit_max_per_minute=limit)
            db.session.commit()  # the thank-you is rendered only after the response is stored
            break
        except IntegrityError:
            # A twin send (same token, ticket or browser day) was stored first: the second
            # round acknowledges it or refuses this one.
            db.session.rollback()
            if attempt == 2:
                raise
        except (O.OnlineOff, O.DoneToday, O.TicketRefused, PeriodClosed) as exc:
            db.session.commit()  # nothing stored; the survey's answers are discarded
            return _refusal(exc, db.session.get(Unit, O.find_online(db.session, token).unit_id))
        except F.StaleSurvey as exc:
            db.session.rollback()
            return _stale(token, str(exc))
        except F.StepError as exc:
            return _step_error(token, exc)
        except F.NotCurrentStep as exc:  # sent before the last question was answered
            return _step_error(token, F.StepError(exc.step, "Pertanyaan ini belum dijawab."))
    survey = O.find_online(db.session, token)
    unit = db.session.get_one(Unit, survey.unit_id)
    _use_urls(unit, survey.service_id)
    response = _screen("thanks", unit, token=token)
    response.headers["X-Kiosk-Ack"] = token
    return response


# --- one-time tickets ------------------------------------------------------------------

@bp.route("/t", methods=["GET", "POST"])
def ticket_form():
    if request.method == "POST":
        code = normalize_code(request.form.get("code", ""))
        if code:
            return redirect(url_for("online.ticket", code=code), code=303)
        return _screen("ticket", None, message="Ketik kode tiket terlebih dahulu.", code="")
    return _screen("ticket", None, code="")


def _ticket_or_refusal(code: str):
    """(ticket, None) or (None, the refusal page); a wrong code is counted (committed)."""
    try:
        ticket = O.ticket_for_code(db.session, code, _browser_key(), request.remote_addr or "")
    except O.TicketRefused as exc:
        db.session.commit()  # keeps the wrong-code count (nothing else was changed)
        status = 429 if str(exc) == O.TOO_MANY_TRIES else 404
        return None, _notice(None, "Tiket tidak dapat dipakai", str(exc), status,
                             link=(url_for("online.ticket_form"), "Ketik kode lain"))
    return ticket, None


@bp.route("/t/<code>", methods=["GET", "POST"])
def ticket(code):
    ticket, refusal = _ticket_or_refusal(code)
    if ticket is None:
        return refusal
    unit = db.session.get_one(Unit, ticket.unit_id)
    service = db.session.get(Service, ticket.service_id) if ticket.service_id else None
    if request.method == "POST":
        return _start(unit, service, ticket)
    if ticket.spent_at is not None:
        _use_urls(unit, None, ticket)
        return _refusal(O.TicketRefused(O.TICKET_SPENT), unit)
    return _welcome(unit, service, ticket)


@bp.errorhandler(404)
def _not_found(exc):
    """An unknown unit, service, survey or ticket in a visitor's URL: the survey's own page."""
    return _notice(None, "Halaman tidak ditemukan",
                   "Alamat survei ini tidak dikenal. Periksa kembali alamat pada kode QR, poster atau tiket.", 404)


@bp.errorhandler(CSRFError)
def _csrf_expired(exc):
    """A page left open too long, or a browser without cookies: start again, clearly."""
    db.session.rollback()
    token = (request.view_args or {}).get("token")
    unit = None
    if token:
        try:
            unit = db.session.get(Unit, O.find_online(db.session, token).unit_id)
        except F.StaleSurvey:
            unit = None
    link = (url_for("online.survey", code=unit.code), "Mulai lagi") if unit is not None else None
    return _notice(unit, "Silakan mulai lagi", COOKIES_NEEDED, 400 if not wants_fragment() else 200, link=link)
