"""Operator commands: flask --app wsgi skm ..."""
from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect, select

from .extensions import db
from .formatting import integer_id, number_id
from .models import ROLES, Period, Unit, User
from .units import DomainError, create_unit, unit_by_code

@click.group("skm")
def skm_cli():
    """Perintah operator SKM Kiosk."""
    from .database import write_intent

    # CLI commands write while the kiosk may be writing: take the SQLite write lock up front.
    write_intent.set(True)


def _fail(message: str):
    raise click.ClickException(message)


@skm_cli.command("init-db")
@with_appcontext
def init_db_command():
    """Create the database, or migrate it to the newest schema."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)
    click.echo("Basis data siap.")


@skm_cli.command("create-unit")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--timezone", type=click.Choice(["WIB", "WITA", "WIT"]), default="WIB")
@with_appcontext
def create_unit_command(code, name, timezone):
    """Create a unit with the nine standard elements."""
    try:
        unit = create_unit(db.session, code, name, timezone=timezone)
    except DomainError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"Unit {unit.code} dibuat dengan {len(unit.current_questionnaire.elements)} unsur.")


@skm_cli.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--unit", "unit_codes", multiple=True, help="Unit code (repeatable) for managers and operators.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(username, role, unit_codes, password_stdin):
    """Create an account; the password is prompted for unless --password-stdin."""
    from .accounts import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Kata sandi", hide_input=True, confirmation_prompt=True)
    try:
        units = [unit_by_code(db.session, c) for c in unit_codes]
        user = create_user(db.session, username, password, role, units)
    except DomainError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"Pengguna {user.username} ({user.role}) dibuat.")


@skm_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the demo unit already exists.")
@with_appcontext
def seed_demo_command(if_empty):
    """A demo unit with three services, four quarters of responses and an admin account."""
    from .accounts import create_user
    from .demo import seed_demo

    if db.session.scalar(select(Unit).where(Unit.code == "DEMO")):
        if if_empty:
            click.echo("Data demo sudah ada; tidak diubah.")
            return
        _fail("Unit DEMO sudah ada.")
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


@skm_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--unit", "unit_code", required=True)
@click.option("--channel", type=click.Choice(["paper", "import", "online"]), default="import")
@click.option("--create-services", is_flag=True, help="Create services named in the file that do not exist.")
@click.option("--allow-duplicate", is_flag=True, help="Import even if the same data was imported before.")
@with_appcontext
def import_command(file, unit_code, channel, create_services, allow_duplicate):
    """Import a CSV or XLSX sheet, one row per respondent; all rows or none."""
    from .importer import ImportRejected, commit_import, preview_import

    try:
        unit = unit_by_code(db.session, unit_code)
        preview = preview_import(db.session, unit, file.name, file.read_bytes(), create_services=create_services)
        if not preview.ok:
            raise ImportRejected(preview.errors)
        batch = commit_import(db.session, unit, preview, channel=channel, allow_duplicate=allow_duplicate)
    except ImportRejected as exc:
        db.session.rollback()
        click.echo("Impor ditolak, tidak ada data yang disimpan:", err=True)
        for line in exc.errors:
            click.echo(f"  {line}", err=True)
        sys.exit(1)
    except DomainError as exc:
        db.session.rollback()
        _fail(str(exc))
    db.session.commit()
    ikm = preview.scores.ikm
    click.echo(f"{batch.row_count} responden diimpor ke {unit.code}; IKM berkas ini {number_id(ikm)}.")


def _parse_day(text: str) -> dt.date:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            pass
    _fail(f"Tanggal tidak dikenal: {text} (pakai YYYY-MM-DD)")


def results_json(results, unit, label: str) -> dict:
    s = results.scores
    return {
        "unit": unit.code,
        "period": label,
        "start": results.scope.start.isoformat(),
        "end": results.scope.end.isoformat(),
        "respondents": s.respondents,
        # Unrounded; `*_exact` keeps the exact fraction for an auditor.
        "ikm": float(s.ikm) if s.ikm is not None else None,
        "ikm_exact": str(s.ikm) if s.ikm is not None else None,
        "ikm_display": number_id(s.ikm) if s.ikm is not None else None,
        "ikm_unit": float(s.ikm_unit) if s.ikm_unit is not None else None,
        "ikm_unit_exact": str(s.ikm_unit) if s.ikm_unit is not None else None,
        "grade": s.grade,
        "kinerja": s.kinerja,
        "versions": results.versions,
        "excluded": results.excluded_count,
        "sample": results.sample,
        "elements": [
            {
                "code": e.code,
                "name": e.name,
                "count": e.count,
                "total": e.total,
                "nrr": float(e.nrr),
                "nrr_exact": str(e.nrr),
                "nrr_display": number_id(e.nrr),
                "weighted_nrr": float(e.weighted_nrr),
                "grade": e.grade,
                "kinerja": e.kinerja,
            }
            for e in s.elements
        ],
        "profile": {
            key: {cat: count for cat, count, _pct in b.rows} for key, b in results.profile.items()
        },
    }


def results_text(results, unit, label: str) -> str:
    s = results.scores
    lines = [f"{unit.name} ({unit.code})", f"Periode: {label}", f"Jumlah responden: {integer_id(s.respondents)}"]
    if not s.has_data:
        lines.append("Belum ada data untuk periode ini.")
        return "\n".join(lines)
    lines.append("")
    width = max(len(e.name) for e in s.elements)
    lines.append(f"{'No':<4}{'Unsur pelayanan':<{width + 2}}{'NRR':>8}  {'Mutu':<5}Kinerja")
    for e in s.elements:
        lines.append(f"{e.code:<4}{e.name:<{width + 2}}{number_id(e.nrr):>8}  {e.grade:<5}{e.kinerja}")
    lines.append("")
    lines.append(f"IKM unit (1–4): {number_id(s.ikm_unit, 4)}")
    lines.append(f"IKM: {number_id(s.ikm)}  Mutu: {s.grade}  Kinerja: {s.kinerja}")
    if results.sample:
        sample = results.sample
        status = "cukup" if sample["enough"] else f"kurang {sample['short_by']} responden"
        lines.append(f"Sampel: {sample['respondents']} dari minimal {sample['needed']} "
                     f"(populasi {integer_id(sample['population'])}): {status}")
    return "\n".join(lines)


@skm_cli.command("results")
@click.option("--unit", "unit_code", required=True)
@click.option("--period", "period_name")
@click.option("--from", "date_from")
@click.option("--to", "date_to")
@click.option("--service", "service_name")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def results_command(unit_code, period_name, date_from, date_to, service_name, as_json):
    """Per-element NRR and the IKM of a period (or a date range)."""
    from .formatting import date_range_id
    from .results import Scope, compute_results, find_period, period_population
    from .units import service_by_name

    try:
        unit = unit_by_code(db.session, unit_code)
    except DomainError as exc:
        _fail(str(exc))
    service_id = None
    if service_name:
        service = service_by_name(db.session, unit, service_name)
        if service is None:
            _fail(f"Layanan '{service_name}' tidak ada di unit {unit.code}.")
        service_id = service.id
    population = None
    if period_name:
        period = find_period(db.session, period_name)
        if period is None:
            _fail(f"Periode '{period_name}' tidak ditemukan.")
        start, end, label = period.start_date, period.end_date, period.name
        if service_id is None:
            population = period_population(db.session, period, unit.id)
    elif date_from and date_to:
        start, end = _parse_day(date_from), _parse_day(date_to)
        if start > end:
            _fail("Tanggal --from harus sebelum --to.")
        label = date_range_id(start, end)
    else:
        _fail("Sebutkan --period NAMA, atau --from dan --to.")
    results = compute_results(db.session, Scope(unit.id, start, end, service_id), unit, population=population)
    if as_json:
        click.echo(json.dumps(results_json(results, unit, label), ensure_ascii=False, indent=2))
    else:
        click.echo(results_text(results, unit, label))


@skm_cli.command("create-period")
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
    from .periods import custom, span_for

    try:
        if kind == "custom":
            if not (date_from and date_to):
                _fail("Periode custom memerlukan --from dan --to.")
            span = custom(_parse_day(date_from), _parse_day(date_to), name)
        else:
            if not year:
                _fail("Sebutkan --year.")
            span = span_for(kind, year, number)
    except ValueError as exc:
        _fail(str(exc))
    if db.session.scalar(select(Period).where(Period.name == span.name)):
        _fail(f"Periode {span.name} sudah ada.")
    db.session.add(Period(name=span.name, kind=span.kind, start_date=span.start, end_date=span.end,
                          population=population))
    db.session.commit()
    click.echo(f"Periode {span.name} dibuat.")


@skm_cli.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(target):
    """Copy the SQLite database safely while the kiosk keeps running (SQLite backup API)."""
    import sqlite3

    engine = db.engine
    if engine.dialect.name != "sqlite":
        _fail("Perintah backup hanya untuk SQLite; gunakan pg_dump untuk PostgreSQL.")
    source = sqlite3.connect(engine.url.database)
    dest = sqlite3.connect(str(target))
    with dest:
        source.backup(dest)
    dest.close()
    source.close()
    click.echo(f"Cadangan disimpan ke {target}.")


def table_names() -> list[str]:
    return inspect(db.engine).get_table_names()


@skm_cli.command("set-kiosk-pin")
@click.argument("code")
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from standard input.")
@with_appcontext
def set_kiosk_pin_command(code, pin_stdin):
    """Set the front-desk PIN (4–8 digits) that opens the staff menu on the unit's tablets."""
    from .devices import set_kiosk_pin

    if pin_stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = click.prompt("PIN kiosk (4–8 angka)", hide_input=True, confirmation_prompt=True)
    try:
        unit = unit_by_code(db.session, code)
        set_kiosk_pin(db.session, unit, pin)
    except DomainError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"PIN kiosk unit {unit.code} disimpan.")


