"""QR codes of the public online survey: /survei/<UNIT CODE>/qr.png and .svg
(`?layanan=<service id>` for one service). Public, cacheable, no personal data.
The survey page itself (/survei/<code>) is kiosk/online.py's."""
from __future__ import annotations

from typing import Optional

from flask import Blueprint, abort, make_response, request, url_for

from skm.extensions import db
from skm.models import Service, Unit
from skm.online import links
from skm.online import qr as Q
from skm.web import public_base_url

bp = Blueprint("qr", __name__)

QR_CACHE = "public, max-age=3600"
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


@bp.route("/survei/<code>/qr.<any(png, svg):kind>")
def survey_qr(code: str, kind: str):
    try:
        unit, service = links.survey_target(db.session, code, request.args.get("layanan"))
    except links.NotFound:
        abort(404)
    url = links.survey_url(public_base_url(), unit, service)
    body = Q.png_bytes(url) if kind == "png" else Q.svg_bytes(url, title=f"QR survei {unit.name}")
    response = make_response(body)
    response.headers["Content-Type"] = MEDIA_TYPES[kind]
    response.headers["Cache-Control"] = QR_CACHE
    return response


@bp.app_template_global()
def survey_link(unit: Unit, service: Optional[Service] = None) -> str:
    """The full public URL of the unit's (service's) online survey, as its QR encodes it."""
    return links.survey_url(public_base_url(), unit, service)


@bp.app_template_global()
def survey_qr_src(unit: Unit, service: Optional[Service] = None, kind: str = "svg") -> str:
    args = {"layanan": service.id} if service is not None else {}
    return url_for("qr.survey_qr", code=unit.code, kind=kind, **args)
