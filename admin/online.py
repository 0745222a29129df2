"""Online survey of a unit for its staff (admins, managers, operators of the unit): the
survey's QR and printable cards, printing a batch of one-time ticket slips, issuing one
ticket at the front desk, and the unit's tickets with spent/unspent counts."""
from __future__ import annotations

from typing import Optional

from flask import abort, current_app, make_response, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from skm.core.errors import DomainError
from skm.extensions import db
from skm.models import SurveyTicket, Unit
from skm.online import links
from skm.online import qr as Q
from skm.online import ticket_admin as TA
from skm.reports import qrprint
from skm.web import public_base_url

from . import bp
from .auth import get_unit, roles_required
from .common import commit_or_rerender, unit_picker

ONLINE_ROLES = ("admin", "manager", "operator")


def _pdf(body: bytes, name: str, inline: bool = False):
    response = make_response(body)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{name}"'
    return response


def _page(unit: Unit, errors: Optional[dict] = None, values: Optional[dict] = None, status: int = 200):
    total, spent = TA.ticket_counts(db.session, unit)
    batch = request.args.get("batch", "")[:40]
    printed = TA.batch_tickets(db.session, unit, batch) if batch else []
    return render_template(
        "admin/online/index.html", unit=unit, services=[s for s in unit.services if s.active],
        errors=errors or {}, values=values or {}, total=total, spent=spent,
        batches=TA.recent_batches(db.session, unit), desk=TA.recent_desk_tickets(db.session, unit),
        printed=printed, printed_batch=batch if printed else "",
        base_configured=bool(current_app.config.get("PUBLIC_BASE_URL") or current_app.config.get("SKM_PUBLIC_BASE_URL")),
        max_batch=TA.MAX_BATCH, form=FlaskForm(),
    ), status


@bp.route("/survei-daring/")
@roles_required(*ONLINE_ROLES)
def online_home():
    return unit_picker("admin.online_unit", "QR & tiket survei")


@bp.route("/units/<int:unit_id>/survei-daring")
@roles_required(*ONLINE_ROLES)
def online_unit(unit_id: int):
    return _page(get_unit(unit_id))


@bp.route("/units/<int:unit_id>/survei-daring/kartu-<any(a4, a5):paper>.pdf")
@roles_required(*ONLINE_ROLES)
def online_card(unit_id: int, paper: str):
    unit = get_unit(unit_id)
    try:
        service = TA.unit_service(db.session, unit, request.args.get("layanan"))
        body = qrprint.qr_card_pdf(unit, service, paper, public_base_url())
    except DomainError:
        abort(404)
    return _pdf(body, qrprint.card_filename(unit, service, paper))


@bp.route("/units/<int:unit_id>/survei-daring/tiket", methods=["POST"])
@roles_required(*ONLINE_ROLES)
def online_print_batch(unit_id: int):
    unit = get_unit(unit_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    values = {"count": request.form.get("count", "")[:12], "service": request.form.get("service", "")[:12]}

    def change():
        service = TA.unit_service(db.session, unit, values["service"])
        return TA.print_batch(db.session, unit, service, TA.parse_count(values["count"]), user=current_user)

    return commit_or_rerender(
        change, lambda error: _page(unit, errors={"batch": error}, values=values),
        lambda tickets: f"{len(tickets)} tiket dibuat. Unduh slipnya di bawah.",
        lambda tickets: url_for("admin.online_unit", unit_id=unit.id, batch=tickets[0].batch) + "#cetak")


@bp.route("/units/<int:unit_id>/survei-daring/tiket/<batch>.pdf")
@roles_required(*ONLINE_ROLES)
def online_batch_pdf(unit_id: int, batch: str):
    unit = get_unit(unit_id)
    tickets = TA.batch_tickets(db.session, unit, batch)
    if not tickets:
        abort(404)
    return _pdf(qrprint.ticket_slips_pdf(unit, tickets, public_base_url()), qrprint.slips_filename(unit, len(tickets)))


@bp.route("/units/<int:unit_id>/survei-daring/loket", methods=["POST"])
@roles_required(*ONLINE_ROLES)
def online_issue_one(unit_id: int):
    unit = get_unit(unit_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    values = {"desk_service": request.form.get("service", "")[:12]}

    def change() -> SurveyTicket:
        return TA.issue_one(db.session, unit, TA.unit_service(db.session, unit, values["desk_service"]),
                            user=current_user)

    return commit_or_rerender(
        change, lambda error: _page(unit, errors={"desk": error}, values=values), None,
        lambda ticket: url_for("admin.online_ticket", unit_id=unit.id, ticket_id=ticket.id))


def _ticket(unit_id: int, ticket_id: int) -> tuple[Unit, SurveyTicket]:
    unit = get_unit(unit_id)
    ticket = TA.unit_ticket(db.session, unit, ticket_id)
    if ticket is None:
        abort(404)
    return unit, ticket


@bp.route("/units/<int:unit_id>/survei-daring/tiket/<int:ticket_id>")
@roles_required(*ONLINE_ROLES)
def online_ticket(unit_id: int, ticket_id: int):
    """The front desk's screen: the code big and its QR to scan from the screen."""
    unit, ticket = _ticket(unit_id, ticket_id)
    url = links.ticket_url(public_base_url(), ticket.code)
    return render_template("admin/online/ticket.html", unit=unit, ticket=ticket, url=url,
                           code=qrprint.display_code(ticket.code), qr=Q.svg_markup(url))


@bp.route("/units/<int:unit_id>/survei-daring/tiket/<int:ticket_id>/slip.pdf")
@roles_required(*ONLINE_ROLES)
def online_ticket_pdf(unit_id: int, ticket_id: int):
    unit, ticket = _ticket(unit_id, ticket_id)
    return _pdf(qrprint.ticket_slips_pdf(unit, [ticket], public_base_url(), single=True),
                f"tiket-{ticket.code.lower()}.pdf", inline=True)


