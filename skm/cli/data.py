"""Operator commands for data: import, results, exports and printed reports."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from skm.cli.options import fail, parse_day
from skm.core.errors import DomainError
from skm.core.formatting import channel_label, integer_id, number_id
from skm.extensions import db
from skm.reports import workbooks
from skm.survey.units import unit_by_code


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--unit", "unit_code", required=True)
@click.option("--channel", type=click.Choice(["paper", "import", "online"]), default="import")
@click.option("--create-services", is_flag=True, help="Create services named in the file that do not exist.")
@click.option("--allow-duplicate", is_flag=True, help="Import even if the same data was imported before.")
@with_appcontext
def import_command(file, unit_code, channel, create_services, allow_duplicate):
    """Import a CSV or XLSX sheet, one row per respondent; all rows or none."""
    from skm.intake.importer import ImportRejected, commit_import, preview_import

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
        fail(str(exc))
    db.session.commit()
    ikm = preview.scores.ikm
    click.echo(f"{batch.row_count} responden diimpor ke {unit.code}; IKM berkas ini {number_id(ikm)}.")



def results_json(results, unit, label: str, channels: dict[str, int] | None = None) -> dict:
    s = results.scores
    return {
        "unit": unit.code,
        "period": label,
        "start": results.scope.start.isoformat(),
        "end": results.scope.end.isoformat(),
        "channel": results.scope.channel,
        "terverifikasi": results.scope.verified_only,
        "respondents": s.respondents,
        # Counted respondents per channel within the same filters; every channel is a key.
        "channels": channels or {},
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
    lines = [f"{unit.name} ({unit.code})", f"Periode: {label}"]
    only = [f"kanal {channel_label(results.scope.channel).lower()}"] if results.scope.channel else []
    if results.scope.verified_only:
        only.append("terverifikasi (dengan tiket survei)")
    if only:
        lines.append(f"Hanya responden: {', '.join(only)}")
    lines.append(f"Jumlah responden: {integer_id(s.respondents)}")
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


def chosen_period(unit, period_name):
    """The named period, else the unit's reporting period (latest with respondents,
    skm.survey.reporting), which is named on stderr; fails with a message otherwise."""
    from skm.scoring.results import find_period
    from skm.survey.reporting import reporting_period

    if period_name:
        period = find_period(db.session, period_name)
        if period is None:
            fail(f"Periode '{period_name}' tidak ditemukan.")
        return period
    period = reporting_period(db.session, unit)
    if period is None:
        fail(f"Unit {unit.code} belum memiliki responden pada periode mana pun; sebutkan --period NAMA.")
    click.echo(f"Periode: {period.name} (periode terakhir yang memiliki responden).", err=True)
    return period


@click.command("results")
@click.option("--unit", "unit_code", required=True)
@click.option("--period", "period_name", help="Period name; default: the latest period with respondents.")
@click.option("--from", "date_from")
@click.option("--to", "date_to")
@click.option("--service", "service_name")
@click.option("--channel", "channel", help="Only one channel: kiosk, online, paper or import.")
@click.option("--terverifikasi", "verified_only", is_flag=True,
              help="Only responses made with a one-time survey ticket.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def results_command(unit_code, period_name, date_from, date_to, service_name, channel, verified_only, as_json):
    """Per-element NRR and the IKM of a period (or a date range). Without --period or
    --from/--to: the latest period with respondents, named on stderr."""
    from skm.core.formatting import date_range_id
    from skm.models import CHANNELS
    from skm.scoring.results import Scope, channel_counts, compute_results, period_population
    from skm.survey.units import service_by_name

    if channel is not None:
        channel = channel.strip().lower()
        if channel not in CHANNELS:
            fail(f"Kanal '{channel}' tidak dikenal; pilih salah satu: {', '.join(CHANNELS)}.")
    try:
        unit = unit_by_code(db.session, unit_code)
    except DomainError as exc:
        fail(str(exc))
    service_id = None
    if service_name:
        service = service_by_name(db.session, unit, service_name)
        if service is None:
            fail(f"Layanan '{service_name}' tidak ada di unit {unit.code}.")
        service_id = service.id
    population = None
    if (date_from or date_to) and not period_name:
        if not (date_from and date_to):
            fail("Sebutkan --from dan --to bersama (atau --period NAMA).")
        start, end = parse_day(date_from), parse_day(date_to)
        if start > end:
            fail("Tanggal --from harus sebelum --to.")
        label = date_range_id(start, end)
    else:
        period = chosen_period(unit, period_name)
        start, end, label = period.start_date, period.end_date, period.name
        if service_id is None:
            population = period_population(db.session, period, unit.id)
    if channel is not None or verified_only:
        population = None  # the sample-size check is for all of the unit's respondents
    scope = Scope(unit.id, start, end, service_id, channel=channel, verified_only=verified_only)
    results = compute_results(db.session, scope, unit, population=population)
    if as_json:
        channels = channel_counts(db.session, scope)
        click.echo(json.dumps(results_json(results, unit, label, channels), ensure_ascii=False, indent=2))
    else:
        click.echo(results_text(results, unit, label))


@click.command("rebuild-rollups")
@click.option("--unit", "unit_code", help="Only this unit (default: every unit).")
@with_appcontext
def rebuild_rollups_command(unit_code):
    """Recompute the daily rollups that period results read from the raw answers."""
    from skm.scoring.rollup import rebuild_rollups

    unit_id = None
    if unit_code:
        try:
            unit_id = unit_by_code(db.session, unit_code).id
        except DomainError as exc:
            fail(str(exc))
    answer_rows, response_rows = rebuild_rollups(db.session, unit_id)
    db.session.commit()
    where = f"unit {unit_code}" if unit_code else "semua unit"
    click.echo(f"Ringkasan harian dihitung ulang dari jawaban mentah ({where}): "
               f"{integer_id(answer_rows)} baris nilai unsur, {integer_id(response_rows)} baris responden.")


EXPORT_KINDS = ("responden.xlsx", "responden.csv", "hasil.xlsx", "pengolahan-data.xlsx", "templat.xlsx")


@click.command("export")
@click.option("--unit", "unit_code", required=True)
@click.option("--period", "period_name", help="Period name (not needed for templat.xlsx).")
@click.option("--kind", type=click.Choice(EXPORT_KINDS), required=True)
@click.option("--out", "target", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def export_command(unit_code, period_name, kind, target):
    """Write a period's responses, results or data sheet (or the import template) to a file."""
    from skm.reports import exports
    from skm.scoring.results import find_period

    try:
        unit = unit_by_code(db.session, unit_code)
    except DomainError as exc:
        fail(str(exc))
    if kind == "templat.xlsx":
        content = exports.import_template_xlsx(unit)
    else:
        period = find_period(db.session, period_name or "")
        if period is None:
            fail(f"Periode '{period_name}' tidak ditemukan.")
        build = {"responden.xlsx": exports.raw_responses_xlsx, "responden.csv": exports.raw_responses_csv,
                 "hasil.xlsx": workbooks.results_xlsx, "pengolahan-data.xlsx": workbooks.data_sheet_xlsx}[kind]
        content = build(db.session, unit, period)
    target.write_bytes(content)
    click.echo(f"{kind} untuk {unit.code} ditulis ke {target} ({len(content)} bita).")


