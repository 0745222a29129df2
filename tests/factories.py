"""Small factories for tests: units, periods, users and responses."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Optional

from skm.accounts import create_user
from skm.models import Period, Unit, User
from skm.survey.periods import PeriodSpan, quarter
from skm.survey.responses import ResponseData, record_response
from skm.survey.units import add_services, create_unit

PASSWORD = "rahasia-123"


def make_unit(session, code: str = "UJI", name: str = "Unit Uji", services: Sequence[str] = ("Layanan A", "Layanan B"),
              **fields) -> Unit:
    unit = create_unit(session, code, name, **fields)
    add_services(session, unit, services)
    session.refresh(unit)
    return unit


def make_period(session, span: Optional[PeriodSpan] = None, population: Optional[int] = None) -> Period:
    span = span or quarter(2023, 3)
    period = Period(name=span.name, kind=span.kind, start_date=span.start, end_date=span.end, population=population)
    session.add(period)
    session.flush()
    return period


def make_user(session, username: str = "admin", role: str = "admin", units: Sequence[Unit] = ()) -> User:
    return create_user(session, username, PASSWORD, role, units)


def make_response(session, unit: Unit, ratings, day: dt.date = dt.date(2023, 8, 1), channel: str = "paper",
                  service=None, **profile):
    """ratings: a list in questionnaire order, or a dict by element code."""
    elements = unit.current_questionnaire.elements
    if not isinstance(ratings, dict):
        ratings = {e.code: r for e, r in zip(elements, ratings)}
    data = ResponseData(survey_date=day, ratings=ratings,
                        service_id=service.id if service is not None else None, **profile)
    return record_response(session, unit, data, channel)


def login(client, username: str = "admin", password: str = PASSWORD):
    """Log in through the form (CSRF disabled by the no_csrf fixture, or token scraped)."""
    import re

    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"username": username, "password": password}
    if token:
        data["csrf_token"] = token.group(1)
    return client.post("/admin/login", data=data, follow_redirects=False)


def browser_login(page, base_url: str, username: str = "admin", password: str = PASSWORD) -> None:
    """Log in through the real form in the browser."""
    page.goto(f"{base_url}/admin/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def watch_page_errors(page) -> list[str]:
    """Collect script errors and 4xx/5xx responses seen by the page (favicon aside)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    return errors
