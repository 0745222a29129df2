"""Role and unit checks for admin views."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def roles_required(*roles):
    """Allow only these roles; anonymous users go to the login page."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        # Read by the access-control walk in tests (tests/test_admin_access.py).
        wrapped.allowed_roles = tuple(roles)
        return wrapped

    return decorator


def require_unit(unit_id: int) -> None:
    """403 unless the current user may see this unit."""
    if not current_user.is_authenticated or not current_user.can_access_unit(unit_id):
        abort(403)


def get_unit(unit_id: int):
    """The unit, after the unit check: 404 if it does not exist, 403 if not the user's."""
    from skm.extensions import db
    from skm.models import Unit

    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    require_unit(unit.id)
    return unit


def accessible_units():
    """Units the current user may see, by name."""
    from sqlalchemy import select

    from skm.extensions import db
    from skm.models import Unit

    units = db.session.scalars(select(Unit).order_by(Unit.name)).all()
    return [u for u in units if current_user.can_access_unit(u.id)]
