"""Admin screens for kiosk tablets: list, create a pairing code/link, revoke."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from skm.core.parsing import parse_id
from skm.extensions import db
from skm.kiosk import devices as D
from skm.models import Device, Unit

from . import bp
from .auth import get_unit, roles_required
from .common import commit_or_rerender, unit_picker


def _choice_id(value) -> int:
    number = 0 if value in (0, "0") else parse_id(str(value))
    if number is None:
        raise ValueError(value)
    return number


class PairingForm(FlaskForm):
    name = StringField("Nama tablet (mis. Lobi lantai 1)", validators=[Optional(), Length(max=100, message="Maksimal 100 karakter.")])
    service_id = SelectField("Layanan", coerce=_choice_id, validate_choice=False,
                             invalid_value_message="Pilih layanan dari daftar.")


class RevokeForm(FlaskForm):
    pass


def _page(unit: Unit, form: PairingForm, created: Device | None = None):
    form.service_id.choices = [(0, "Dipilih pengunjung di tablet")] + [
        (s.id, s.name) for s in unit.services if s.active]
    return render_template("admin/devices/index.html", unit=unit, form=form, rows=D.list_devices(db.session, unit),
                           created=created, revoke_form=RevokeForm())


@bp.route("/devices/")
@roles_required("admin")
def devices_home():
    return unit_picker("admin.devices", "Tablet kiosk")


@bp.route("/units/<int:unit_id>/devices", methods=["GET", "POST"])
@roles_required("admin")
def devices(unit_id):
    unit = get_unit(unit_id)
    form = PairingForm()
    if form.validate_on_submit():
        def rerender(error: str):
            form.service_id.errors.append(error)
            return _page(unit, form)

        # Post/redirect/get: reloading the page must not create another code.
        return commit_or_rerender(
            lambda: D.create_pairing(db.session, unit, service_id=form.service_id.data or None, name=form.name.data or ""),
            rerender, None, lambda device: url_for("admin.devices", unit_id=unit.id, created=device.id), code=303)
    created = None
    created_id = parse_id(request.args.get("created", ""))
    if created_id is not None:
        created = db.session.get(Device, created_id)
        if created is None or created.unit_id != unit.id or created.pairing_code is None:
            created = None
    return _page(unit, form, created)


@bp.route("/units/<int:unit_id>/devices/<int:device_id>/revoke", methods=["POST"])
@roles_required("admin")
def revoke_device(unit_id, device_id):
    unit = get_unit(unit_id)
    device = db.session.get(Device, device_id)
    if device is None or device.unit_id != unit.id:
        abort(404)
    if RevokeForm().validate_on_submit():
        D.revoke_device(db.session, device)
        db.session.commit()
        flash(f"Izin {device.name} dicabut; tablet itu tidak dapat mengirim survei lagi.")
    return redirect(url_for("admin.devices", unit_id=unit.id))
