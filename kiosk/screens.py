"""Rendering the survey screens, shared by the lobby tablet (kiosk/views.py) and the
visitor's own phone (kiosk/online.py): one set of templates (templates/kiosk/screens/),
one step context, one place that says which URL each screen's forms post to."""
from __future__ import annotations

from collections.abc import Callable
from typing import Optional

from flask import (
    current_app,
    get_template_attribute,
    has_request_context,
    make_response,
    render_template,
    request,
    url_for,
)

from skm.extensions import db
from skm.kiosk import flow as F
from skm.models import Unit
from skm.survey.profile import EDUCATION, GENDERS, OCCUPATION
from skm.web import wants_fragment

from .screen_cache import render_screen as cached_screen

IDLE_COUNTDOWN = 20  # seconds of "Masih di sana?" (the WCAG minimum to extend a limit)
SCREEN_URLS = "skm.screen_urls"  # per request (WSGI environ), never shared with the next one


def use_screen_urls(urls: Callable[..., str]) -> None:
    """This request's screens post to another channel's URLs (kiosk/online.py)."""
    request.environ[SCREEN_URLS] = urls


def screen_url(name: str, **values) -> str:
    """The URL of a survey action ("index", "start", "step", "back", "send", "abandon",
    "logo", "outbox") for the channel serving this request: the kiosk's by default, the
    online survey's when its view called use_screen_urls. A Jinja global (templates use it)."""
    urls: Optional[Callable[..., str]] = request.environ.get(SCREEN_URLS) if has_request_context() else None
    if urls is not None:
        return urls(name, **values)
    return url_for("kiosk." + name, **values)


def step_kind(step: str) -> str:
    return "element" if step.startswith("el-") else step


def step_context(survey, step: str, unit: Unit, blank: bool = False) -> dict:
    steps = F.steps_of(survey)
    values = {} if blank else F.values_of(survey)
    ctx = {"survey": survey, "step": step, "steps": steps, "value": values.get(step),
           "step_number": steps.index(step) + 1, "step_total": len(steps)}
    if step.startswith("el-"):
        element_steps = [s for s in steps if s.startswith("el-")]
        ctx["element"] = next(e for e in F.element_texts(db.session, survey) if F.element_step(e.code) == step)
        ctx["element_number"] = element_steps.index(step) + 1
        ctx["element_total"] = len(element_steps)
        ctx["faces"] = _faces()
    elif step == "service":
        ctx["services"] = [s for s in unit.services if s.active]
    elif step == "saran":
        ctx["needs_reason"] = False if blank else F.needs_reason(unit, survey)
    ctx["genders"], ctx["education"], ctx["occupation"] = GENDERS, EDUCATION, OCCUPATION
    return ctx


_FACES: dict[int, str] = {}


def _faces() -> dict[int, str]:
    """The four answer faces (the face macro: static SVG), rendered once per process."""
    if not _FACES:
        face = get_template_attribute("kiosk/_macros.html", "face")
        _FACES.update({level: face(level) for level in (1, 2, 3, 4)})
    return _FACES


def render_screen(kind: str, unit: Optional[Unit], status: int = 200, channel: str = "kiosk", **ctx):
    """One survey screen (a partial for htmx requests, the full page otherwise); every such
    response says which screen it is (X-Kiosk), so the tablet can tell a real answer from a
    Wi-Fi login page."""
    ctx.update(kind=kind, unit=unit, channel=channel, idle_seconds=unit.idle_seconds if unit else 60,
               thanks_seconds=unit.thanks_seconds if unit else 8,
               countdown=current_app.config.get("KIOSK_IDLE_COUNTDOWN", IDLE_COUNTDOWN))
    if wants_fragment():  # a step screen alone: from the cache when rendered before
        html = cached_screen(f"kiosk/screens/{kind}.html", ctx)
    else:
        html = render_template("kiosk/page.html", **ctx)
    response = make_response(html, status)
    response.headers["X-Kiosk"] = kind
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("HX-Request")
    return response
