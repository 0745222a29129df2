"""Indonesian display of numbers and dates (decimal comma, month names)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from skm.scoring.ikm import round_half_up

LOCALE = "id_ID"


def number_id(value, places: int = 2) -> str:
    """90.885 -> "90,89"; rounded half up first, then shown with a decimal comma."""
    if value is None:
        return "–"
    rounded = round_half_up(value, places)
    # Babel would round half-even; the value is already exact at this precision.
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(rounded, format=pattern, locale=LOCALE, decimal_quantization=False)


def integer_id(value: int) -> str:
    return format_decimal(value, format="#,##0", locale=LOCALE)


def percent_id(value, places: int = 2) -> str:
    return number_id(value, places) + "%"


def date_id(value: dt.date | None) -> str:
    """4 Juni 2025."""
    if value is None:
        return "–"
    return format_date(value, format="d MMMM y", locale=LOCALE)


def datetime_id(value: dt.datetime | None) -> str:
    if value is None:
        return "–"
    return format_datetime(value, format="d MMMM y HH.mm", locale=LOCALE)


def date_range_id(start: dt.date, end: dt.date) -> str:
    """1 Oktober s.d. 17 November 2023 (the year once when both share it)."""
    if start.year == end.year:
        first = format_date(start, format="d MMMM", locale=LOCALE)
    else:
        first = date_id(start)
    return f"{first} s.d. {date_id(end)}"


def parse_decimal_id(text: str) -> Decimal:
    return Decimal(text.strip().replace(".", "").replace(",", "."))
