"""Fast paper entry: one keyboard-only screen for typing a stack of paper questionnaires."""
from __future__ import annotations

import datetime as dt
import secrets

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from skm.core.errors import DomainError
from skm.extensions import db
from skm.intake.entry import (
    UNDO_MINUTES,
    forms_today,
    parse_entry,
    save_paper_form,
    undo_last_form,
    undoable,
    unit_today,
)
from skm.models import Unit
from skm.survey.profile import EDUCATION, GENDERS, OCCUPATION

from . import bp
from .auth import get_unit, roles_required
from .common import unit_picker

ENTRY_ROLES = ("admin", "manager", "operator")
# Session keys: the last date typed (any unit) and the last saved form (for undo).
DATE_KEY = "entry_date"
LAST_KEY = "entry_last"
SEEN_KEY = "entry_seen"  # one-time ids of the last forms saved: a resent form is not stored twice


def _default_date(unit: Unit) -> str:
    saved = session.get(DATE_KEY)
    if saved:
        try:
            return dt.date.fromisoformat(saved).strftime("%d-%m-%Y")
        except ValueError:
            pass
    return unit_today(unit).strftime("%d-%m-%Y")


def _last_saved(unit: Unit):
    last = session.get(LAST_KEY) or {}
    if last.get("unit") != unit.id:
        return None
    return undoable(db.session, unit, current_user.id, last.get("response"))


def _render(unit: Unit, values: dict, errors: dict, status: int = 200):
    questionnaire = unit.current_questionnaire
    focus = next((k for k in ["tanggal", "jam", "layanan", "jenis_kelamin", "usia", "pendidikan", "pekerjaan",
                              *[e.code for e in questionnaire.elements], "saran"] if k in errors), "jam")
    return render_template(
        "admin/entry/form.html",
        unit=unit,
        elements=questionnaire.elements,
        services=[s for s in unit.services if s.active],
        values=values,
        errors=errors,
        focus=focus,
        count_today=forms_today(db.session, unit, current_user.id),
        last=_last_saved(unit),
        undo_minutes=UNDO_MINUTES,
        form_id=secrets.token_hex(8),
        educations=EDUCATION,
        occupations=OCCUPATION,
        genders=GENDERS,
    ), status


@bp.route("/entry/")
@roles_required(*ENTRY_ROLES)
def entry_index():
    return unit_picker("admin.entry_form", "Entri formulir kertas")


@bp.route("/units/<int:unit_id>/entry", methods=["GET", "POST"])
@roles_required(*ENTRY_ROLES)
def entry_form(unit_id: int):
    unit = get_unit(unit_id)
    if request.method == "GET":
        return _render(unit, {"tanggal": _default_date(unit)}, {})
    form = {k: v for k, v in request.form.items() if k not in ("csrf_token", "form_id")}
    form_id = request.form.get("form_id", "")[:32]
    if form_id and form_id in session.get(SEEN_KEY, []):
        flash("Formulir ini sudah tersimpan; tidak disimpan dua kali.")
        return redirect(url_for("admin.entry_form", unit_id=unit.id))
    result = parse_entry(db.session, unit, form)
    if not result.ok:
        return _render(unit, form, result.errors)
    try:
        response = save_paper_form(db.session, unit, result.data, current_user.id)
    except DomainError as exc:
        db.session.rollback()
        return _render(unit, form, {"simpan": str(exc)})
    db.session.commit()
    session[DATE_KEY] = result.data.survey_date.isoformat()
    session[LAST_KEY] = {"unit": unit.id, "response": response.id}
    if form_id:
        session[SEEN_KEY] = (session.get(SEEN_KEY, []) + [form_id])[-20:]
    flash(f"Formulir tersimpan (nomor {response.id}).")
    return redirect(url_for("admin.entry_form", unit_id=unit.id))


@bp.route("/units/<int:unit_id>/entry/undo", methods=["POST"])
@roles_required(*ENTRY_ROLES)
def entry_undo(unit_id: int):
    unit = get_unit(unit_id)
    last = session.get(LAST_KEY) or {}
    response_id = last.get("response") if last.get("unit") == unit.id else None
    try:
        removed = undo_last_form(db.session, unit, current_user.id, response_id)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc))
    else:
        number = removed.id
        db.session.commit()
        session.pop(LAST_KEY, None)
        flash(f"Formulir nomor {number} dibatalkan dan dihapus.")
    return redirect(url_for("admin.entry_form", unit_id=unit.id))
