"""Operator commands of the online channel: print a batch of one-time ticket slips."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from skm.cli.options import fail
from skm.core.errors import DomainError
from skm.core.formatting import integer_id
from skm.extensions import db
from skm.survey.units import service_by_name, unit_by_code


@click.command("tickets")
@click.option("--unit", "unit_code", required=True, help="Unit code, e.g. DINKES.")
@click.option("--service", "service_name", help="Bind the tickets to this service (its name).")
@click.option("--count", "count_text", required=True, help="How many tickets (1-1000).")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The slips PDF to write.")
@click.option("--base-url", help="Public address of the server (default: config SKM_PUBLIC_BASE_URL).")
@with_appcontext
def tickets_command(unit_code, service_name, count_text, out, base_url):
    """Make COUNT one-time survey tickets and write their printable slips (8 per A4 page)."""
    from skm.online import ticket_admin as TA
    from skm.reports.qrprint import require_base, ticket_slips_pdf

    try:
        base = require_base(base_url or current_app.config.get("PUBLIC_BASE_URL")
                            or current_app.config.get("SKM_PUBLIC_BASE_URL") or "")
        unit = unit_by_code(db.session, unit_code)
        service = None
        if service_name:
            service = service_by_name(db.session, unit, service_name)
            if service is None or not service.active:
                raise DomainError(f"Layanan {service_name!r} tidak ditemukan di unit {unit.code}.")
        tickets = TA.print_batch(db.session, unit, service, TA.parse_count(count_text))
        body = ticket_slips_pdf(unit, tickets, base)
        out.write_bytes(body)
    except DomainError as exc:
        db.session.rollback()
        fail(str(exc))
    except OSError as exc:
        db.session.rollback()
        fail(f"Berkas {out} tidak dapat ditulis: {exc.strerror or exc}.")
    db.session.commit()
    click.echo(f"{integer_id(len(tickets))} tiket unit {unit.code} dicetak ke {out} (kelompok {tickets[0].batch}).")
