"""Kiosk views: thin wrappers that read the device cookie, call one domain function and
render one screen (a partial for htmx requests, the full page otherwise)."""
from __future__ import annotations

import datetime as dt

from flask import (
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, generate_csrf
from sqlalchemy.exc import IntegrityError, OperationalError

from skm.core.clock import utcnow
from skm.core.database import forget_loaded, keep_loaded_after_commit
from skm.core.errors import DomainError
from skm.core.parsing import parse_id
from skm.extensions import db
from skm.kiosk import devices as D
from skm.kiosk import flow as F
from skm.kiosk import outbox as O
from skm.models import Device, Unit
from skm.survey.period_admin import PeriodClosed
from skm.survey.unit_settings import logo_file
from skm.web import wants_fragment

from . import bp
from .screen_cache import render_screen as cached_screen
from .screens import IDLE_COUNTDOWN, render_screen, step_context, step_kind

COOKIE = "skm_kiosk"
COOKIE_MAX_AGE = 5 * 365 * 24 * 3600
STAFF_MINUTES = 5
CLOSED_RECHECK_SECONDS = 300  # the closed screen asks again, as the welcome screen refreshes


# --- helpers ---------------------------------------------------------------------

@bp.before_request
def _keep_loaded():
    keep_loaded_after_commit(db.session())


@bp.teardown_request
def _forget_loaded(_exc):
    forget_loaded(db.session())


def _device(touch: bool = True) -> Device | None:
    device = D.device_for_credential(db.session, request.cookies.get(COOKIE), touch=touch)
    if device is not None and touch:
        D.note_outbox(db.session, device, request.headers.get("X-Kiosk-Outbox"))
    return device


def _screen(kind: str, status: int = 200, **ctx):
    """Render one kiosk screen (kiosk.screens.render_screen) for the tablet's unit."""
    device = ctx.get("device")
    unit = ctx.pop("unit", None) or (db.session.get(Unit, device.unit_id) if device else None)
    return render_screen(kind, unit, status, **ctx)


def _unpaired(message: str | None = None):
    text = message or "Tablet ini belum terdaftar sebagai kiosk, atau izinnya sudah dicabut."
    return _screen("pair", status=403 if request.method == "POST" else 200, message=text, code="")


def _welcome(device: Device, message: str | None = None):
    unit = db.session.get(Unit, device.unit_id)
    if device.paused:
        return _screen("paused", device=device, unit=unit)
    if F.closed_period_today(db.session, unit) is not None:
        return _closed(device, F.CLOSED_MESSAGE, CLOSED_RECHECK_SECONDS)
    return _screen("welcome", device=device, unit=unit, message=message, ikm=F.public_ikm(db.session, unit))


def _step(device: Device, survey, step: str, message: str | None = None, show_other: bool = False):
    unit = db.session.get(Unit, device.unit_id)
    return _screen(step_kind(step), device=device, unit=unit, message=message, show_other=show_other,
                   **step_context(survey, step, unit))


def _closed(device: Device, text: str, return_seconds: int, token: str | None = None):
    """The 'period closed' screen. After a send it carries the survey's token in X-Kiosk-Ack:
    the tablet has its answer (a refusal) and does not retry."""
    response = _screen("closed", device=device, closed_text=text, return_seconds=return_seconds)
    if token:
        response.headers["X-Kiosk-Ack"] = token
    return response


def _survey_pack(device: Device, survey) -> str:
    """Every screen of a new survey, blank, for the tablet to go on with when the server
    cannot be reached mid-survey (static/js/kiosk.js); swapped out of band into #survey-pack."""
    unit = db.session.get(Unit, device.unit_id)
    base = dict(device=device, unit=unit, survey=survey, message=None, show_other=False,
                idle_seconds=unit.idle_seconds, thanks_seconds=unit.thanks_seconds,
                countdown=current_app.config.get("KIOSK_IDLE_COUNTDOWN", IDLE_COUNTDOWN),
                ask_low=unit.ask_suggestion_on_low)
    screens = []
    for step in F.steps_of(survey):
        kind = step_kind(step)
        ctx = {**base, "kind": kind, "channel": "kiosk", **step_context(survey, step, unit, blank=True)}
        screens.append((step, cached_screen(f"kiosk/screens/{kind}.html", ctx)))
        if step == "occupation":
            ctx["show_other"] = True
            screens.append(("occupation-other", cached_screen("kiosk/screens/occupation.html", ctx)))
    screens.append(("thanks", render_template("kiosk/screens/thanks.html", **{
        **base, "kind": "thanks", "survey": None, "token": "", "local": True})))
    return render_template("kiosk/_pack.html", screens=screens)


def _thanks(device: Device, token: str):
    response = _screen("thanks", device=device, token=token)
    response.headers["X-Kiosk-Ack"] = token
    return response


# --- pairing ---------------------------------------------------------------------

@bp.route("/")
def index():
    device = _device(touch=False)
    if device is None:
        return _unpaired(None if request.cookies.get(COOKIE) is None else
                         "Izin tablet ini sudah dicabut. Minta kode pemasangan baru kepada admin.")
    response = _welcome(device)
    try:  # note that the tablet is alive (its welcome screen refreshes every few minutes)
        _device()  # and how many surveys wait in its outbox
        db.session.commit()
    except OperationalError:  # SQLite busy: the next request will note it
        db.session.rollback()
    return response


@bp.route("/pair/<code>")
def pair_link(code):
    try:
        device = D.pairing_device(db.session, code, client=request.remote_addr)
    except DomainError as exc:
        db.session.commit()  # keeps the wrong-code count (nothing else was changed)
        if _device(touch=False) is not None:  # a back gesture after pairing: back to the survey
            return redirect(url_for("kiosk.index"), code=303)
        return _screen("pair", status=429 if isinstance(exc, D.PairingThrottled) else 200, message=str(exc), code="")
    return _screen("pair", code=D.normalize_code(code), pairing=device,
                   unit=db.session.get(Unit, device.unit_id))


@bp.route("/pair", methods=["POST"])
def pair():
    try:
        device, raw = D.pair_device(db.session, request.form.get("code", ""), client=request.remote_addr)
    except DomainError as exc:
        db.session.commit()  # keeps the wrong-code count (nothing else was changed)
        return _screen("pair", status=429 if isinstance(exc, D.PairingThrottled) else 200,
                       message=str(exc), code=request.form.get("code", "")[:20])
    db.session.commit()
    response = redirect(url_for("kiosk.index"), code=303)
    response.set_cookie(COOKIE, raw, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False), path="/kiosk")
    return response


