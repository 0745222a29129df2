"""Admin blueprint: staff, managers and administrators."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import (  # noqa: E402,F401  # noqa: E402,F401  (issue 4)
    accounts,
    charts,
    dashboard,
    data,
    devices,  # noqa: E402,F401
    entry,
    followup,  # noqa: E402,F401
    moved,
    online,
    periods,
    public,
    publication,
    recap,
    reports,  # noqa: E402,F401
    units,
    views,  # noqa: E402,F401
)
