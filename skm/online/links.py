"""The public addresses of the online channel, in one place: the survey of a unit (and
service) and a one-time ticket. Printed cards, slips, QR codes and screens all build
their links here, from a base URL the caller chooses (the configured public address, or
the request's own root when none is configured). No Flask import."""
from __future__ import annotations

from typing import Optional
from urllib.parse import quote, urlencode

from skm.models import Service, Unit


def clean_base(base_url: str) -> str:
    """The base URL without a trailing slash ("https://skm.example.go.id/app")."""
    return (base_url or "").strip().rstrip("/")


def survey_path(unit: Unit, service: Optional[Service] = None) -> str:
    """/survei/<UNIT CODE>[?layanan=<service id>]"""
    path = "/survei/" + quote(unit.code, safe="")
    if service is not None:
        path += "?" + urlencode({"layanan": service.id})
    return path


def survey_url(base_url: str, unit: Unit, service: Optional[Service] = None) -> str:
    """The full public URL of a unit's (or one service's) online survey."""
    return clean_base(base_url) + survey_path(unit, service)


def ticket_path(code: str) -> str:
    return "/t/" + quote(code, safe="")


def ticket_url(base_url: str, code: str) -> str:
    """The full URL a one-time ticket's QR carries: /t/<code>."""
    return clean_base(base_url) + ticket_path(code)


class NotFound(LookupError):
    """No such public survey: an unknown unit or service, or the unit's online survey is off."""


def survey_target(session, code: str, service_arg: Optional[str] = None) -> tuple[Unit, Optional[Service]]:
    """The unit (code in any case) and optional service (`?layanan=<id>`, an active service
    of that unit) a public survey address names; NotFound otherwise. The same lookups as
    the survey itself (skm.online.survey), so a QR never names a survey that would 404."""
    from skm.core.errors import DomainError
    from skm.online.survey import service_for, unit_for_code

    unit = unit_for_code(session, code)
    if unit is None or not unit.online_enabled:
        raise NotFound(code)
    service = None
    if service_arg not in (None, ""):
        try:
            service = service_for(session, unit, service_arg)
        except DomainError:
            raise NotFound(service_arg) from None
    return unit, service