@bp.route("/logo")
def logo():
    device = _device(touch=False)
    if device is None:
        abort(404)
    # The same stored file (uploads/logos/, checked name) as the admin's logo view.
    path = logo_file(db.session.get(Unit, device.unit_id), current_app.config["UPLOAD_FOLDER"])
    if path is None:
        abort(404)
    return send_file(path, mimetype="image/png", max_age=3600)


# --- the survey ------------------------------------------------------------------

@bp.route("/start", methods=["POST"])
def start():
    device = _device()
    if device is None:
        return _unpaired()
    try:
        survey = F.start_survey(db.session, device, max_starts_per_minute=current_app.config.get(
            "KIOSK_DEVICE_STARTS_PER_MINUTE", F.DEVICE_STARTS_PER_MINUTE), cooldown_seconds=current_app.config.get(
            "KIOSK_COOLDOWN_SECONDS", F.DEVICE_COOLDOWN_SECONDS))
    except DomainError as exc:
        db.session.rollback()
        return _welcome(device, str(exc))
    db.session.commit()  # release the write lock before rendering (skm.database)
    response = _step(device, survey, F.first_step(survey))
    if wants_fragment():
        response.set_data(response.get_data() + _survey_pack(device, survey).encode())
    return response


@bp.route("/s/<token>/<step>", methods=["GET", "POST"])
def step(token, step):
    device = _device()
    if device is None:
        return _unpaired()
    try:
        survey = F.open_survey(db.session, device, token)
        if request.method == "GET":  # only the step the survey is on, never an earlier answer
            return _step(device, survey, F.current_step(survey))
        following = F.answer_step(db.session, survey, step, request.form.to_dict())
    except F.StaleSurvey as exc:
        db.session.rollback()
        return _welcome(device, str(exc))
    except F.NotCurrentStep as exc:  # a late duplicate tap: ignored, the screen stays
        db.session.rollback()
        survey = F.open_survey(db.session, device, token)
        response = _step(device, survey, exc.step)
        response.headers["X-Kiosk-Ignored"] = "1"
        return response
    except F.StepError as exc:
        return _step_error(device, token, exc)
    if following is None:
        following = "saran"
    db.session.commit()
    return _step(device, survey, following, show_other=(following == step == "occupation"))


