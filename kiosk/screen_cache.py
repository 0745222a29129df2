"""Survey step screens rendered once and reused (issue 14: a kiosk step against its floor).

Every tablet of a unit walks the same dozen step screens. Two renders of one step differ only
by the survey's token (in the forms' URLs) and the request's CSRF token; everything else a
screen shows comes from its context (the unit's row, the element's text, the step, the answer
given before, a message...). So a screen is rendered once per distinct context, kept with the
two tokens cut out, and later requests put their own tokens back in: a string replace instead
of a Jinja render (the largest part of a step's CPU otherwise).

The context is the key, by value: a unit's every column (an edited name or logo is a new
key at once, in every worker, since each request reads the unit's row), the element's text,
services by their columns. What the screens read from the survey is only its token (cut
out); the device is not shown on a step screen (only on the full page and the staff panel,
which are never cached). A context value of any other kind is not cached (rendered as
before). Off under template auto-reload (debug), where a template may change underneath.
"""
from __future__ import annotations

import dataclasses
import operator
import threading
from collections.abc import Callable
from typing import Any, Optional

from flask import current_app, g, render_template, request
from flask_wtf.csrf import generate_csrf

from skm.models import KioskSurvey
from skm.survey.profile import EDUCATION, GENDERS, OCCUPATION

MAX_SCREENS = 1024
_TOKEN = "\x00token\x00"
_CSRF = "\x00csrf\x00"
_lock = threading.Lock()


class _Uncacheable(Exception):
    pass


_COLUMNS: dict[type, tuple[tuple[str, ...], Callable[[dict], tuple]]] = {}
# The answer lists every profile screen gets: constants, keyed by name instead of by value.
_CONSTANTS = {id(GENDERS): "GENDERS", id(EDUCATION): "EDUCATION", id(OCCUPATION): "OCCUPATION"}


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a context value, equal exactly when the value renders the same."""
    if value is None or type(value) is str:
        return value
    if isinstance(value, (bool, int, float, str)):
        return type(value), value  # True, 1 and 1.0 are equal keys but render differently; Markup
    if isinstance(value, (list, tuple)):
        if all(type(v) is str for v in value):  # the steps
            return tuple(value)
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        if id(value) in _CONSTANTS:
            return _CONSTANTS[id(value)]
        return tuple((k, _frozen(v)) for k, v in value.items())
    if dataclasses.is_dataclass(value) and getattr(value, "__hash__", None) is not None:
        return value  # frozen dataclasses (flow.ElementText)
    table = getattr(type(value), "__table__", None)
    if table is not None:  # a model row: every column
        columns = _COLUMNS.get(type(value))
        if columns is None:
            keys = tuple(c.key for c in table.columns)
            columns = _COLUMNS[type(value)] = (keys, operator.itemgetter(*keys))
        try:
            return type(value), columns[1](value.__dict__)  # the loaded values, read at once
        except KeyError:  # a column not loaded: load it
            return type(value), tuple(getattr(value, k) for k in columns[0])
    raise _Uncacheable(type(value))


def _screens() -> Optional[dict]:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.jinja_env.auto_reload:
        return None
    return app.extensions.setdefault("kiosk_screens", {})


def render_screen(template: str, ctx: dict) -> str:
    """render_template(template, **ctx) for a survey step screen, from the cache when this
    context was rendered before."""
    screens = _screens()
    survey = ctx.get("survey")
    if screens is None or not isinstance(survey, KioskSurvey):
        return render_template(template, **ctx)
    try:
        key = (template, request.script_root,
               tuple((k, _frozen(v)) for k, v in ctx.items() if k not in ("survey", "device")))
        cached = screens.get(key)
    except (_Uncacheable, TypeError):  # TypeError: an unhashable value inside
        return render_template(template, **ctx)
    if cached is not None:
        html = cached.replace(_TOKEN, survey.token)
        return html.replace(_CSRF, generate_csrf()) if _CSRF in html else html
    html = render_template(template, **ctx)
    if "\x00" not in html:
        entry = html.replace(survey.token, _TOKEN)
        csrf = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
        if csrf:
            entry = entry.replace(csrf, _CSRF)
        with _lock:
            if len(screens) >= MAX_SCREENS:
                screens.clear()
            screens[key] = entry
    return html
