"""A unit's publication: opt-out, withdraw or republish a period, public photos.

Closing a period publishes it (skm.survey.publication); these pages let the unit's
managers and the admins see what is public and take it back. Every change is logged.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from skm.core.errors import DomainError
from skm.core.parsing import parse_id
from skm.extensions import db
from skm.followup.public import set_photo_public
from skm.models import FollowUpPhoto, Period, User
from skm.survey import publication as P

from . import bp
from .auth import get_unit, require_unit, roles_required
from .common import period_arg

EDITORS = ("admin", "manager")


@bp.route("/units/<int:unit_id>/publikasi")
@roles_required(*EDITORS)
def unit_publication(unit_id: int):
    unit = get_unit(unit_id)
    names = {u.id: u.username for u in db.session.scalars(select(User))}
    return render_template("admin/publication/unit.html", unit=unit, opted_out=P.opted_out(db.session, unit),
                           states=P.period_states(db.session, unit), log=P.publication_log(db.session, unit),
                           names=names, labels=P.ACTION_LABELS)


def _apply(unit_id: int, change, done: str):
    unit = get_unit(unit_id)
    try:
        change(unit)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc))
    else:
        db.session.commit()
        flash(done)
    return redirect(url_for("admin.unit_publication", unit_id=unit.id))


@bp.route("/units/<int:unit_id>/publikasi/pilihan", methods=["POST"])
@roles_required(*EDITORS)
def unit_publication_choice(unit_id: int):
    choice = request.form.get("publish", "")
    note = request.form.get("note", "")

    def change(unit):
        if choice not in ("0", "1"):
            raise DomainError("Pilih apakah hasil unit dipublikasikan.")
        P.set_opt_out(db.session, unit, current_user, choice == "0", note)

    done = "Hasil unit tidak lagi dipublikasikan." if choice == "0" else "Hasil unit dipublikasikan."
    return _apply(unit_id, change, done)


def _period(period_id: int) -> Period:
    return db.session.get(Period, period_id) or abort(404)


@bp.route("/units/<int:unit_id>/publikasi/<int:period_id>/tarik", methods=["POST"])
@roles_required(*EDITORS)
def unit_publication_withdraw(unit_id: int, period_id: int):
    period = _period(period_id)
    return _apply(unit_id, lambda unit: P.withdraw(db.session, unit, period, current_user,
                                                   request.form.get("note", "")),
                  f"Publikasi hasil periode {period.name} ditarik.")


@bp.route("/units/<int:unit_id>/publikasi/<int:period_id>/terbitkan", methods=["POST"])
@roles_required(*EDITORS)
def unit_publication_republish(unit_id: int, period_id: int):
    period = _period(period_id)
    return _apply(unit_id, lambda unit: P.republish(db.session, unit, period, current_user,
                                                    request.form.get("note", "")),
                  f"Hasil periode {period.name} dipublikasikan kembali.")


SUGGESTION_PAGE = 100


@bp.route("/units/<int:unit_id>/publikasi/saran")
@roles_required(*EDITORS)
def unit_publication_suggestions(unit_id: int):
    unit = get_unit(unit_id)
    period = period_arg()
    if period is None:
        flash("Pilih periode terlebih dahulu.")
        return redirect(url_for("admin.unit_publication", unit_id=unit.id))
    rows, total = P.period_suggestions(db.session, unit, period, SUGGESTION_PAGE)
    return render_template("admin/publication/suggestions.html", unit=unit, period=period, rows=rows, total=total,
                           picked=P.picked_ids(db.session, unit),
                           published=P.is_published(db.session, unit, period))


@bp.route("/units/<int:unit_id>/publikasi/saran/<int:response_id>", methods=["POST"])
@roles_required(*EDITORS)
def unit_publication_pick(unit_id: int, response_id: int):
    public = request.form.get("public") == "1"
    back = request.form.get("period", "")
    unit = get_unit(unit_id)
    try:
        P.set_suggestion_public(db.session, unit, response_id, current_user, public)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc))
    else:
        db.session.commit()
        flash("Saran ditampilkan di halaman publik." if public else "Saran tidak lagi ditampilkan di halaman publik.")
    if parse_id(back):
        return redirect(url_for("admin.unit_publication_suggestions", unit_id=unit.id, period=back))
    return redirect(url_for("admin.unit_publication", unit_id=unit.id))


@bp.route("/rtl/photo/<int:photo_id>/publik", methods=["POST"])
@roles_required(*EDITORS)
def followup_photo_public(photo_id: int):
    photo = db.session.get(FollowUpPhoto, photo_id) or abort(404)
    require_unit(photo.unit_id)
    public = request.form.get("public") == "1"
    try:
        set_photo_public(db.session, photo, current_user, public)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc))
    else:
        db.session.commit()
        flash("Foto ditampilkan di halaman publik." if public else "Foto tidak lagi ditampilkan di halaman publik.")
    return redirect(url_for("admin.followup_action", action_id=photo.action_id, _anchor="foto"))
