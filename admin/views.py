from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from skm.accounts import authenticate
from skm.extensions import db
from skm.models import Unit, utcnow

from . import bp
from .forms import LoginForm


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db.session, form.username.data, form.password.data)
        if user is None:
            form.password.errors.append("Nama pengguna atau kata sandi salah.")
        else:
            session.clear()
            session.permanent = True
            login_user(user)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("admin/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    flash("Anda telah keluar.")
    return redirect(url_for("admin.login"))


@bp.route("/")
@login_required
def index():
    units = db.session.scalars(select(Unit).order_by(Unit.name)).all()
    units = [u for u in units if current_user.can_access_unit(u.id)]
    return render_template("admin/index.html", units=units)
