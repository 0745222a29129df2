"""Public results pages (no login): /publik for phones and lobby screens.

Only what skm.survey.publication says is published is shown: closed, not withdrawn
periods of units that did not opt out. Registered on the public blueprint of the lobby
poster (admin.reports.display_bp), outside /admin.
"""
from __future__ import annotations

from flask import abort, current_app, make_response, render_template, request, send_file
from sqlalchemy import select

from skm.core.errors import DomainError
from skm.extensions import db
from skm.followup import photos
from skm.followup.public import public_photo, rotating_item
from skm.models import Period, Unit
from skm.reports.public import public_overview, public_unit
from skm.reports.render import build, filename
from skm.survey.publication import is_published

from .reports import display_bp

LOBBY_REFRESH_SECONDS = 300
# Pages revalidate on every visit, so a withdrawn publication disappears at once; a poster
# already downloaded is the visitor's copy anyway.
PAGE_CACHE = "no-cache"
POSTER_CACHE = "public, max-age=300"


def _lobby() -> bool:
    return request.args.get("layar") == "1"


def _page(template: str, **ctx):
    response = make_response(render_template(template, lobby=_lobby(), refresh=LOBBY_REFRESH_SECONDS, **ctx))
    response.headers["Cache-Control"] = PAGE_CACHE
    return response


def _unit_by_code(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code.upper()))
    if unit is None:
        abort(404)
    return unit


@display_bp.route("/publik")
def public_index():
    overview = public_overview(db.session)
    return _page("public/index.html", units=overview.units, items=overview.items)


@display_bp.route("/publik/<code>")
def public_unit_page(code: str):
    data = public_unit(db.session, _unit_by_code(code))
    if data is None:
        abort(404)
    return _page("public/unit.html", u=data)


@display_bp.route("/publik/<code>/poster/<int:period_id>.pdf")
def public_poster(code: str, period_id: int):
    unit = _unit_by_code(code)
    period = db.session.get(Period, period_id)
    if period is None or not is_published(db.session, unit, period):
        abort(404)
    response = make_response(build("poster", db.session, unit, period))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename("poster", unit, period)}"'
    response.headers["Cache-Control"] = POSTER_CACHE
    return response


@display_bp.route("/publik/foto/<int:photo_id>/<any(full, thumb):size>")
def public_photo_file(photo_id: int, size: str):
    photo = public_photo(db.session, photo_id)
    if photo is None:
        abort(404)
    try:
        path = photos.photo_path(current_app.config["UPLOAD_FOLDER"], photo, thumb=size == "thumb")
        response = send_file(path, mimetype=photo.mime_type, max_age=0, conditional=True)
    except (FileNotFoundError, DomainError):
        abort(404)
    response.headers["Cache-Control"] = PAGE_CACHE
    return response


@display_bp.app_template_global()
def said_done_item(unit_code: str | None):
    """One realized follow-up action of the unit, for the lobby poster and the kiosk's
    thank-you screen (templates/public/_said_done_one.html); None when there is none."""
    if not unit_code:
        return None
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    return rotating_item(db.session, unit) if unit is not None else None
