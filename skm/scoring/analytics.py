"""Results beyond one period's table: trend, comparisons, heat map, alerts, review lists.

Builds on skm.results (which computes a period's figures); no Flask here.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Optional

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from skm.core.clock import unit_today, utcnow
from skm.models import AlertRule, AlertState, Answer, Element, Period, Response, Service, StoredAlert, Unit
from skm.scoring.results import Results, Scope, _response_filter, period_results

WEEKDAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


# --- Trend ------------------------------------------------------------------------

@dataclass
class TrendPoint:
    period: Period
    results: Results
    change: Optional[Fraction] = None  # IKM minus the previous period's IKM
    element_change: dict[str, Optional[Fraction]] = field(default_factory=dict)

    @property
    def ikm(self):
        return self.results.scores.ikm

    def nrr(self, code: str):
        for e in self.results.scores.elements:
            if e.code == code:
                return e.nrr
        return None


def trend(session: Session, unit: Unit, period: Period, service_id: Optional[int] = None,
          limit: int = 8) -> list[TrendPoint]:
    """The unit's periods of the same kind up to this one (oldest first), with changes."""
    periods = session.scalars(
        select(Period)
        .where(Period.kind == period.kind, Period.start_date <= period.start_date)
        .order_by(Period.start_date.desc(), Period.id.desc())
        .limit(limit)
    ).all()
    points: list[TrendPoint] = []
    for p in reversed(periods):
        results = period_results(session, unit, p, service_id=service_id, with_profile=False)
        point = TrendPoint(p, results)
        previous = points[-1] if points else None
        if previous is not None:
            if results.scores.ikm is not None and previous.ikm is not None:
                point.change = results.scores.ikm - previous.ikm
            for e in results.scores.elements:
                before = previous.nrr(e.code)
                point.element_change[e.code] = (e.nrr - before) if before is not None else None
        points.append(point)
    return points


def trend_codes(points: Sequence[TrendPoint]) -> list[tuple[str, str]]:
    """Element codes and names across the trend, in the newest period's order first."""
    seen: dict[str, str] = {}
    for point in reversed(points):
        for e in point.results.scores.elements:
            seen.setdefault(e.code, e.name)
    order = {}
    for point in points:
        for e in point.results.scores.elements:
            order[e.code] = e.position
    return sorted(seen.items(), key=lambda kv: (order.get(kv[0], 0), kv[0]))


# --- Comparisons ------------------------------------------------------------------

@dataclass
class ComparisonRow:
    label: str
    results: Results
    retired: bool = False


def service_comparison(session: Session, unit: Unit, period: Period) -> list[ComparisonRow]:
    """Every service of the unit that is active or has responses in the period."""
    rows = []
    for service in session.scalars(select(Service).where(Service.unit_id == unit.id).order_by(Service.name)):
        results = period_results(session, unit, period, service_id=service.id, with_profile=False)
        if service.retired_at is not None and results.respondents == 0:
            continue
        rows.append(ComparisonRow(service.name, results, retired=service.retired_at is not None))
    return rows


def unit_comparison(session: Session, units: Sequence[Unit], period: Period) -> list[ComparisonRow]:
    return [ComparisonRow(f"{u.code} – {u.name}", period_results(session, u, period, with_profile=False))
            for u in units]


# --- Heat map: hour of day x weekday -----------------------------------------------

@dataclass
class HeatCell:
    count: int = 0
    rating_sum: int = 0
    rating_count: int = 0

    @property
    def mean(self) -> Optional[Fraction]:
        """Mean rating (1–4) of every answer in the cell."""
        return Fraction(self.rating_sum, self.rating_count) if self.rating_count else None

    @property
    def scaled(self) -> Optional[Fraction]:
        """The mean on the 25–100 scale of the IKM (not the IKM itself: no per-element weighting)."""
        return self.mean * 25 if self.mean is not None else None


@dataclass
class HeatMap:
    hours: list[int]
    grid: dict[tuple[int, int], HeatCell]  # (weekday 0=Monday, hour) -> cell
    without_time: int = 0

    def cell(self, weekday: int, hour: int) -> HeatCell:
        return self.grid.get((weekday, hour), HeatCell())

    @property
    def max_count(self) -> int:
        return max((c.count for c in self.grid.values()), default=0)


def heatmap(session: Session, scope: Scope) -> HeatMap:
    """Responses by weekday and hour (unit's time zone) with their mean rating."""
    rows = session.execute(
        select(Response.survey_date, Response.survey_time, func.count(Answer.id), func.coalesce(func.sum(Answer.rating), 0))
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(*_response_filter(scope))
        .group_by(Response.id, Response.survey_date, Response.survey_time)
    ).all()
    grid: dict[tuple[int, int], HeatCell] = defaultdict(HeatCell)
    without_time = 0
    for day, time, n, total in rows:
        if time is None:
            without_time += 1
            continue
        cell = grid[(day.weekday(), time.hour)]
        cell.count += 1
        cell.rating_count += int(n)
        cell.rating_sum += int(total)
    hours = list(range(7, 18))
    used = [h for (_w, h) in grid]
    if used:
        hours = list(range(min(min(used), 7), max(max(used), 17) + 1))
    return HeatMap(hours, dict(grid), without_time)


