"""Unit setup: settings, logo, kiosk PIN, services, questionnaire versions, alert rule."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from skm.core.clock import TIMEZONES
from skm.core.errors import DomainError
from skm.core.parsing import parse_int
from skm.extensions import db
from skm.kiosk.devices import set_kiosk_pin
from skm.models import Service
from skm.scoring.analytics import alert_rule, update_alert_rule
from skm.survey.unit_settings import (
    LOGO_MAX_BYTES,
    add_service,
    logo_file,
    questionnaire_from_rows,
    set_service_retired,
    store_logo,
    update_signature_block,
    update_unit_settings,
)
from skm.survey.units import create_unit

from . import bp
from .auth import accessible_units, get_unit, roles_required
from .common import commit_or_rerender

EDITOR_BLANK_ROWS = 2


@bp.route("/units", methods=["GET", "POST"])
@roles_required("admin", "manager", "operator")
def units():
    def page(errors: list[str]):
        return render_template("admin/units/list.html", units=accessible_units(), errors=errors,
                               timezones=TIMEZONES, form=request.form)

    if request.method == "POST":
        if current_user.role != "admin":
            abort(403)
        return commit_or_rerender(
            lambda: create_unit(db.session, request.form.get("code", ""), request.form.get("name", ""),
                                timezone=request.form.get("timezone") if request.form.get("timezone") in TIMEZONES else "WIB"),
            lambda error: page([error]),
            lambda unit: f"Unit {unit.code} dibuat dengan sembilan unsur standar.",
            lambda unit: url_for("admin.unit_settings", unit_id=unit.id))
    return page([])


@bp.route("/units/<int:unit_id>/settings", methods=["GET", "POST"])
@roles_required("admin")
def unit_settings(unit_id: int):
    unit = get_unit(unit_id)
    errors: list[str] = []
    form = None
    if request.method == "POST":
        form = request.form
        errors = update_unit_settings(db.session, unit, request.form.to_dict())
        if errors:
            db.session.rollback()
        else:
            db.session.commit()
            flash("Pengaturan unit disimpan.")
            return redirect(url_for("admin.unit_settings", unit_id=unit.id))
    return render_template("admin/units/settings.html", unit=unit, errors=errors, form=form,
                           timezones=TIMEZONES, logo_max_mb=LOGO_MAX_BYTES // (1024 * 1024))


@bp.route("/units/<int:unit_id>/tanda-tangan", methods=["GET", "POST"])
@roles_required("admin", "manager")
def unit_signature(unit_id: int):
    """The reports' signature block: an admin, or the manager of this unit."""
    unit = get_unit(unit_id)
    errors: list[str] = []
    form = None
    if request.method == "POST":
        form = request.form
        errors = update_signature_block(db.session, unit, request.form.to_dict())
        if errors:
            db.session.rollback()
        else:
            db.session.commit()
            flash("Blok tanda tangan disimpan.")
            return redirect(url_for("admin.unit_signature", unit_id=unit.id))
    return render_template("admin/units/signature.html", unit=unit, errors=errors, form=form)


@bp.route("/units/<int:unit_id>/logo", methods=["POST"])
@roles_required("admin")
def unit_logo_upload(unit_id: int):
    unit = get_unit(unit_id)
    upload = request.files.get("logo")
    data = upload.read(LOGO_MAX_BYTES + 1) if upload else b""
    try:
        store_logo(db.session, unit, data, current_app.config["UPLOAD_FOLDER"])
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc))
    else:
        db.session.commit()
        flash("Logo unit disimpan.")
    return redirect(url_for("admin.unit_settings", unit_id=unit.id))