@bp.route("/s/<token>/<step>/back", methods=["POST"])
def back(token, step):
    device = _device()
    if device is None:
        return _unpaired()
    try:
        survey = F.open_survey(db.session, device, token)
    except F.StaleSurvey as exc:
        return _welcome(device, str(exc))
    previous = F.go_back(db.session, survey, step)
    if previous is None:
        F.abandon_survey(db.session, survey)
    db.session.commit()
    return _welcome(device) if previous is None else _step(device, survey, previous)


@bp.route("/s/<token>/send", methods=["POST"])
def send(token):
    device = _device()
    if device is None:
        return _unpaired()
    config = current_app.config
    try:
        F.submit_survey(db.session, device, token, request.form.to_dict(),
                        max_per_window=config.get("KIOSK_DEVICE_MAX_PER_WINDOW", F.DEVICE_MAX_PER_WINDOW),
                        window_seconds=config.get("KIOSK_DEVICE_WINDOW_SECONDS", F.DEVICE_WINDOW_SECONDS),
                        same_answers=config.get("KIOSK_SAME_ANSWERS_RUN", F.SAME_ANSWERS_RUN),
                        same_answers_window=config.get("KIOSK_SAME_ANSWERS_WINDOW_SECONDS",
                                                       F.SAME_ANSWERS_WINDOW_SECONDS))
        db.session.commit()  # the acknowledgement is rendered only after the response is stored
        return _thanks(device, token)
    except IntegrityError:
        # A twin request stored this token first: acknowledge the stored response.
        db.session.rollback()
        if F.acknowledged_response(db.session, device, token) is None:
            raise
    except PeriodClosed as exc:
        db.session.commit()  # nothing stored; the survey's answers are discarded
        unit = db.session.get(Unit, device.unit_id)
        return _closed(device, str(exc), unit.thanks_seconds, token=token)
    except F.StaleSurvey as exc:
        db.session.rollback()
        return _welcome(device, str(exc))
    except F.StepError as exc:
        return _step_error(device, token, exc)
    except F.NotCurrentStep as exc:  # sent before the last question was answered
        return _step_error(device, token, F.StepError(exc.step, "Pertanyaan ini belum dijawab."))
    return _thanks(device, token)


def _step_error(device: Device, token: str, exc: F.StepError):
    """Nothing of the bad answer is kept; the survey goes to the step to answer again."""
    db.session.rollback()
    survey = F.open_survey(db.session, device, token)
    F.set_current_step(db.session, survey, exc.step)
    db.session.commit()
    return _step(device, survey, exc.step, message=exc.message)


@bp.route("/outbox", methods=["POST"])
def outbox():
    """Deliver one survey from the tablet's outbox (store and forward): 200 with X-Kiosk-Ack
    once it is stored (now or before), 422 when it can never be stored (the tablet drops
    it), anything else: the tablet keeps it and tries again later."""
    device = _device()
    if device is None:
        return _unpaired()
    config = current_app.config
    token = request.form.get("token", "")
    try:
        O.deliver_survey(db.session, device, token, O.parse_answers(request.form.get("answers", "")),
                         elapsed=O.elapsed_seconds(request.form.get("elapsed")),
                         max_per_window=config.get("KIOSK_DEVICE_MAX_PER_WINDOW", F.DEVICE_MAX_PER_WINDOW),
                         window_seconds=config.get("KIOSK_DEVICE_WINDOW_SECONDS", F.DEVICE_WINDOW_SECONDS))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if F.acknowledged_response(db.session, device, token) is None:
            raise
    except PeriodClosed as exc:
        db.session.commit()  # nothing stored; the survey's answers are discarded
        return _plain("rejected", str(exc), 422)
    except (F.StaleSurvey, O.Undeliverable) as exc:
        db.session.rollback()
        current_app.logger.warning("kiosk outbox: survey %s of device %s refused: %s", token[:8], device.id, exc)
        return _plain("rejected", str(exc), 422)
    response = _plain("ack", "Terkirim")
    response.headers["X-Kiosk-Ack"] = token
    return response


