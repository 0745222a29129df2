"""Operator commands that close and reopen a unit's period (closing publishes its results)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, cast

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from skm.cli.options import fail
from skm.core.errors import DomainError
from skm.extensions import db
from skm.models import User


@dataclass(frozen=True)
class ShellOperator:
    """Whoever runs the command on the server: recorded without an account (user_id NULL)."""

    id: Optional[int] = None
    role: str = "admin"
    username: str = "cli"


def _target(unit_code, period_name, username):
    from skm.scoring.results import find_period
    from skm.survey.units import unit_by_code

    unit = unit_by_code(db.session, unit_code)
    period = find_period(db.session, period_name)
    if period is None:
        raise DomainError(f"Periode {period_name} tidak ditemukan.")
    if username:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise DomainError(f"Pengguna {username} tidak ditemukan.")
        if not user.can_access_unit(unit.id):
            raise DomainError(f"Pengguna {username} tidak berhak atas unit {unit.code}.")
    else:
        user = cast(User, ShellOperator())
    return unit, period, user


_unit = click.option("--unit", "unit_code", required=True, help="Unit code.")
_period = click.option("--period", "period_name", required=True, help='Period name, e.g. "Triwulan III 2023".')
_user = click.option("--user", "username", help="Record the change in this account's name (default: none, via CLI).")
_note = click.option("--note", default="", help="Note kept in the log.")


@click.command("close-period")
@_unit
@_period
@_user
@_note
@with_appcontext
def close_period_command(unit_code, period_name, username, note):
    """Close a unit's period: entries dated in it are refused and its results are published."""
    from skm.survey.period_admin import close_period
    from skm.survey.publication import is_published

    try:
        unit, period, user = _target(unit_code, period_name, username)
        close_period(db.session, period, unit, user, note or "(CLI)")
    except DomainError as exc:
        fail(str(exc))
    published = is_published(db.session, unit, period)
    db.session.commit()
    click.echo(f"Periode {period.name} ditutup untuk {unit.code}; "
               + ("hasil dipublikasikan." if published else "hasil tidak dipublikasikan (unit memilih tidak)."))


@click.command("reopen-period")
@_unit
@_period
@_user
@_note
@with_appcontext
def reopen_period_command(unit_code, period_name, username, note):
    """Reopen a closed period of a unit (admin); its results leave the public page."""
    from skm.survey.period_admin import reopen_period

    try:
        unit, period, user = _target(unit_code, period_name, username)
        reopen_period(db.session, period, unit, user, note or "(CLI)")
    except DomainError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(f"Periode {period.name} dibuka kembali untuk {unit.code}; hasil tidak lagi dipublikasikan.")