@click.command("report")
@click.argument("kind", type=click.Choice(["laporan", "pengolahan", "poster", "poster-a3", "kuesioner",
                                           "tindak-lanjut"]))
@click.option("--unit", "unit_code", required=True)
@click.option("--period", "period_name", help="Period name, e.g. 'Triwulan III 2023' (not for kuesioner); "
                                              "default: the latest period with respondents.")
@click.option("--plan", "plan_id", type=int, help="RTL plan id (tindak-lanjut only); default: the plan of "
                                                   "--period (or of the reporting period).")
@click.option("--date", "report_date", help="Report date YYYY-MM-DD for cover and signature, remembered for the "
                                            "period; default: the remembered date, else 7 days after the period.")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def report_command(kind, unit_code, period_name, plan_id, report_date, output):
    """Write a printed report as PDF: the same bytes the dashboard offers. A result-based
    document of a period without respondents is refused (exit status 1, no file)."""
    import time

    from skm.core.database import write_intent

    # Read-only unless --date is remembered: do not hold SQLite's write lock (kiosks keep
    # writing) while rendering.
    write_intent.set(report_date is not None)

    from skm.reports.render import build

    try:
        unit = unit_by_code(db.session, unit_code)
    except DomainError as exc:
        fail(str(exc))
    period = plan = None
    if kind not in ("kuesioner", "tindak-lanjut"):
        period = chosen_period(unit, period_name)
    if kind == "tindak-lanjut":
        from skm.followup.plans import plan_for, plan_for_unit, plans_for_unit

        if plan_id is None:
            plans = plans_for_unit(db.session, unit)
            if not plans:
                fail(f"Unit {unit.code} belum memiliki rencana tindak lanjut.")
            # The plan of --period; without it the only plan, else the reporting period's.
            if len(plans) == 1 and not period_name:
                plan = plan_for_unit(db.session, unit, plans[0]["id"])
            else:
                plan = plan_for(db.session, unit.id, chosen_period(unit, period_name).id)
            if plan is None:
                listing = ", ".join(f"{p['id']} ({p['label']})" for p in plans)
                fail(f"Sebutkan --plan ID. Rencana yang ada: {listing}")
        else:
            plan = plan_for_unit(db.session, unit, plan_id)
        if plan is None:
            fail(f"Rencana tindak lanjut {plan_id} tidak ada di unit {unit.code}.")
    if report_date is not None:
        from skm.reports.settings import remember_report_date

        shown = plan.period if plan is not None else period
        if shown is None:
            fail("--date hanya untuk laporan sebuah periode.")
        try:
            remember_report_date(db.session, unit, shown, report_date)
        except DomainError as exc:
            db.session.rollback()
            fail(str(exc))
        db.session.commit()
    started = time.perf_counter()
    try:
        data = build(kind, db.session, unit, period, plan=plan)
    except DomainError as exc:
        fail(str(exc))
    output.write_bytes(data)
    click.echo(f"{output} ditulis ({integer_id(len(data) // 1024)} KB, "
               f"{number_id(time.perf_counter() - started, 1)} detik).")
