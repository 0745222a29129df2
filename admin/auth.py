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

        return wrapped

    return decorator


def require_unit(unit_id: int) -> None:
    """403 unless the current user may see this unit."""
    if not current_user.is_authenticated or not current_user.can_access_unit(unit_id):
        abort(403)
