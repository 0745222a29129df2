"""What every blueprint shares: template filters, security headers, errors, login."""
from __future__ import annotations

from flask import Flask, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from skm.core import clock, formatting
from skm.extensions import db, login_manager
from skm.models import User
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


@login_manager.user_loader
def load_user(user_id: str):
    if not user_id.isdigit():
        return None
    return db.session.get(User, int(user_id))


def register_web(app: Flask) -> None:
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

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
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
        return {"htmx_js": "js/htmx-2.0.8.min.js", "is_htmx": bool(request.headers.get("HX-Request"))}