# --- Alerts ------------------------------------------------------------------------

@dataclass
class Alert:
    code: str
    name: str
    start: dt.datetime  # first response of the episode (unit time)
    end: dt.datetime  # last response of the episode
    low: int  # most low ratings seen in one window of the episode
    total: int  # responses in that window

    @property
    def day(self) -> dt.date:
        return self.end.date()


def alert_rule(session: Session, unit: Unit, create: bool = False) -> AlertRule:
    rule = session.scalar(select(AlertRule).where(AlertRule.unit_id == unit.id))
    if rule is None:
        rule = AlertRule(unit_id=unit.id, enabled=True, window_minutes=15, min_responses=4,
                         share_percent=50, max_rating=2)
        if create:
            session.add(rule)
            session.flush()
    return rule


def update_alert_rule(session: Session, unit: Unit, values: dict) -> list[str]:
    errors: list[str] = []
    limits = {"window_minutes": (1, 24 * 60), "min_responses": (1, 1000), "share_percent": (1, 100),
              "max_rating": (1, 3)}
    from skm.survey.unit_settings import parse_int_fields

    clean = parse_int_fields(values, limits, errors)
    if errors:
        return errors
    rule = alert_rule(session, unit, create=True)
    for key, value in clean.items():
        setattr(rule, key, value)
    rule.enabled = bool(values.get("enabled"))
    session.flush()
    refresh_alerts(session, unit)  # the stored alerts follow the new rule at once
    return []


def find_alerts(session: Session, unit: Unit, rule: AlertRule, start: dt.date, end: dt.date,
                service_id: Optional[int] = None) -> list[Alert]:
    """Episodes where, in a window of rule.window_minutes ending at a response, at least
    min_responses responses arrived and at least share_percent % of them rated one
    element at most max_rating. Newest first."""
    if not rule.enabled:
        return []
    conds = [Response.unit_id == unit.id, Response.survey_date >= start, Response.survey_date <= end,
             Response.excluded.is_(False), Response.survey_time.is_not(None)]
    if service_id is not None:
        conds.append(Response.service_id == service_id)
    rows = session.execute(
        select(Response.id, Response.survey_date, Response.survey_time, Element.code, Element.name, Answer.rating)
        .join(Answer, Answer.response_id == Response.id)
        .join(Element, Element.id == Answer.element_id)
        .where(*conds)
        .order_by(Response.survey_date, Response.survey_time, Response.id)
    ).all()
    responses: list[tuple[dt.datetime, set[str]]] = []
    names: dict[str, str] = {}
    last_id = None
    for rid, day, time, code, name, rating in rows:
        if rid != last_id:
            assert time is not None  # the query keeps only responses with a time
            responses.append((dt.datetime.combine(day, time), set()))
            last_id = rid
        names[code] = name
        if rating <= rule.max_rating:
            responses[-1][1].add(code)
    window = dt.timedelta(minutes=rule.window_minutes)
    low_counts: dict[str, int] = defaultdict(int)
    open_alerts: dict[str, Alert] = {}
    alerts: list[Alert] = []
    j = 0
    for i, (moment, lows) in enumerate(responses):
        for code in lows:
            low_counts[code] += 1
        while responses[j][0] < moment - window:
            for code in responses[j][1]:
                low_counts[code] -= 1
            j += 1
        total = i - j + 1
        firing = set()
        if total >= rule.min_responses:
            for code, low in low_counts.items():
                if low and low * 100 >= rule.share_percent * total:
                    firing.add(code)
                    alert = open_alerts.get(code)
                    if alert is None:
                        alert = Alert(code, names[code], responses[j][0], moment, low, total)
                        open_alerts[code] = alert
                        alerts.append(alert)
                    else:
                        alert.end = moment
                        if low > alert.low:
                            alert.low, alert.total = low, total
        for code in list(open_alerts):
            if code not in firing:
                del open_alerts[code]
    return sorted(alerts, key=lambda a: (a.end, a.code), reverse=True)


# The stored alerts cover the unit's last ALERT_DAYS days (the longest list a page shows).
ALERT_DAYS = 31


def _alert_marker(session: Session, unit: Unit, rule: AlertRule, start: dt.date, end: dt.date) -> str:
    """What the unit's alerts depend on: its responses in the window (count, newest id,
    excluded count) and the rule. Equal markers, equal alerts."""
    count, newest, excluded = session.execute(
        select(func.count(Response.id), func.max(Response.id),
               func.count(Response.id).filter(Response.excluded.is_(True)))
        .where(Response.unit_id == unit.id, Response.survey_date >= start, Response.survey_date <= end)
    ).one()
    return (f"{start.isoformat()}:{count}:{newest or 0}:{excluded}:{int(bool(rule.enabled))}:"
            f"{rule.window_minutes}:{rule.min_responses}:{rule.share_percent}:{rule.max_rating}")


