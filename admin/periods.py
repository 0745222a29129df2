"""Periods: one-click creation, custom ranges, population per unit, closing and reopening."""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from skm.core.errors import DomainError
from skm.core.parsing import parse_int
from skm.extensions import db
from skm.models import Period, PeriodUnit, User
from skm.survey.period_admin import (
    close_period,
    create_custom_period,
    create_periods,
    period_log,
    periods_newest_first,
    reopen_period,
    set_population,
    spans_for_year,
)

from . import bp
from .auth import accessible_units, get_unit, roles_required

KIND_LABELS = {"triwulan": "Triwulan", "semester": "Semester", "tahun": "Tahun", "custom": "Rentang tanggal"}


def _int_or_none(text: str | None, label: str):
    text = (text or "").strip().replace(".", "")
    if not text:
        return None
    number = parse_int(text)
    if number is None:
        raise DomainError(f"{label} harus bilangan bulat.")
    return number


def _date(text: str | None, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        raise DomainError(f"{label} tidak valid (format TTTT-BB-HH).") from None


@bp.route("/periods", methods=["GET", "POST"])
@roles_required("admin", "manager")
def periods():
    errors: list[str] = []
    if request.method == "POST":
        if current_user.role != "admin":
            abort(403)
        try:
            population = _int_or_none(request.form.get("population"), "Populasi")
            if request.form.get("mode") == "custom":
                created = [create_custom_period(db.session, _date(request.form.get("start"), "Tanggal mulai"),
                                                _date(request.form.get("end"), "Tanggal selesai"),
                                                request.form.get("name", ""), population)]
            else:
                year = _int_or_none(request.form.get("year"), "Tahun")
                if year is None:
                    raise DomainError("Tahun wajib diisi.")
                number = _int_or_none(request.form.get("number"), "Nomor")
                created = create_periods(db.session, spans_for_year(request.form.get("kind", ""), year, number),
                                         population)
        except DomainError as exc:
            db.session.rollback()
            errors.append(str(exc))
        else:
            db.session.commit()
            flash("Periode dibuat: " + ", ".join(p.name for p in created) + ".")
            return redirect(url_for("admin.periods"))
    return render_template("admin/periods/list.html", periods=periods_newest_first(db.session), errors=errors,
                           kind_labels=KIND_LABELS, form=request.form, this_year=dt.date.today().year)


@bp.route("/periods/<int:period_id>")
@roles_required("admin", "manager")
def period_detail(period_id: int):
    period = db.session.get(Period, period_id) or abort(404)
    units = accessible_units()
    states = {row.unit_id: row for row in db.session.scalars(
        select(PeriodUnit).where(PeriodUnit.period_id == period.id))}
    log = period_log(db.session, period, [u.id for u in units])
    names = {u.id: u.username for u in db.session.scalars(select(User))}
    return render_template("admin/periods/detail.html", period=period, units=units, states=states, log=log,
                           names=names, kind_labels=KIND_LABELS)


def _period_and_unit(period_id: int, unit_id: int):
    period = db.session.get(Period, period_id) or abort(404)
    return period, get_unit(unit_id)


@bp.route("/periods/<int:period_id>/units/<int:unit_id>/population", methods=["POST"])
@roles_required("admin", "manager")  # a manager for their own units (unit check in _period_and_unit)
def period_population(period_id: int, unit_id: int):
    period, unit = _period_and_unit(period_id, unit_id)
    try:
        set_population(db.session, period, unit, _int_or_none(request.form.get("population"), "Populasi"))
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc))
    else:
        db.session.commit()
        flash(f"Populasi {unit.code} untuk {period.name} disimpan.")
    return redirect(url_for("admin.period_detail", period_id=period.id))


def _change_state(period_id: int, unit_id: int, change, done_message):
    """Close or reopen a period for a unit (recorded with who and when), then back to the period."""
    period, unit = _period_and_unit(period_id, unit_id)
    try:
        change(db.session, period, unit, current_user, request.form.get("note", ""))
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc))
    else:
        db.session.commit()
        flash(done_message(period, unit))
    return redirect(url_for("admin.period_detail", period_id=period.id))


@bp.route("/periods/<int:period_id>/units/<int:unit_id>/close", methods=["POST"])
@roles_required("admin", "manager")
def period_close(period_id: int, unit_id: int):
    return _change_state(period_id, unit_id, close_period,
                         lambda period, unit: f"Periode {period.name} ditutup untuk {unit.code}.")


@bp.route("/periods/<int:period_id>/units/<int:unit_id>/reopen", methods=["POST"])
@roles_required("admin")
def period_reopen(period_id: int, unit_id: int):
    return _change_state(period_id, unit_id, reopen_period, lambda period, unit: (
        f"Periode {period.name} dibuka kembali untuk {unit.code}; tercatat atas nama {current_user.username}."))