def _plain(kind: str, text: str, status: int = 200):
    response = make_response(text, status)
    response.headers["X-Kiosk"] = kind
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/s/<token>/abandon", methods=["POST"])
def abandon(token):
    device = _device()
    if device is None:
        return _unpaired()
    try:
        F.abandon_survey(db.session, F.find_survey(db.session, device, token))
    except F.StaleSurvey:
        pass
    db.session.commit()
    return _welcome(device)


# --- staff controls --------------------------------------------------------------

def _staff_ok(device: Device) -> bool:
    until = session.get("kiosk_staff_until", 0)
    return session.get("kiosk_staff_device") == device.id and until > utcnow().timestamp()


def _staff_panel(device: Device, message: str | None = None, menu: bool = False, status: int = 200):
    unit = db.session.get(Unit, device.unit_id)
    response = make_response(render_template("kiosk/staff.html", device=device, unit=unit, message=message,
                                             menu=menu, services=[s for s in unit.services if s.active],
                                             closed=F.closed_period_today(db.session, unit)), status)
    response.headers["X-Kiosk"] = "staff"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/staff/pin", methods=["POST"])
def staff_pin():
    device = _device()
    if device is None:
        return _unpaired()
    try:
        ok = D.check_kiosk_pin(db.session, device, request.form.get("pin", ""))
    except DomainError as exc:
        db.session.rollback()
        return _staff_panel(device, str(exc))
    if not ok:
        response = _staff_panel(device, "PIN salah.")
    else:
        session["kiosk_staff_device"] = device.id
        session["kiosk_staff_until"] = (utcnow() + dt.timedelta(minutes=STAFF_MINUTES)).timestamp()
        response = _staff_panel(device, menu=True)
    db.session.commit()
    return response


@bp.route("/staff/<action>", methods=["POST"])
def staff_action(action):
    device = _device()
    if device is None:
        return _unpaired()
    if not _staff_ok(device):
        return _staff_panel(device, "Masukkan PIN terlebih dahulu.")
    try:
        if action == "restart":
            F.abandon_open_surveys(db.session, device)
        elif action == "pause":
            F.abandon_open_surveys(db.session, device)
            D.set_paused(db.session, device, True)
        elif action == "resume":
            D.set_paused(db.session, device, False)
        elif action == "service":
            raw = request.form.get("service_id", "")
            D.set_device_service(db.session, device, parse_id(raw))
            F.abandon_open_surveys(db.session, device)
        else:
            abort(404)
    except DomainError as exc:
        db.session.rollback()
        return _staff_panel(device, str(exc), menu=True)
    session.pop("kiosk_staff_until", None)
    response = _welcome(device)
    db.session.commit()
    return response


@bp.errorhandler(CSRFError)
def _csrf_expired(exc):
    """A kiosk left for hours. The tablet's script gets a fresh token and repeats the
    request silently (the visitor sees nothing); without it the survey restarts cleanly."""
    db.session.rollback()
    device = _device(touch=False)
    if device is None:
        return _unpaired()
    if request.headers.get("X-Kiosk-Client"):
        response = _plain("csrf", "CSRF", 400)
        response.headers["X-Kiosk-Csrf"] = generate_csrf()
        return response
    token = (request.view_args or {}).get("token")
    if token:
        try:
            F.abandon_survey(db.session, F.find_survey(db.session, device, token))
            db.session.commit()
        except F.StaleSurvey:
            db.session.rollback()
    return _welcome(device, "Sesi telah diperbarui. Silakan mulai lagi.")
