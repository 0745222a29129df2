"""What many admin views share: the unit picker of a menu entry and the one-change
commit-or-rerender step of a form."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, Union

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from skm.core.errors import DomainError
from skm.core.parsing import parse_id
from skm.extensions import db
from skm.models import Period

from .auth import accessible_units

T = TypeVar("T")


def unit_picker(endpoint: str, title: str) -> ResponseReturnValue:
    """A menu entry's first page: straight to the unit's page when the user has one unit,
    else the list of the user's units, each linking to `endpoint` (which takes unit_id)."""
    units = accessible_units()
    if len(units) == 1:
        return redirect(url_for(endpoint, unit_id=units[0].id))
    return render_template("admin/unit_picker.html", units=units, endpoint=endpoint, title=title)


def commit_or_rerender(change: Callable[[], T], rerender: Callable[[str], ResponseReturnValue],
                       message: Union[str, Callable[[T], str], None], to: Union[str, Callable[[T], str]],
                       code: int = 302) -> ResponseReturnValue:
    """Run one domain change. A DomainError rolls it back and rerenders the form with the
    message (status 200, which htmx swaps); otherwise commit once, flash `message` (if any)
    and redirect to `to` (each may be a function of the change's result)."""
    try:
        result = change()
    except DomainError as exc:
        db.session.rollback()
        return rerender(str(exc))
    db.session.commit()
    if message is not None:
        flash(message(result) if callable(message) else message)
    return redirect(to(result) if callable(to) else to, code=code)


def period_arg(name: str = "period") -> Period | None:
    """The period a query-string argument names (an ASCII id), or None."""
    number = parse_id(request.args.get(name, ""))
    return db.session.get(Period, number) if number else None
