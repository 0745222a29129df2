"""The manager's start page: per unit, what needs looking at.

Per unit: the IKM of the reporting period and of the collecting period so far (the two
periods of skm.survey.reporting), the collecting period's respondents against the minimum
sample, the IKM trend over the last periods of the reporting period's kind, the follow-up
plans' actions done and overdue, and today's alerts. Figures come from the same functions
as the dashboard, the recap and the RTL pages. No Flask.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Optional

from sqlalchemy.orm import Session

from skm.core.clock import unit_today
from skm.followup.progress import PlanSummary, unit_plans
from skm.models import Period, Unit
from skm.scoring.analytics import TrendPoint, recent_alerts, trend
from skm.scoring.results import Results, period_results
from skm.survey.reporting import collecting_period, reporting_period

TREND_POINTS = 4


@dataclass
class UnitOverview:
    unit: Unit
    reporting: Optional[Period]
    reporting_results: Optional[Results]
    collecting: Optional[Period]
    collecting_results: Optional[Results]
    trend: list[TrendPoint] = field(default_factory=list)
    plans: list[PlanSummary] = field(default_factory=list)
    alerts: int = 0

    @property
    def sample(self) -> Optional[dict]:
        """The collecting period's respondents against the minimum (None without a population)."""
        return self.collecting_results.sample if self.collecting_results is not None else None

    @property
    def sample_percent(self) -> Optional[Fraction]:
        s = self.sample
        return min(Fraction(100), Fraction(100 * s["respondents"], s["needed"])) if s and s["needed"] else None

    @property
    def reporting_plan(self) -> Optional[PlanSummary]:
        if self.reporting is None:
            return None
        return next((p for p in self.plans if p.plan.period_id == self.reporting.id), None)

    @property
    def rtl_done(self) -> int:
        return sum(p.share.done for p in self.plans)

    @property
    def rtl_total(self) -> int:
        return sum(p.share.total for p in self.plans)

    @property
    def overdue(self) -> int:
        return sum(p.overdue for p in self.plans)


def unit_overview(session: Session, unit: Unit, today: Optional[dt.date] = None,
                  with_alerts: bool = True) -> UnitOverview:
    """One unit's start-page figures (see the module docstring)."""
    today = today or unit_today(unit)
    reporting = reporting_period(session, unit, today)
    collecting = collecting_period(session, unit, today)
    rep = period_results(session, unit, reporting, with_profile=False) if reporting else None
    if collecting is not None and reporting is not None and collecting.id == reporting.id:
        col = rep
    else:
        col = period_results(session, unit, collecting, with_profile=False) if collecting else None
    points = [p for p in trend(session, unit, reporting, limit=TREND_POINTS) if p.ikm is not None] if reporting else []
    return UnitOverview(
        unit=unit, reporting=reporting, reporting_results=rep, collecting=collecting, collecting_results=col,
        trend=points, plans=unit_plans(session, unit, today),
        alerts=len(recent_alerts(session, unit, days=1)) if with_alerts else 0,
    )


def overview(session: Session, units: Sequence[Unit], with_alerts: bool = True) -> list[UnitOverview]:
    return [unit_overview(session, u, with_alerts=with_alerts) for u in units]