def refresh_alerts(session: Session, unit: Unit, now_utc: Optional[dt.datetime] = None, force: bool = True) -> bool:
    """Compute the unit's alerts of its last ALERT_DAYS days and store them (flush only).
    Without `force`, only when the responses or the rule changed since the last time.
    True when they were computed."""
    today = unit_today(unit, now_utc)
    start = today - dt.timedelta(days=ALERT_DAYS - 1)
    rule = alert_rule(session, unit)
    marker = _alert_marker(session, unit, rule, start, today)
    state = session.scalar(select(AlertState).where(AlertState.unit_id == unit.id))
    if state is not None and state.marker == marker and not force:
        return False
    session.execute(delete(StoredAlert).where(StoredAlert.unit_id == unit.id))
    for a in find_alerts(session, unit, rule, start, today):
        session.add(StoredAlert(unit_id=unit.id, code=a.code, name=a.name[:300], start=a.start, end=a.end,
                                low=a.low, total=a.total))
    if state is None:
        state = AlertState(unit_id=unit.id)
        session.add(state)
    state.marker, state.computed_at = marker, utcnow()
    session.flush()
    return True


def refresh_all_alerts(session: Session, now_utc: Optional[dt.datetime] = None) -> int:
    """The periodic task's work: every unit whose data changed since its alerts were stored."""
    from skm.core.database import serialize_run

    serialize_run(session, 7514002)  # two workers' minute runs do not store the same alerts twice
    return sum(refresh_alerts(session, unit, now_utc, force=False)
               for unit in session.scalars(select(Unit).order_by(Unit.id)).all())


def refresh_alerts_task(app) -> int:
    """Queue task (skm.queue, every minute): recompute the alerts that changed, commit."""
    from skm.extensions import db

    count = refresh_all_alerts(db.session())
    db.session.commit()
    return count


def recent_alerts(session: Session, unit: Unit, days: int = 7, now_utc: Optional[dt.datetime] = None) -> list[Alert]:
    """The unit's stored alerts (refresh_alerts) ending in its last `days` days, newest first.
    Pages read these; the queue worker keeps them current."""
    today = unit_today(unit, now_utc)
    since = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time())
    if not alert_rule(session, unit).enabled:
        return []
    rows = session.scalars(select(StoredAlert).where(
        StoredAlert.unit_id == unit.id, StoredAlert.end >= since,
        StoredAlert.end < dt.datetime.combine(today + dt.timedelta(days=1), dt.time()))).all()
    alerts = [Alert(r.code, r.name, r.start, r.end, r.low, r.total) for r in rows]
    return sorted(alerts, key=lambda a: (a.end, a.code), reverse=True)


def alerts_computed_at(session: Session, unit: Unit) -> Optional[dt.datetime]:
    """When the unit's stored alerts were last computed (UTC), None when never."""
    return session.scalar(select(AlertState.computed_at).where(AlertState.unit_id == unit.id))


# --- Dashboard cards ---------------------------------------------------------------

# --- Review lists ------------------------------------------------------------------

def suggestions(session: Session, scope: Scope, query: str = "", offset: int = 0, limit: int = 50):
    """Suggestions of the scope, newest first, optionally containing `query`; (rows, total)."""
    conds = [*_response_filter(scope), Response.suggestion.is_not(None), Response.suggestion != ""]
    query = (query or "").strip()
    if query:
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append(func.lower(Response.suggestion).like(like.lower(), escape="\\"))
    total = session.scalar(select(func.count(Response.id)).where(*conds)) or 0
    rows = session.execute(
        select(Response.id, Response.survey_date, Response.channel, Service.name, Response.suggestion)
        .outerjoin(Service, Service.id == Response.service_id)
        .where(*conds)
        .order_by(Response.survey_date.desc(), Response.survey_time.desc(), Response.id.desc())
        .offset(offset).limit(limit)
    ).all()
    return rows, total


def flagged_responses(session: Session, scope: Scope, limit: int = 500) -> list[Response]:
    """Flagged (or already excluded) responses of the scope, for review."""
    conds = _response_filter(Scope(scope.unit_id, scope.start, scope.end, scope.service_id, include_excluded=True))
    return list(session.scalars(
        select(Response).where(*conds, or_(Response.flagged.is_(True), Response.excluded.is_(True)))
        .order_by(Response.survey_date.desc(), Response.id.desc()).limit(limit)
    ))


def responses_in_unit(session: Session, unit_id: int, ids: Sequence[int]) -> list[int]:
    """The ids that belong to this unit (so a form cannot touch another unit's responses)."""
    if not ids:
        return []
    return list(session.scalars(select(Response.id).where(Response.unit_id == unit_id, Response.id.in_(ids))))
