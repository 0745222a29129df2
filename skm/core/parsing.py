"""Whole numbers typed by people: in URLs, query strings, form fields and imported cells.

One rule everywhere: ASCII digits 0–9 only, within a range that the database column can
hold. `str.isdigit()` and `int()` are not that rule: `"²".isdigit()`
is True but `int("²")` fails (a 500), `int("١٢")` is 12, `int(" +1_0 ")` is 10, and a
20-digit id overflows SQLite's integers.
"""
from __future__ import annotations

from typing import Optional

MAX_INT64 = 2**63 - 1
# Ids are INTEGER columns: 32-bit on PostgreSQL (SQLite would take 64-bit values, but an
# id past this can never exist, and as a foreign key it could not be stored).
MAX_ID = 2**31 - 1
_ASCII_DIGITS = frozenset("0123456789")


def parse_int(text: object, min: int = 0, max: int = MAX_INT64) -> Optional[int]:
    """The number `text` spells in ASCII digits (surrounding spaces allowed), if it lies
    within min..max; None for anything else (empty, signs, '²', '١٢', '1_0', too big)."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    # The length check first: int() of a very long digit string is slow (and limited).
    if not text or len(text) > len(str(max)) or not _ASCII_DIGITS.issuperset(text):
        return None
    number = int(text)
    return number if min <= number <= max else None


def parse_id(text: object) -> Optional[int]:
    """A record id (1 to MAX_ID) in ASCII digits, else None."""
    return parse_int(text, min=1, max=MAX_ID)

