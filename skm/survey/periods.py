"""Period arithmetic: quarters, semesters, years and custom ranges. No Flask here."""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


@dataclass(frozen=True)
class PeriodSpan:
    name: str
    kind: str
    start: dt.date
    end: dt.date


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def quarter(year: int, q: int) -> PeriodSpan:
    if q not in ROMAN:
        raise ValueError("triwulan harus 1–4")
    first = 3 * (q - 1) + 1
    return PeriodSpan(f"Triwulan {ROMAN[q]} {year}", "triwulan", dt.date(year, first, 1), _month_end(year, first + 2))


def semester(year: int, s: int) -> PeriodSpan:
    if s not in (1, 2):
        raise ValueError("semester harus 1 atau 2")
    first = 1 if s == 1 else 7
    return PeriodSpan(f"Semester {ROMAN[s]} {year}", "semester", dt.date(year, first, 1), _month_end(year, first + 5))


def full_year(year: int) -> PeriodSpan:
    return PeriodSpan(f"Tahun {year}", "tahun", dt.date(year, 1, 1), dt.date(year, 12, 31))


def custom(start: dt.date, end: dt.date, name: str | None = None) -> PeriodSpan:
    if start > end:
        raise ValueError("tanggal mulai harus sebelum tanggal selesai")
    from skm.core.formatting import date_range_id  # local: formatting imports Babel

    return PeriodSpan(name or date_range_id(start, end), "custom", start, end)


def span_for(kind: str, year: int, number: int = 1) -> PeriodSpan:
    if kind == "triwulan":
        return quarter(year, number)
    if kind == "semester":
        return semester(year, number)
    if kind == "tahun":
        return full_year(year)
    raise ValueError(f"jenis periode tidak dikenal: {kind}")


def following(kind: str, start: dt.date) -> PeriodSpan | None:
    """The next period of the same kind after one that starts on `start`."""
    if kind == "triwulan":
        q = (start.month - 1) // 3 + 1
        return quarter(start.year + (q == 4), 1 if q == 4 else q + 1)
    if kind == "semester":
        s = 1 if start.month <= 6 else 2
        return semester(start.year + (s == 2), 1 if s == 2 else 2)
    if kind == "tahun":
        return full_year(start.year + 1)
    return None
