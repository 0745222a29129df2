"""What every blueprint shares: template filters, security headers, errors, login."""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_request_context, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.routing import BaseConverter, ValidationError

from skm.accounts import MIN_PASSWORD, user_for_session
from skm.core import clock, formatting
from skm.core.parsing import MAX_ID, parse_int
from skm.extensions import db, htmx, login_manager
from skm.scoring import ikm

ERROR_TEXT = {
    400: "Permintaan tidak valid.",
    403: "Anda tidak berhak membuka halaman ini.",
    404: "Halaman tidak ditemukan.",
    405: "Metode tidak diizinkan.",
    413: "Berkas terlalu besar.",
    429: "Terlalu banyak percobaan. Tunggu sebentar lalu coba lagi.",
    500: "Terjadi kesalahan pada server. Silakan coba lagi.",
}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'; object-src 'none'"
)

# The app uses none of these browser features: a page (or an injected frame) cannot ask for them.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "midi=(), magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), browsing-topics=()"
)
# Sent only when the cookies are Secure (the install is served over HTTPS): a year.
HSTS = "max-age=31536000"


class IdConverter(BaseConverter):
    """`<int:name>` in every route (registered under that name by create_app before the
    blueprints): ASCII digits, 0 to MAX_ID (an INTEGER column's range), else 404.
    Werkzeug's own int converter takes any Unicode digit ('١٢' opens record 12) and has
    no upper bound (a 20-digit id overflows SQLite's integers: a 500)."""

    regex = r"[0-9]{1,10}"
    weight = 50
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = parse_int(value, max=MAX_ID)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


def public_base_url() -> str:
    """The address visitors' phones reach this server at, for public links and QR codes:
    config PUBLIC_BASE_URL (env SKM_PUBLIC_BASE_URL, e.g. "https://skm.example.go.id"),
    since the server may sit behind a proxy; unset, the current request's own root."""
    configured = current_app.config.get("PUBLIC_BASE_URL") or current_app.config.get("SKM_PUBLIC_BASE_URL")
    if configured:
        return str(configured).strip().rstrip("/")
    return request.url_root.rstrip("/") if has_request_context() else ""


def security_headers(secure: bool) -> dict[str, str]:
    """The headers every response carries: Flask's (after_request below) and the static
    files WhiteNoise answers before Flask (skm.static_files). HSTS only over HTTPS."""
    headers = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
    }
    if secure:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def wants_fragment() -> bool:
    """An htmx request that swaps part of the page: not boosted (a boosted link or form
    wants the whole page) and not a history restore (htmx 2 asks for the whole page)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


@login_manager.user_loader
def load_user(session_id: str):
    # "<id>:<session version>": a revoked version (logout, new password) loads nobody.
    return user_for_session(db.session(), session_id)


def register_web(app: Flask) -> None:
    # Before any blueprint adds its rules: every <int:…> in a route is an IdConverter.
    app.url_map.converters["int"] = IdConverter
    app.jinja_env.filters.update(
        num=formatting.number_id,
        int_id=formatting.integer_id,
        pct=formatting.percent_id,
        date_id=formatting.date_id,
        datetime_id=formatting.datetime_id,
        ranked=formatting.ranked_text,
        channel=formatting.channel_label,
    )
    # The grade bands and their colours, one definition (skm.scoring.ikm) for every screen,
    # chart macro and PDF template (all rendered by this environment).
    app.jinja_env.globals.update(
        unit_datetime=clock.unit_datetime,
        unit_time=formatting.unit_datetime_id,
        grade_bands=ikm.GRADE_BANDS,
        grade_band=ikm.BAND,
        grade_color=ikm.grade_color,
        grade_for_ikm=ikm.grade_for_ikm,
    )
    app.jinja_env.globals.update(min_password=MIN_PASSWORD)
    from skm.models import CHANNELS

    app.jinja_env.globals.update(channel_codes=CHANNELS)

    @app.after_request
    def _headers(response):
        for header, value in security_headers(bool(app.config.get("SESSION_COOKIE_SECURE"))).items():
            response.headers.setdefault(header, value)
        if request.blueprint == "admin":
            # Staff pages and downloads hold personal data: never kept by the browser or a proxy.
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        # Fragments and full pages share URLs: caches must keep them apart.
        response.vary.add("HX-Request")
        return response

    def _error(code: int, message: str | None = None):
        text = message or ERROR_TEXT.get(code, "Terjadi kesalahan.")
        return render_template("error.html", code=code, message=text), code

    for code in ERROR_TEXT:
        app.register_error_handler(code, lambda exc, code=code: _error(code))

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        return _error(400, "Sesi formulir sudah kedaluwarsa atau tidak valid. Muat ulang halaman lalu coba lagi.")

    @app.route("/")
    def root():
        return redirect(url_for("admin.index"))

    @app.context_processor
    def _globals():
        return {"htmx_js": "js/htmx-2.0.8.min.js", "is_htmx": bool(htmx)}
