"""Time: UTC for storage, a unit's own time zone for every date a person sees or a rule uses.

One place for "what day is it at this unit": the kiosk, paper entry, imports, follow-up
deadlines and reports all call `unit_today` / `unit_now`.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Optional
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from skm.models import Unit

TIMEZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
DEFAULT_ZONE = "Asia/Jakarta"


def utcnow() -> dt.datetime:
    """Now in UTC, naive (as stored in the database)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def unit_zone(unit: Unit) -> ZoneInfo:
    """The unit's time zone (WIB, WITA or WIT); an unknown code falls back to WIB."""
    return ZoneInfo(TIMEZONES.get(unit.timezone, DEFAULT_ZONE))


def _aware_utc(now: Optional[dt.datetime]) -> dt.datetime:
    now = now or utcnow()
    return now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now


def unit_now(unit: Unit, now: Optional[dt.datetime] = None) -> dt.datetime:
    """The unit's wall-clock time (naive) for a UTC instant (naive or aware; default now)."""
    return _aware_utc(now).astimezone(unit_zone(unit)).replace(tzinfo=None)


def unit_today(unit: Unit, now: Optional[dt.datetime] = None) -> dt.date:
    """Today's date in the unit's time zone."""
    return unit_now(unit, now).date()


def unit_datetime(unit: Unit, utc: Optional[dt.datetime]) -> Optional[dt.datetime]:
    """A stored UTC time (naive) as wall-clock time in the unit's time zone."""
    return None if utc is None else unit_now(unit, utc)


def unit_day_start_utc(unit: Unit, day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in the unit's time zone, as stored UTC time (naive)."""
    local = dt.datetime.combine(day, dt.time(0), tzinfo=unit_zone(unit))
    return local.astimezone(dt.UTC).replace(tzinfo=None)
