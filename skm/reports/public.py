"""The public results page's data: published periods only (skm.survey.publication).

Figures come from skm.scoring.results (the dashboard's numbers, so anything the results
leave out -- excluded or quarantined responses -- is left out here too) and are formatted
with skm.core.formatting. Suggestion text appears only when the unit picked it
(skm.survey.publication.public_suggestions).
No Flask here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy.orm import Session

from skm.core.formatting import date_range_id, integer_id, number_id
from skm.followup.public import SaidDoneItem, said_done_items
from skm.models import Period, Unit
from skm.scoring.results import period_results
from skm.survey.publication import PublicSuggestion, public_suggestions, published_periods, publishing_units

TREND_PERIODS = 4


@dataclass
class PublishedFigure:
    period_id: int
    period: str
    period_range: str
    respondents: str
    ikm: str
    ikm_value: Optional[float]  # for the chart's geometry only; the label is `ikm`
    grade: str
    kinerja: str


@dataclass
class PublicUnit:
    code: str
    name: str
    latest: PublishedFigure
    trend: list[PublishedFigure]  # oldest first, at most TREND_PERIODS
    archive: list[dict]  # every published period, newest first: {"period_id", "period", "period_range"}
    items: list[SaidDoneItem] = field(default_factory=list)
    suggestions: list[PublicSuggestion] = field(default_factory=list)  # picked by the unit


def figure(session: Session, unit: Unit, period: Period) -> PublishedFigure:
    s = period_results(session, unit, period, with_profile=False).scores
    return PublishedFigure(
        period_id=period.id, period=period.name,
        period_range=date_range_id(period.start_date, period.end_date),
        respondents=integer_id(s.respondents),
        ikm=number_id(s.ikm) if s.has_data else "–",
        ikm_value=float(round(s.ikm, 2)) if s.ikm is not None else None,
        grade=s.grade or "–", kinerja=s.kinerja or "–",
    )


def public_unit(session: Session, unit: Unit) -> Optional[PublicUnit]:
    """The unit's published results, or None when nothing of it is published."""
    periods = published_periods(session, unit)
    if not periods:
        return None
    trend = [figure(session, unit, p) for p in reversed(periods[:TREND_PERIODS])]
    return PublicUnit(
        code=unit.code, name=unit.name, latest=trend[-1], trend=trend,
        archive=[{"period_id": p.id, "period": p.name, "period_range": date_range_id(p.start_date, p.end_date)}
                 for p in periods],
        items=said_done_items(session, unit),
        suggestions=public_suggestions(session, unit),
    )


@dataclass
class PublicOverview:
    units: list[PublicUnit]
    items: list[SaidDoneItem]  # every unit's, most recently done first


def public_overview(session: Session) -> PublicOverview:
    """Every publishing unit, by name, and all their realized follow-up actions."""
    units = [pu for pu in (public_unit(session, u) for u in publishing_units(session)) if pu is not None]
    return PublicOverview(units, said_done_items(session))
