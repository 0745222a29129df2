"""Operator commands that set an installation up: database, units, users, periods, PIN, backup."""
from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from skm.cli.options import fail, parse_day
from skm.core.errors import DomainError
from skm.extensions import db
from skm.models import ROLES, Period, Unit, User
from skm.survey.units import create_unit, unit_by_code


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create the database, or migrate it to the newest schema."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)
    click.echo("Basis data siap.")


@click.command("create-unit")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--timezone", type=click.Choice(["WIB", "WITA", "WIT"]), default="WIB")
@with_appcontext
def create_unit_command(code, name, timezone):
    """Create a unit with the nine standard elements."""
    try:
        unit = create_unit(db.session, code, name, timezone=timezone)
    except DomainError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(f"Unit {unit.code} dibuat dengan {len(unit.current_questionnaire.elements)} unsur.")


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--unit", "unit_codes", multiple=True, help="Unit code (repeatable) for managers and operators.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(username, role, unit_codes, password_stdin):
    """Create an account; the password is prompted for unless --password-stdin."""
    from skm.accounts import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Kata sandi", hide_input=True, confirmation_prompt=True)
    try:
        units = [unit_by_code(db.session, c) for c in unit_codes]
        user = create_user(db.session, username, password, role, units)
    except DomainError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(f"Pengguna {user.username} ({user.role}) dibuat.")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the demo unit already exists.")
@with_appcontext
def seed_demo_command(if_empty):
    """A demo unit with three services, four quarters of responses and an admin account."""
    from skm.accounts import create_user
    from skm.survey.demo import seed_demo

    if db.session.scalar(select(Unit).where(Unit.code == "DEMO")):
        if if_empty:
            click.echo("Data demo sudah ada; tidak diubah.")
            return
        fail("Unit DEMO sudah ada.")
    unit = seed_demo(db.session)
    password = None
    if db.session.scalar(select(User).where(User.username == "admin")) is None:
        password = secrets.token_urlsafe(12)
        create_user(db.session, "admin", password, "admin")
    db.session.commit()
    click.echo(f"Unit demo {unit.code} dibuat: {unit.name}.")
    if password:
        click.echo("")
        click.echo("  Akun admin dibuat. Catat kata sandinya, tidak akan ditampilkan lagi:")
        click.echo(f"    pengguna: admin    kata sandi: {password}")
        click.echo("")


@click.command("create-period")
@click.argument("kind", type=click.Choice(["triwulan", "semester", "tahun", "custom"]))
@click.option("--year", type=int)
@click.option("--number", type=int, default=1, help="Quarter 1–4 or semester 1–2.")
@click.option("--from", "date_from")
@click.option("--to", "date_to")
@click.option("--name")
@click.option("--population", type=int)
@with_appcontext
def create_period_command(kind, year, number, date_from, date_to, name, population):
    """Create a period: a quarter, a semester, a year, or a custom date range."""
    from skm.survey.periods import custom, span_for

    try:
        if kind == "custom":
            if not (date_from and date_to):
                fail("Periode custom memerlukan --from dan --to.")
            span = custom(parse_day(date_from), parse_day(date_to), name)
        else:
            if not year:
                fail("Sebutkan --year.")
            span = span_for(kind, year, number)
    except ValueError as exc:
        fail(str(exc))
    if db.session.scalar(select(Period).where(Period.name == span.name)):
        fail(f"Periode {span.name} sudah ada.")
    db.session.add(Period(name=span.name, kind=span.kind, start_date=span.start, end_date=span.end,
                          population=population))
    db.session.commit()
    click.echo(f"Periode {span.name} dibuat.")


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(target):
    """Copy the SQLite database safely while the kiosk keeps running (SQLite backup API)."""
    import sqlite3

    engine = db.engine
    if engine.dialect.name != "sqlite":
        fail("Perintah backup hanya untuk SQLite; gunakan pg_dump untuk PostgreSQL.")
    source = sqlite3.connect(engine.url.database)
    dest = sqlite3.connect(str(target))
    with dest:
        source.backup(dest)
    dest.close()
    source.close()
    click.echo(f"Cadangan disimpan ke {target}.")


@click.command("set-kiosk-pin")
@click.argument("code")
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from standard input.")
@with_appcontext
def set_kiosk_pin_command(code, pin_stdin):
    """Set the front-desk PIN (4–8 digits) that opens the staff menu on the unit's tablets."""
    from skm.kiosk.devices import set_kiosk_pin

    confirm = None
    if pin_stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = click.prompt("PIN kiosk (4–8 angka)", hide_input=True)
        confirm = click.prompt("Ulangi PIN", hide_input=True)
    try:
        unit = unit_by_code(db.session, code)
        set_kiosk_pin(db.session, unit, pin, confirm)
    except DomainError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(f"PIN kiosk unit {unit.code} disimpan.")


@click.command("pair-device")
@click.argument("code")
@click.option("--service", "service_name", help="Bind the tablet to this service (its name).")
@click.option("--name", "device_name", default="", help="The tablet's name (e.g. Lobi lantai 1).")
@click.option("--base-url", help="The kiosk's address as tablets reach it (default: config SKM_BASE_URL).")
@with_appcontext
def pair_device_command(code, service_name, device_name, base_url):
    """Create a one-time pairing code for a tablet of unit CODE and print it with its link
    (headless setup): the code on the first line, the link on the second."""
    from flask import url_for

    from skm.core.clock import unit_now
    from skm.core.formatting import date_id
    from skm.kiosk.devices import create_pairing

    try:
        unit = unit_by_code(db.session, code)
        service_id = None
        if service_name:
            wanted = " ".join(service_name.split()).casefold()
            match = [s for s in unit.services if s.active and s.name.casefold() == wanted]
            if not match:
                raise DomainError(f"Layanan {service_name!r} tidak ditemukan di unit {unit.code}.")
            service_id = match[0].id
        device = create_pairing(db.session, unit, service_id=service_id, name=device_name)
    except DomainError as exc:
        fail(str(exc))
    db.session.commit()
    base = (base_url or current_app.config.get("SKM_BASE_URL") or "http://localhost:5000").rstrip("/")
    with current_app.test_request_context("/", base_url=base):
        link = url_for("kiosk.pair_link", code=device.pairing_code, _external=True)
    until = unit_now(unit, device.pairing_expires_at)
    click.echo(device.pairing_code)
    click.echo(link)
    click.echo(f"Satu kali pakai, berlaku sampai {date_id(until.date())} pukul {until:%H.%M} {unit.timezone}.", err=True)