@bp.route("/units/<int:unit_id>/logo.png")
@roles_required("admin", "manager", "operator")
def unit_logo(unit_id: int):
    unit = get_unit(unit_id)
    path = logo_file(unit, current_app.config["UPLOAD_FOLDER"])
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/png", max_age=300)
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.route("/units/<int:unit_id>/pin", methods=["GET", "POST"])
@roles_required("admin", "operator")
def unit_pin(unit_id: int):
    unit = get_unit(unit_id)
    errors: list[str] = []
    if request.method == "POST":
        try:
            set_kiosk_pin(db.session, unit, request.form.get("pin", ""), request.form.get("confirm") or "")
        except DomainError as exc:
            db.session.rollback()
            errors.append(str(exc))
        else:
            db.session.commit()
            flash("PIN kiosk diubah.")
            return redirect(url_for("admin.unit_pin", unit_id=unit.id))
    return render_template("admin/units/pin.html", unit=unit, errors=errors)


@bp.route("/units/<int:unit_id>/services", methods=["GET", "POST"])
@roles_required("admin")
def unit_services(unit_id: int):
    unit = get_unit(unit_id)
    if request.method == "POST":
        return commit_or_rerender(
            lambda: add_service(db.session, unit, request.form.get("name", "")),
            lambda error: render_template("admin/units/services.html", unit=unit, errors=[error]),
            lambda service: f"Layanan {service.name} disimpan.",
            url_for("admin.unit_services", unit_id=unit.id))
    return render_template("admin/units/services.html", unit=unit, errors=[])


@bp.route("/units/<int:unit_id>/services/<int:service_id>/retire", methods=["POST"])
@roles_required("admin")
def unit_service_retire(unit_id: int, service_id: int):
    unit = get_unit(unit_id)
    service = db.session.get(Service, service_id)
    if service is None or service.unit_id != unit.id:
        abort(404)
    retire = request.form.get("retired", "1") == "1"
    set_service_retired(db.session, service, retire)
    db.session.commit()
    flash(f"Layanan {service.name} " + ("dinonaktifkan; riwayatnya tetap tersimpan." if retire else "diaktifkan kembali."))
    return redirect(url_for("admin.unit_services", unit_id=unit.id))


def _editor_rows(form) -> list[dict]:
    rows = []
    count = min(parse_int(form.get("rows", "0")) or 0, 100)
    for i in range(count):
        rows.append({k: form.get(f"{k}-{i}", "") for k in
                     ("code", "name", "question", "label1", "label2", "label3", "label4", "position", "remove")})
    return rows


@bp.route("/units/<int:unit_id>/questionnaire", methods=["GET", "POST"])
@roles_required("admin")
def unit_questionnaire(unit_id: int):
    unit = get_unit(unit_id)
    current = unit.current_questionnaire

    def page(rows: list[dict], errors: list[str]):
        return render_template("admin/units/questionnaire.html", unit=unit, rows=rows, errors=errors,
                               versions=list(reversed(unit.questionnaires)))

    if request.method == "POST":
        rows = _editor_rows(request.form)
        return commit_or_rerender(
            lambda: questionnaire_from_rows(db.session, unit, rows),
            lambda error: page(rows, [error]),
            lambda questionnaire: f"Kuesioner versi {questionnaire.version} disimpan; jawaban lama tetap memakai versinya.",
            url_for("admin.unit_questionnaire", unit_id=unit.id))
    rows = [{"code": e.code, "name": e.name, "question": e.question, "label1": e.label1, "label2": e.label2,
             "label3": e.label3, "label4": e.label4, "position": e.position} for e in current.elements]
    rows += [{"position": len(rows) + i + 1} for i in range(EDITOR_BLANK_ROWS)]
    return page(rows, [])


@bp.route("/units/<int:unit_id>/alert-rule", methods=["GET", "POST"])
@roles_required("admin")
def unit_alert_rule(unit_id: int):
    unit = get_unit(unit_id)
    errors: list[str] = []
    if request.method == "POST":
        errors = update_alert_rule(db.session, unit, request.form.to_dict())
        if errors:
            db.session.rollback()
        else:
            db.session.commit()
            flash("Aturan peringatan disimpan.")
            return redirect(url_for("admin.unit_alert_rule", unit_id=unit.id))
    return render_template("admin/units/alert_rule.html", unit=unit, rule=alert_rule(db.session, unit),
                           errors=errors, form=request.form if errors else None)
