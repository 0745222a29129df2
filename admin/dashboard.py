"""Results dashboard: cards, element table, charts, data sheet, suggestions, trend,
comparisons, heat map, flagged-response review and alerts. Admins and managers only."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from skm.core.errors import DomainError
from skm.extensions import db
from skm.models import Period, Service, Unit
from skm.scoring import analytics
from skm.scoring.results import Scope, data_sheet_rows, period_results
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

    @property
    def ready(self) -> bool:
        return self.unit is not None and self.period is not None

    @property
    def scope(self) -> Scope:
        return Scope(self.unit.id, self.period.start_date, self.period.end_date,
                     self.service.id if self.service else None)

    def args(self, **extra) -> dict:
        args = {"unit": self.unit.id if self.unit else None, "period": self.period.id if self.period else None}
        if self.service:
            args["service"] = self.service.id
        args.update(extra)
        return {k: v for k, v in args.items() if v is not None}


def _arg_int(name: str) -> Optional[int]:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else None


def _selection() -> Selection:
    """Unit, period and service from the query string, checked against the user's units."""
    units = accessible_units()
    periods = list(db.session.scalars(select(Period).order_by(Period.start_date.desc(), Period.id.desc())))
    unit_id = _arg_int("unit")
    if unit_id is not None:
        unit = get_unit(unit_id)  # 403 for another unit's id, whatever URL is typed
    else:
        unit = units[0] if units else None
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
    return Selection(units, periods, unit, period, service)


def completion_card(sel: Selection) -> Optional[dict]:
    """The 'completion rate of kiosk surveys' card: finished ÷ started kiosk surveys, where
    started includes the ones abandoned at the idle reset (skm.kiosk_flow)."""
    from fractions import Fraction

    from skm.kiosk.flow import kiosk_completion

    finished, started = kiosk_completion(db.session, sel.scope.unit_id, sel.scope.start, sel.scope.end)
    if not started:
        return None
    return {"total": started, "complete": finished, "rate": Fraction(100 * finished, started)}


@bp.route("/results")
@roles_required("admin", "manager")
def results():
    sel = _selection()
    if not sel.ready:
        return render_template("admin/results/index.html", sel=sel, res=None)
    res = period_results(db.session, sel.unit, sel.period, service_id=sel.service.id if sel.service else None)
    state = period_unit(db.session, sel.period, sel.unit)
    today_alerts = analytics.recent_alerts(db.session, sel.unit, days=1)
    latest, suggestion_total = analytics.suggestions(db.session, sel.scope, limit=5)
    return render_template(
        "admin/results/index.html", sel=sel, res=res, completion=completion_card(sel),
        closed=state is not None and state.closed_at is not None, alerts=today_alerts,
        latest_suggestions=latest, suggestion_total=suggestion_total,
        # Result-based documents need respondents; without, the page says why instead of links.
        reports_unavailable=None if sel.service else reports_unavailable(db.session, sel.unit, sel.period),
    )


@bp.route("/results/sheet")
@roles_required("admin", "manager")
def results_sheet():
    sel = _selection()
    if not sel.ready:
        return render_template("admin/results/sheet.html", sel=sel, res=None)
    res = period_results(db.session, sel.unit, sel.period, service_id=sel.service.id if sel.service else None,
                         with_profile=False)
    pages = max(1, -(-res.respondents // SHEET_PAGE))
    page = min(max(_arg_int("page") or 1, 1), pages)
    rows = list(data_sheet_rows(db.session, sel.scope, offset=(page - 1) * SHEET_PAGE, limit=SHEET_PAGE))
    return render_template("admin/results/sheet.html", sel=sel, res=res, rows=rows, page=page, pages=pages)


@bp.route("/results/suggestions")
@roles_required("admin", "manager")
def results_suggestions():
    sel = _selection()
    query = request.args.get("q", "")[:200]
    if not sel.ready:
        return render_template("admin/results/suggestions.html", sel=sel, rows=[], total=0, q=query, page=1, pages=1)
    page = max(_arg_int("page") or 1, 1)
    rows, total = analytics.suggestions(db.session, sel.scope, query, (page - 1) * SUGGESTION_PAGE, SUGGESTION_PAGE)
    pages = max(1, -(-total // SUGGESTION_PAGE))
    return render_template("admin/results/suggestions.html", sel=sel, rows=rows, total=total, q=query,
                           page=page, pages=pages)


@bp.route("/results/trend")
@roles_required("admin", "manager")
def results_trend():
    sel = _selection()
    points = analytics.trend(db.session, sel.unit, sel.period, sel.service.id if sel.service else None) if sel.ready else []
    return render_template("admin/results/trend.html", sel=sel, points=points,
                           codes=analytics.trend_codes(points))


@bp.route("/results/compare")
@roles_required("admin", "manager")
def results_compare():
    sel = _selection()
    services, units = [], []
    if sel.ready:
        services = analytics.service_comparison(db.session, sel.unit, sel.period)
        if current_user.role == "admin":
            units = analytics.unit_comparison(db.session, sel.units, sel.period)
    return render_template("admin/results/compare.html", sel=sel, services=services, units=units)


@bp.route("/results/heatmap")
@roles_required("admin", "manager")
def results_heatmap():
    sel = _selection()
    heat = analytics.heatmap(db.session, sel.scope) if sel.ready else None
    return render_template("admin/results/heatmap.html", sel=sel, heat=heat, weekdays=analytics.WEEKDAYS)


@bp.route("/results/flagged", methods=["GET", "POST"])
@roles_required("admin", "manager")
def results_flagged():
    sel = _selection()
    if request.method == "POST":
        if not sel.ready:
            abort(404)
        ids = [int(x) for x in request.form.getlist("response") if x.isdigit() and len(x) < 12]
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


@bp.route("/alerts")
@roles_required("admin", "manager")
def alerts():
    sel = _selection()
    days = min(max(_arg_int("days") or 7, 1), 31)
    alerts = analytics.recent_alerts(db.session, sel.unit, days=days) if sel.unit else []
    rule = analytics.alert_rule(db.session, sel.unit) if sel.unit else None
    return render_template("admin/results/alerts.html", sel=sel, alerts=alerts, rule=rule, days=days)
