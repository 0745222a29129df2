"""Indonesian display of numbers and dates (decimal comma, month names)."""
from __future__ import annotations

import datetime as dt

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from skm.scoring.ikm import RankedElements, round_half_up

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


def unit_datetime_id(unit, utc: dt.datetime | None) -> str:
    """A stored UTC time as the unit's local time with its zone: "4 Agustus 2023 09.15 WITA"."""
    from skm.core.clock import unit_datetime

    if utc is None:
        return "–"
    return f"{datetime_id(unit_datetime(unit, utc))} {unit.timezone}"


# How each response channel is named to people (screens in sentence case, reports mid-sentence).
CHANNEL_LABELS = {"kiosk": "kios layar sentuh", "paper": "kuesioner kertas", "import": "impor berkas",
                  "online": "formulir daring"}


def channel_label(code: str | None) -> str:
    """A channel in words for a screen: "Impor berkas", not "import" (an unknown code as it is)."""
    text = CHANNEL_LABELS.get(code or "", code or "–")
    return text[:1].upper() + text[1:]


def date_range_id(start: dt.date, end: dt.date) -> str:
    """1 Oktober s.d. 17 November 2023 (the year once when both share it)."""
    if start.year == end.year:
        first = format_date(start, format="d MMMM", locale=LOCALE)
    else:
        first = date_id(start)
    return f"{first} s.d. {date_id(end)}"


def join_id(items) -> str:
    """["U1", "U2", "U5"] -> "U1, U2 dan U5"."""
    items = [str(i) for i in items]
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " dan " + items[-1]


def _equal_text(labels, value: str) -> str:
    return f"{join_id(labels)} sama-sama bernilai {value}"


def tie_text(ranked: RankedElements) -> str:
    """The elements tied at the cut-off, or "": "U5, U7 dan U8 sama-sama bernilai 3,500"."""
    if not ranked.tied:
        return ""
    return _equal_text([e.code for e in ranked.tied], number_id(ranked.tied[0].nrr, ranked.places))


def ranked_text(ranked: RankedElements, names: bool = True, kinerja: bool = False) -> str:
    """The lowest/highest elements as one Indonesian phrase; equal NRRs are grouped and
    said to be equal, and a tie at the cut-off says why more than n are named:
    "U8 Sarana (3,509); U3 Waktu, U5 Produk dan U9 Pengaduan sama-sama bernilai 3,579
    (4 unsur karena nilai sama pada batas 3 terendah)". With `kinerja`, each NRR is
    followed by its kinerja."""
    if not ranked.elements:
        return "–"
    groups: list[list] = []
    for e in ranked.elements:
        if groups and groups[-1][0].nrr == e.nrr:
            groups[-1].append(e)
        else:
            groups.append([e])
    parts = []
    for group in groups:
        labels = [f"{e.code} {e.name}" if names else e.code for e in group]
        value = number_id(group[0].nrr, ranked.places)
        if len(group) == 1:
            parts.append(f"{labels[0]} ({value}, {group[0].kinerja})" if kinerja else f"{labels[0]} ({value})")
        else:
            parts.append(_equal_text(labels, value) + (f" ({group[0].kinerja})" if kinerja else ""))
    text = "; ".join(parts)
    if ranked.tied:
        side = "terendah" if ranked.lowest else "tertinggi"
        text += f" ({len(ranked.elements)} unsur karena nilai sama pada batas {ranked.n} {side})"
    return text