EXPORT_KINDS = ("responden.xlsx", "responden.csv", "hasil.xlsx", "pengolahan-data.xlsx", "templat.xlsx")


@skm_cli.command("export")
@click.option("--unit", "unit_code", required=True)
@click.option("--period", "period_name", help="Period name (not needed for templat.xlsx).")
@click.option("--kind", type=click.Choice(EXPORT_KINDS), required=True)
@click.option("--out", "target", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def export_command(unit_code, period_name, kind, target):
    """Write a period's responses, results or data sheet (or the import template) to a file."""
    from . import exports
    from .results import find_period

    try:
        unit = unit_by_code(db.session, unit_code)
    except DomainError as exc:
        _fail(str(exc))
    if kind == "templat.xlsx":
        content = exports.import_template_xlsx(unit)
    else:
        period = find_period(db.session, period_name or "")
        if period is None:
            _fail(f"Periode '{period_name}' tidak ditemukan.")
        build = {"responden.xlsx": exports.raw_responses_xlsx, "responden.csv": exports.raw_responses_csv,
                 "hasil.xlsx": exports.results_xlsx, "pengolahan-data.xlsx": exports.data_sheet_xlsx}[kind]
        content = build(db.session, unit, period)
    target.write_bytes(content)
    click.echo(f"{kind} untuk {unit.code} ditulis ke {target} ({len(content)} bita).")


@skm_cli.command("report")
@click.argument("kind", type=click.Choice(["laporan", "pengolahan", "poster", "poster-a3", "kuesioner",
                                           "tindak-lanjut"]))
@click.option("--unit", "unit_code", required=True)
@click.option("--period", "period_name", help="Period name, e.g. 'Triwulan III 2023' (not for kuesioner).")
@click.option("--plan", "plan_id", type=int, help="RTL plan id (tindak-lanjut only).")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def report_command(kind, unit_code, period_name, plan_id, output):
    """Write a printed report as PDF: the same bytes the dashboard offers."""
    import time

    from .database import write_intent

    # Read-only: do not hold SQLite's write lock (kiosks keep writing) while rendering.
    write_intent.set(False)

    from .report_render import build
    from .results import find_period

    try:
        unit = unit_by_code(db.session, unit_code)
    except DomainError as exc:
        _fail(str(exc))
    period = plan = None
    if kind not in ("kuesioner", "tindak-lanjut"):
        if not period_name:
            _fail("Sebutkan --period NAMA.")
        period = find_period(db.session, period_name)
        if period is None:
            _fail(f"Periode '{period_name}' tidak ditemukan.")
    if kind == "tindak-lanjut":
        try:
            from .followup_report import plan_for_unit, plans_for_unit
        except ImportError:
            _fail("Modul rencana tindak lanjut belum tersedia.")
        if plan_id is None:
            plans = plans_for_unit(db.session, unit)
            if not plans:
                _fail(f"Unit {unit.code} belum memiliki rencana tindak lanjut.")
            listing = ", ".join(f"{p['id']} ({p['label']})" for p in plans)
            _fail(f"Sebutkan --plan ID. Rencana yang ada: {listing}")
        plan = plan_for_unit(db.session, unit, plan_id)
        if plan is None:
            _fail(f"Rencana tindak lanjut {plan_id} tidak ada di unit {unit.code}.")
    started = time.perf_counter()
    try:
        data = build(kind, db.session, unit, period, plan=plan)
    except DomainError as exc:
        _fail(str(exc))
    output.write_bytes(data)
    click.echo(f"{output} ditulis ({integer_id(len(data) // 1024)} KB, "
               f"{number_id(time.perf_counter() - started, 1)} detik).")
