"""Results dashboard: cards, element table, charts, data sheet, suggestions, trend,
comparisons, heat map, flagged-response review and alerts. Admins and managers only."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from skm.core.errors import DomainError
from skm.core.parsing import parse_id
from skm.extensions import db
from skm.models import Period, Service, Unit
from skm.scoring import analytics
from skm.scoring.results import Scope, channel_counts, data_sheet_rows, parse_channel_filter, period_results
from skm.survey.period_admin import period_unit
from skm.survey.reporting import default_period, reports_unavailable
from skm.survey.responses import set_excluded

from . import bp
from .auth import accessible_units, get_unit, roles_required

SHEET_PAGE = 50
SUGGESTION_PAGE = 50


@dataclass
class Selection:
    units: list[Unit]
    periods: list[Period]
    unit: Optional[Unit]
    period: Optional[Period]
    service: Optional[Service]
    # Issue 15: one channel (?media=kiosk|online|paper|import) and/or ticketed responses only
    # (?terverifikasi=1); a bad value is named in filter_error and filters nothing.
    channel: Optional[str] = None
    verified: bool = False
    filter_error: Optional[str] = None

    @property
    def ready(self) -> bool:
        return self.unit is not None and self.period is not None

    @property
    def scope(self) -> Scope:
        return Scope(self.unit.id, self.period.start_date, self.period.end_date,
                     self.service.id if self.service else None, channel=self.channel, verified_only=self.verified)

    @property
    def filtered(self) -> bool:
        return self.channel is not None or self.verified

    def args(self, **extra) -> dict:
        args = {"unit_id": self.unit.id if self.unit else None, "period": self.period.id if self.period else None}
        if self.service:
            args["service"] = self.service.id
        if self.channel:
            args["media"] = self.channel
        if self.verified:
            args["terverifikasi"] = 1
        args.update(extra)
        return {k: v for k, v in args.items() if v is not None}


def _arg_int(name: str) -> Optional[int]:
    return parse_id(request.args.get(name, ""))


def unit_routes(path: str, **options):
    """Register a dashboard page at /units/<unit_id>/<path>, and at the old /<path>, which
    redirects there: permanently when the old ?unit= names the unit, temporarily to the
    user's first unit when it does not (the menu's "Hasil" link)."""

    def decorator(view):
        bp.add_url_rule(f"/{path}", view_func=view, **options)
        bp.add_url_rule(f"/units/<int:unit_id>/{path}", view_func=view, **options)
        return view

    return decorator


def _to_unit_page(units: list[Unit]) -> None:
    """On an address without a unit: redirect to the same page of the ?unit= unit (301/308)
    or of the user's first unit (302/307), keeping the other query arguments."""
    unit_id = _arg_int("unit")
    if unit_id is not None:
        unit = get_unit(unit_id)  # 403 for another unit's id, whatever URL is typed
    elif units:
        unit = units[0]
    else:
        return  # no unit at all: the page says so
    # (url_for's own _external/_anchor… arguments are not taken from a typed URL)
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in ("unit", "unit_id") and k[:1] != "_"}
    if request.method in ("GET", "HEAD"):
        code = 301 if unit_id is not None else 302
    else:
        code = 308 if unit_id is not None else 307
    abort(redirect(url_for(request.endpoint, unit_id=unit.id, **args), code=code))


def _selection(unit_id: Optional[int] = None) -> Selection:
    """Unit from the URL, period and service from the query string, checked against the user's units."""
    units = accessible_units()
    periods = list(db.session.scalars(select(Period).order_by(Period.start_date.desc(), Period.id.desc())))
    if unit_id is None:
        _to_unit_page(units)
        unit = None
    else:
        unit = get_unit(unit_id)  # 403 for another unit's id, whatever URL is typed
    period_id = _arg_int("period")
    if period_id is not None:
        period = db.session.get(Period, period_id)
        if period is None:
            abort(404)
    else:
        # The latest period with responses (skm.survey.reporting), as on the poster and in Laporan.
        period = default_period(db.session, unit) if unit is not None else None
        period = period or (periods[0] if periods else None)
    service = None
    service_id = _arg_int("service")
    if service_id is not None and unit is not None:
        service = db.session.get(Service, service_id)
        if service is None:
            abort(404)
        if service.unit_id != unit.id:
            service = None  # a service of another unit (e.g. after switching units): show all services
    channel, verified, error = parse_channel_filter(request.args.get("media"), request.args.get("terverifikasi"))
    return Selection(units, periods, unit, period, service, channel, verified, error)


def channel_card(sel: Selection) -> dict:
    """Responses per channel of the unit, period and service (every channel, the chosen one
    or not), and how many of them were made with a one-time ticket."""
    everything = replace(sel.scope, channel=None, verified_only=False)
    counts = channel_counts(db.session, everything)
    ticketed = channel_counts(db.session, replace(everything, verified_only=True))
    return {"counts": counts, "verified": sum(ticketed.values()), "total": sum(counts.values())}


def completion_card(sel: Selection) -> Optional[dict]:
    """The 'completion rate of kiosk surveys' card: finished ÷ started kiosk surveys, where
    started includes the ones abandoned at the idle reset (skm.kiosk_flow)."""
    from fractions import Fraction

    from skm.kiosk.flow import kiosk_completion

    finished, started = kiosk_completion(db.session, sel.scope.unit_id, sel.scope.start, sel.scope.end)
    if not started:
        return None
    return {"total": started, "complete": finished, "rate": Fraction(100 * finished, started)}


