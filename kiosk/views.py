"""Kiosk views: thin wrappers that read the device cookie, call one domain function and
render one screen (a partial for htmx requests, the full page otherwise)."""
from __future__ import annotations

import datetime as dt
import os

from flask import (
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError

from skm.core.clock import utcnow
from skm.core.errors import DomainError
from skm.core.parsing import parse_id
from skm.extensions import db
from skm.kiosk import devices as D
from skm.kiosk import flow as F
from skm.models import Device, Unit
from skm.survey.profile import EDUCATION, GENDERS, OCCUPATION
from skm.web import wants_fragment

from . import bp

COOKIE = "skm_kiosk"
COOKIE_MAX_AGE = 5 * 365 * 24 * 3600
STAFF_MINUTES = 5
IDLE_COUNTDOWN = 20  # seconds of "Masih di sana?" (the WCAG minimum to extend a limit)


# --- helpers ---------------------------------------------------------------------

def _device(touch: bool = True) -> Device | None:
    return D.device_for_credential(db.session, request.cookies.get(COOKIE), touch=touch)


def _screen(kind: str, status: int = 200, **ctx):
    """Render one kiosk screen; every kiosk response says which screen it is (X-Kiosk),
    so the tablet can tell a real answer from a Wi-Fi login page."""
    device = ctx.get("device")
    unit = ctx.get("unit") or (db.session.get(Unit, device.unit_id) if device else None)
    ctx.update(kind=kind, unit=unit, idle_seconds=unit.idle_seconds if unit else 60,
               thanks_seconds=unit.thanks_seconds if unit else 8,
               countdown=current_app.config.get("KIOSK_IDLE_COUNTDOWN", IDLE_COUNTDOWN))
    template = f"kiosk/screens/{kind}.html" if wants_fragment() else "kiosk/page.html"
    response = make_response(render_template(template, **ctx), status)
    response.headers["X-Kiosk"] = kind
    response.headers["Cache-Control"] = "no-store"
    return response


def _unpaired(message: str | None = None):
    text = message or "Tablet ini belum terdaftar sebagai kiosk, atau izinnya sudah dicabut."
    return _screen("pair", status=403 if request.method == "POST" else 200, message=text, code="")


def _welcome(device: Device, message: str | None = None):
    unit = db.session.get(Unit, device.unit_id)
    if device.paused:
        return _screen("paused", device=device, unit=unit)
    return _screen("welcome", device=device, unit=unit, message=message, ikm=F.public_ikm(db.session, unit))


def _step_context(survey, step: str, unit: Unit) -> dict:
    steps = F.steps_of(survey)
    values = F.values_of(survey)
    ctx = {"survey": survey, "step": step, "steps": steps, "value": values.get(step),
           "step_number": steps.index(step) + 1, "step_total": len(steps)}
    if step.startswith("el-"):
        questionnaire = F.questionnaire_of(db.session, survey)
        element_steps = [s for s in steps if s.startswith("el-")]
        ctx["element"] = next(e for e in questionnaire.elements if F.element_step(e.code) == step)
        ctx["element_number"] = element_steps.index(step) + 1
        ctx["element_total"] = len(element_steps)
    elif step == "service":
        ctx["services"] = [s for s in unit.services if s.active]
    elif step == "saran":
        ctx["needs_reason"] = F.needs_reason(unit, survey)
    ctx["genders"], ctx["education"], ctx["occupation"] = GENDERS, EDUCATION, OCCUPATION
    return ctx


def _step(device: Device, survey, step: str, message: str | None = None, show_other: bool = False):
    unit = db.session.get(Unit, device.unit_id)
    kind = "element" if step.startswith("el-") else step
    return _screen(kind, device=device, unit=unit, message=message, show_other=show_other,
                   **_step_context(survey, step, unit))


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
        D.device_for_credential(db.session, request.cookies.get(COOKIE))
        db.session.commit()
    except OperationalError:  # SQLite busy: the next request will note it
        db.session.rollback()
    return response


@bp.route("/pair/<code>")
def pair_link(code):
    try:
        device = D.pairing_device(db.session, code)
    except DomainError as exc:
        return _screen("pair", message=str(exc), code="")
    return _screen("pair", code=D.normalize_code(code), pairing=device,
                   unit=db.session.get(Unit, device.unit_id))


@bp.route("/pair", methods=["POST"])
def pair():
    try:
        device, raw = D.pair_device(db.session, request.form.get("code", ""))
    except DomainError as exc:
        db.session.rollback()
        return _screen("pair", message=str(exc), code=request.form.get("code", "")[:20])
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
    unit = db.session.get(Unit, device.unit_id)
    if not unit.logo_path:
        abort(404)
    folder = current_app.config["UPLOAD_FOLDER"]
    return send_from_directory(folder, os.path.normpath(unit.logo_path), max_age=3600)


# --- the survey ------------------------------------------------------------------

@bp.route("/start", methods=["POST"])
def start():
    device = _device()
    if device is None:
        return _unpaired()
    try:
        survey = F.start_survey(db.session, device, max_starts_per_minute=current_app.config.get(
            "KIOSK_DEVICE_STARTS_PER_MINUTE", F.DEVICE_STARTS_PER_MINUTE))
    except DomainError as exc:
        db.session.rollback()
        return _welcome(device, str(exc))
    db.session.commit()  # release the write lock before rendering (skm.database)
    return _step(device, survey, F.first_step(survey))


@bp.route("/s/<token>/<step>", methods=["GET", "POST"])
def step(token, step):
    device = _device()
    if device is None:
        return _unpaired()
    try:
        survey = F.open_survey(db.session, device, token)
        if request.method == "GET":
            if step not in F.steps_of(survey):
                step = F.first_step(survey)
            return _step(device, survey, step)
        following = F.answer_step(db.session, survey, step, request.form.to_dict())
    except F.StaleSurvey as exc:
        db.session.rollback()
        return _welcome(device, str(exc))
    except F.StepError as exc:
        db.session.rollback()
        survey = F.open_survey(db.session, device, token)
        return _step(device, survey, exc.step, message=exc.message)
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
    previous = F.previous_step(survey, step)
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
                        window_seconds=config.get("KIOSK_DEVICE_WINDOW_SECONDS", F.DEVICE_WINDOW_SECONDS))
        db.session.commit()  # the acknowledgement is rendered only after the response is stored
        return _thanks(device, token)
    except IntegrityError:
        # A twin request stored this token first: acknowledge the stored response.
        db.session.rollback()
        if F.acknowledged_response(db.session, device, token) is None:
            raise
    except F.StaleSurvey as exc:
        db.session.rollback()
        return _welcome(device, str(exc))
    except F.StepError as exc:
        db.session.rollback()
        survey = F.open_survey(db.session, device, token)
        return _step(device, survey, exc.step, message=exc.message)
    return _thanks(device, token)


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
                                             menu=menu, services=[s for s in unit.services if s.active]), status)
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
    """A kiosk left for hours: restart the survey cleanly instead of a 400."""
    db.session.rollback()
    device = _device(touch=False)
    if device is None:
        return _unpaired()
    token = (request.view_args or {}).get("token")
    if token:
        try:
            F.abandon_survey(db.session, F.find_survey(db.session, device, token))
            db.session.commit()
        except F.StaleSurvey:
            db.session.rollback()
    return _welcome(device, "Sesi telah diperbarui. Silakan mulai lagi.")
