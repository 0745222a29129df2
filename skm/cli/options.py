"""What the operator commands share: failing with a message, parsing a day."""
from __future__ import annotations

import datetime as dt
from typing import NoReturn

import click


def fail(message: str) -> NoReturn:
    raise click.ClickException(message)


def parse_day(text: str) -> dt.date:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            pass
    fail(f"Tanggal tidak dikenal: {text} (pakai YYYY-MM-DD)")