@unit_routes("results")
@roles_required("admin", "manager")
def results(unit_id: Optional[int] = None):
    sel = _selection(unit_id)
    if not sel.ready:
        return render_template("admin/results/index.html", sel=sel, res=None)
    res = period_results(db.session, sel.unit, sel.period, service_id=sel.service.id if sel.service else None,
                         channel=sel.channel, verified_only=sel.verified)
    state = period_unit(db.session, sel.period, sel.unit)
    today_alerts = analytics.recent_alerts(db.session, sel.unit, days=1)
    latest, suggestion_total = analytics.suggestions(db.session, sel.scope, limit=5)
    return render_template(
        "admin/results/index.html", sel=sel, res=res, completion=completion_card(sel), channels=channel_card(sel),
        closed=state is not None and state.closed_at is not None, alerts=today_alerts,
        latest_suggestions=latest, suggestion_total=suggestion_total,
        # Result-based documents need respondents; without, the page says why instead of links.
        reports_unavailable=None if sel.service else reports_unavailable(db.session, sel.unit, sel.period),
    )


@unit_routes("results/sheet")
@roles_required("admin", "manager")
def results_sheet(unit_id: Optional[int] = None):
    sel = _selection(unit_id)
    if not sel.ready:
        return render_template("admin/results/sheet.html", sel=sel, res=None)
    res = period_results(db.session, sel.unit, sel.period, service_id=sel.service.id if sel.service else None,
                         channel=sel.channel, verified_only=sel.verified, with_profile=False)
    pages = max(1, -(-res.respondents // SHEET_PAGE))
    page = min(max(_arg_int("page") or 1, 1), pages)
    rows = list(data_sheet_rows(db.session, sel.scope, offset=(page - 1) * SHEET_PAGE, limit=SHEET_PAGE))
    return render_template("admin/results/sheet.html", sel=sel, res=res, rows=rows, page=page, pages=pages)


@unit_routes("results/suggestions")
@roles_required("admin", "manager")
def results_suggestions(unit_id: Optional[int] = None):
    sel = _selection(unit_id)
    query = request.args.get("q", "")[:200]
    if not sel.ready:
        return render_template("admin/results/suggestions.html", sel=sel, rows=[], total=0, q=query, page=1, pages=1)
    page = max(_arg_int("page") or 1, 1)
    rows, total = analytics.suggestions(db.session, sel.scope, query, (page - 1) * SUGGESTION_PAGE, SUGGESTION_PAGE)
    pages = max(1, -(-total // SUGGESTION_PAGE))
    return render_template("admin/results/suggestions.html", sel=sel, rows=rows, total=total, q=query,
                           page=page, pages=pages)


@unit_routes("results/trend")
@roles_required("admin", "manager")
def results_trend(unit_id: Optional[int] = None):
    sel = _selection(unit_id)
    points = analytics.trend(db.session, sel.unit, sel.period, sel.service.id if sel.service else None) if sel.ready else []
    return render_template("admin/results/trend.html", sel=sel, points=points,
                           codes=analytics.trend_codes(points))


@unit_routes("results/compare")
@roles_required("admin", "manager")
def results_compare(unit_id: Optional[int] = None):
    sel = _selection(unit_id)
    services, units = [], []
    if sel.ready:
        services = analytics.service_comparison(db.session, sel.unit, sel.period)
        if current_user.role == "admin":
            units = analytics.unit_comparison(db.session, sel.units, sel.period)
    return render_template("admin/results/compare.html", sel=sel, services=services, units=units)


@unit_routes("results/heatmap")
@roles_required("admin", "manager")
def results_heatmap(unit_id: Optional[int] = None):
    sel = _selection(unit_id)
    heat = analytics.heatmap(db.session, sel.scope) if sel.ready else None
    return render_template("admin/results/heatmap.html", sel=sel, heat=heat, weekdays=analytics.WEEKDAYS)


@unit_routes("results/flagged", methods=["GET", "POST"])
@roles_required("admin", "manager")
def results_flagged(unit_id: Optional[int] = None):
    sel = _selection(unit_id)
    if request.method == "POST":
        if not sel.ready:
            abort(404)
        ids = [n for n in map(parse_id, request.form.getlist("response")) if n is not None]
        ids = analytics.responses_in_unit(db.session, sel.unit.id, ids)
        exclude = request.form.get("action") == "exclude"
        if not ids:
            flash("Pilih paling sedikit satu jawaban.")
        else:
            try:
                count = set_excluded(db.session, ids, exclude)
            except DomainError as exc:
                db.session.rollback()
                flash(str(exc))
            else:
                db.session.commit()
                flash(f"{count} jawaban " + ("dikecualikan dari perhitungan." if exclude else "diterima dan dihitung."))
        return redirect(url_for("admin.results_flagged", **sel.args()))
    responses = analytics.flagged_responses(db.session, sel.scope) if sel.ready else []
    state = period_unit(db.session, sel.period, sel.unit) if sel.ready else None
    return render_template("admin/results/flagged.html", sel=sel, responses=responses,
                           closed=state is not None and state.closed_at is not None)


@unit_routes("alerts")
@roles_required("admin", "manager")
def alerts(unit_id: Optional[int] = None):
    sel = _selection(unit_id)
    days = min(max(_arg_int("days") or 7, 1), 31)
    alerts = analytics.recent_alerts(db.session, sel.unit, days=days) if sel.unit else []
    rule = analytics.alert_rule(db.session, sel.unit) if sel.unit else None
    return render_template("admin/results/alerts.html", sel=sel, alerts=alerts, rule=rule, days=days)
