from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from skm.accounts import (
    WrongCurrentPassword,
    authenticate,
    change_own_password,
    clear_login_failures,
    end_all_sessions,
    login_wait_seconds,
    password_throttle_keys,
    record_login_failure,
    start_session,
    throttle_keys,
)
from skm.core.errors import DomainError
from skm.extensions import db
from skm.reports.overview import overview

from . import bp
from .auth import accessible_units, roles_required
from .forms import LoginForm, PasswordChangeForm

# Idle minutes before a session ends; PERMANENT_SESSION_LIFETIME caps a session from login.
DEFAULT_IDLE_MINUTES = 30


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("admin.index")


def _begin_session(user) -> None:
    """A fresh signed cookie for this user (its session version inside, see User.get_id)."""
    session.clear()
    session.permanent = True
    login_user(user)
    session["login_at"] = session["seen_at"] = time.time()


@bp.before_app_request
def _session_expiry():
    """End a session after idle time, after the absolute lifetime or when the account is
    disabled. (A revoked session version loads no user at all: skm.web.load_user.)"""
    if not request.blueprint == "admin" or not current_user.is_authenticated:
        return None
    now = time.time()
    idle = current_app.config.get("ADMIN_IDLE_MINUTES", DEFAULT_IDLE_MINUTES) * 60
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    seen = session.get("seen_at", 0)
    started = session.get("login_at", 0)
    if now - seen > idle or now - started > lifetime or not current_user.is_active:
        logout_user()
        session.clear()
        flash("Sesi Anda telah berakhir. Silakan masuk kembali.")
        if request.method == "GET":
            return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
        return redirect(url_for("admin.login"))
    session["seen_at"] = now
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        keys = throttle_keys(form.username.data, request.remote_addr)
        wait = login_wait_seconds(db.session, keys)
        if wait:
            form.password.errors.append(
                f"Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {wait} detik.")
            status = 429
        else:
            user = authenticate(db.session, form.username.data, form.password.data)
            if user is None:
                record_login_failure(db.session, keys)
                db.session.commit()
                form.password.errors.append("Nama pengguna atau kata sandi salah.")
            else:
                clear_login_failures(db.session, keys)
                start_session(db.session, user)
                db.session.commit()
                _begin_session(user)
                return redirect(_safe_next(request.args.get("next")))
    return render_template("admin/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Ends this account's sessions on the server, so a copied cookie stops working too.
    return _end_sessions("Anda telah keluar.")


def _end_sessions(message: str):
    """End every session of this account on the server (every copied cookie too), then this one."""
    end_all_sessions(db.session, current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash(message)
    return redirect(url_for("admin.login"))


@bp.route("/password", methods=["GET", "POST"])
@roles_required("admin", "manager", "operator")
def change_password():
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        keys = password_throttle_keys(current_user)
        wait = login_wait_seconds(db.session, keys)
        if wait:
            form.current.errors.append(f"Terlalu banyak percobaan yang salah. Coba lagi dalam {wait} detik.")
            status = 429
        else:
            try:
                change_own_password(db.session, current_user, form.current.data, form.new.data, form.confirm.data)
            except WrongCurrentPassword as exc:
                db.session.rollback()
                record_login_failure(db.session, keys)
                db.session.commit()
                form.current.errors.append(str(exc))
            except DomainError as exc:
                db.session.rollback()
                form.new.errors.append(str(exc))
            else:
                clear_login_failures(db.session, keys)
                db.session.commit()
                _begin_session(current_user._get_current_object())  # every other session ended; this one goes on
                flash("Kata sandi berhasil diubah. Sesi di perangkat lain telah diakhiri.")
                return redirect(url_for("admin.index"))
    return render_template("admin/password.html", form=form), status


@bp.route("/sessions/end", methods=["POST"])
@roles_required("admin", "manager", "operator")
def end_own_sessions():
    """"Keluar dari semua perangkat": every session of this account ends, this one too."""
    return _end_sessions("Semua sesi akun Anda telah diakhiri. Silakan masuk kembali.")


@bp.route("/")
@login_required
def index():
    units = accessible_units()
    rows = overview(db.session, units) if current_user.role in ("admin", "manager") else []
    return render_template("admin/index.html", units=units, rows=rows)
