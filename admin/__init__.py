"""Admin blueprint: staff, managers and administrators."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import views  # noqa: E402,F401
from . import devices  # noqa: E402,F401
from . import reports  # noqa: E402,F401
from . import followup  # noqa: E402,F401
from . import entry, data  # noqa: E402,F401
from . import accounts, charts, dashboard, periods, units  # noqa: E402,F401  (issue 4)
