"""Kiosk blueprint: the lobby tablet."""
from flask import Blueprint

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

from . import views  # noqa: E402,F401
