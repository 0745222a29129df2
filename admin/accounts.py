"""Accounts: admins create, disable, reset passwords and assign units."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from skm.accounts import create_user, end_all_sessions, set_password, update_user
from skm.core.errors import DomainError
from skm.core.parsing import parse_id
from skm.extensions import db
from skm.models import ROLES, Unit, User

from . import bp
from .auth import roles_required
from .common import commit_or_rerender

ROLE_LABELS = {"admin": "Admin", "manager": "Manajer", "operator": "Operator"}


def _selected_units() -> list[Unit]:
    ids = [n for n in map(parse_id, request.form.getlist("units")) if n is not None]
    if not ids:
        return []
    return list(db.session.scalars(select(Unit).where(Unit.id.in_(ids))))


def _all_units():
    return db.session.scalars(select(Unit).order_by(Unit.name)).all()


@bp.route("/accounts")
@roles_required("admin")
def accounts():
    users = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template("admin/accounts/list.html", users=users, role_labels=ROLE_LABELS)


@bp.route("/accounts/new", methods=["GET", "POST"])
@roles_required("admin")
def account_new():
    def page(values: dict, errors: list[str]):
        return render_template("admin/accounts/new.html", errors=errors, values=values, roles=ROLES,
                               role_labels=ROLE_LABELS, units=_all_units())

    if request.method != "POST":
        return page({"username": "", "role": "operator", "units": []}, [])
    values = {"username": request.form.get("username", ""), "role": request.form.get("role", ""),
              "units": [n for n in map(parse_id, request.form.getlist("units")) if n is not None]}
    password = request.form.get("password", "")

    def create():
        if password != request.form.get("confirm", ""):
            raise DomainError("Konfirmasi kata sandi tidak sama.")
        return create_user(db.session, values["username"], password, values["role"], _selected_units())

    return commit_or_rerender(create, lambda error: page(values, [error]),
                              lambda user: f"Akun {user.username} dibuat.", url_for("admin.accounts"))


@bp.route("/accounts/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def account_edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    errors: list[str] = []
    if request.method == "POST":
        action = request.form.get("action", "save")
        try:
            if action == "reset":
                password = request.form.get("password", "")
                if password != request.form.get("confirm", ""):
                    raise DomainError("Konfirmasi kata sandi tidak sama.")
                set_password(db.session, user, password)
                message = f"Kata sandi {user.username} diatur ulang."
            elif action == "signout":
                end_all_sessions(db.session, user)
                message = f"Semua sesi {user.username} telah diakhiri."
            else:
                update_user(db.session, user, request.form.get("role", ""), request.form.get("active") == "1",
                            _selected_units(), acting=current_user)
                message = f"Akun {user.username} disimpan."
        except DomainError as exc:
            db.session.rollback()
            errors.append(str(exc))
        else:
            db.session.commit()
            flash(message)
            if user.id == current_user.id and action in ("reset", "signout"):
                return redirect(url_for("admin.login"))  # the admin's own session ended too
            return redirect(url_for("admin.account_edit", user_id=user.id))
    return render_template("admin/accounts/edit.html", user=user, errors=errors, roles=ROLES,
                           role_labels=ROLE_LABELS, units=_all_units())
