"""The figures managers read about follow-up: share done, overdue actions, effect on the NRR."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from skm.core.clock import unit_today
from skm.core.formatting import number_id
from skm.followup.common import quarter_end
from skm.models import (
    FollowUpAction,
    FollowUpPlan,
    Period,
    Unit,
)
from skm.scoring.ikm import element_scores
from skm.scoring.results import Scope, element_tallies, period_results
from skm.survey.periods import following

# --------------------------------------------------------------------------- overview figures


@dataclass(frozen=True)
class Share:
    done: int
    total: int

    @property
    def percent(self) -> Optional[Fraction]:
        return Fraction(100 * self.done, self.total) if self.total else None

    @property
    def percent_label(self) -> str:
        p = self.percent
        if p is None:
            return "–"
        return f"{number_id(p, 0 if p.denominator == 1 else 2)}%"

    @property
    def text(self) -> str:
        """"3 dari 3 RTL telah ditindaklanjuti (100%)"."""
        return f"{self.done} dari {self.total} RTL telah ditindaklanjuti ({self.percent_label})"


def share_done(actions: Iterable[FollowUpAction]) -> Share:
    actions = list(actions)
    return Share(sum(1 for a in actions if a.done), len(actions))


def is_overdue(action: FollowUpAction, today: dt.date) -> bool:
    """Still Belum after the last scheduled quarter has ended."""
    if action.done or not action.quarters:
        return False
    return quarter_end(action.year, max(action.quarters)) < today


@dataclass(frozen=True)
class Effect:
    code: str
    before: Optional[Fraction]  # NRR in the plan's period
    after: Optional[Fraction]  # NRR in the following period of the same kind
    following_name: Optional[str]
    following_complete: bool  # the following period has ended

    @property
    def delta(self) -> Optional[Fraction]:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


def _nrr_by_code(session: Session, scope: Scope) -> dict[str, Fraction]:
    return {e.code: e.nrr for e in element_scores(element_tallies(session, scope))}


def plan_effects(session: Session, plan: FollowUpPlan, today: Optional[dt.date] = None) -> dict[str, Effect]:
    """Per priority element: NRR in the plan's period and in the following period of the same kind."""
    period = plan.period
    unit = plan.unit
    today = today or unit_today(unit)
    before = _nrr_by_code(session, Scope(unit.id, period.start_date, period.end_date))
    span = following(period.kind, period.start_date)
    after: dict[str, Fraction] = {}
    if span is not None and span.start <= today:
        after = _nrr_by_code(session, Scope(unit.id, span.start, span.end))
    return {
        p.element_code: Effect(
            p.element_code,
            before.get(p.element_code, p.nrr),
            after.get(p.element_code),
            span.name if span else None,
            bool(span and span.end < today),
        )
        for p in plan.priorities
    }


@dataclass
class PlanSummary:
    plan: FollowUpPlan
    share: Share
    overdue: int


def unit_plans(session: Session, unit: Unit, today: Optional[dt.date] = None) -> list[PlanSummary]:
    """The unit's plans across periods, newest period first."""
    today = today or unit_today(unit)
    plans = session.scalars(
        select(FollowUpPlan).join(Period).where(FollowUpPlan.unit_id == unit.id)
        .order_by(Period.start_date.desc(), Period.id.desc())
    ).all()
    return [
        PlanSummary(p, share_done(p.actions), sum(1 for a in p.actions if is_overdue(a, today)))
        for p in plans
    ]


@dataclass
class PeriodRow:
    period: Period
    results: object  # skm.results.Results
    plan: Optional[FollowUpPlan]


def unit_periods(session: Session, unit: Unit) -> list[PeriodRow]:
    """Every period (newest first) with the unit's results and its plan, if any."""
    periods = session.scalars(select(Period).order_by(Period.start_date.desc(), Period.id.desc())).all()
    plans = {p.period_id: p for p in session.scalars(select(FollowUpPlan).where(FollowUpPlan.unit_id == unit.id))}
    return [PeriodRow(p, period_results(session, unit, p, with_profile=False), plans.get(p.id)) for p in periods]
