"""Kiosk blueprint: the lobby tablet; `online`: the same survey in the visitor's own browser."""
from flask import Blueprint

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")
online_bp = Blueprint("online", __name__)

from .screens import screen_url  # noqa: E402

bp.add_app_template_global(screen_url)

from . import online, views  # noqa: E402,F401
