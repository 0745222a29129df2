"""Assemble a period's results from the database: one GROUP BY per figure.

The SQL gives counts and sums; skm.scoring turns them into NRR and IKM exactly.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skm.models import CHANNELS, Answer, Element, Period, PeriodUnit, Questionnaire, Response, Service, Unit
from skm.scoring.ikm import (
    Breakdown,
    ElementTally,
    Scores,
    age_band_index,
    age_band_labels,
    breakdown,
    elements_by_kinerja,
    highest_elements,
    lowest_elements,
    score,
)
from skm.scoring.sample_size import sample_status
from skm.survey import profile as P


@dataclass(frozen=True)
class Scope:
    """Which responses count: a unit's date range, optionally one service."""

    unit_id: int
    start: dt.date
    end: dt.date
    service_id: Optional[int] = None
    include_excluded: bool = False
    # Issue 15: one channel only ("kiosk", "online", "paper", "import"), and/or only
    # responses made with a one-time ticket ("terverifikasi").
    channel: Optional[str] = None
    verified_only: bool = False


@dataclass
class Results:
    scope: Scope
    scores: Scores
    profile: dict[str, Breakdown] = field(default_factory=dict)
    versions: list[int] = field(default_factory=list)
    excluded_count: int = 0
    flagged_count: int = 0
    quarantined_count: int = 0  # flagged and waiting for review: excluded until accepted
    sample: Optional[dict] = None

    @property
    def respondents(self) -> int:
        return self.scores.respondents

    @property
    def by_kinerja(self):
        return elements_by_kinerja(self.scores.elements)

    def lowest(self, n: int = 3):
        """The n lowest elements, every element tied at the cut-off included."""
        return lowest_elements(self.scores.elements, n)

    def highest(self, n: int = 1):
        return highest_elements(self.scores.elements, n)


def _response_filter(scope: Scope, excluded_too: bool | None = None):
    include = scope.include_excluded if excluded_too is None else excluded_too
    conds = [
        Response.unit_id == scope.unit_id,
        Response.survey_date >= scope.start,
        Response.survey_date <= scope.end,
    ]
    if scope.service_id is not None:
        conds.append(Response.service_id == scope.service_id)
    if not include:
        conds.append(Response.excluded.is_(False))
    if scope.channel is not None:
        conds.append(Response.channel == scope.channel)
    if scope.verified_only:
        conds.append(Response.ticket_id.is_not(None))
    return conds


def channel_counts(session: Session, scope: Scope) -> dict[str, int]:
    """Counted responses per channel; every channel is a key (0 when none)."""
    counts = {channel: 0 for channel in CHANNELS}
    rows = session.execute(
        select(Response.channel, func.count()).where(*_response_filter(scope)).group_by(Response.channel)
    ).all()
    for channel, n in rows:
        counts[channel] = int(n)
    return counts


def parse_channel_filter(channel: Optional[str], verified: Optional[str]) -> tuple[Optional[str], bool, Optional[str]]:
    """A channel filter as typed in a query string (?media=online&terverifikasi=1):
    (channel or None, verified only, error message or None). A bad value filters nothing."""
    errors = []
    chosen = (channel or "").strip().lower() or None
    if chosen is not None and chosen not in CHANNELS:
        errors.append(f"Media “{(channel or '')[:40]}” tidak dikenal (pilihan: {', '.join(CHANNELS)}); semua media ditampilkan.")
        chosen = None
    flag = (verified or "").strip().lower()
    if flag not in ("", "0", "1"):
        errors.append("Filter terverifikasi hanya boleh 1 (ya) atau 0 (tidak); semua responden ditampilkan.")
        flag = ""
    return chosen, flag == "1", " ".join(errors) or None


def element_tallies(session: Session, scope: Scope) -> list[ElementTally]:
    """Count and sum of ratings per element code, over every questionnaire version."""
    element_ids = session.scalars(
        select(Element.id).join(Questionnaire).where(Questionnaire.unit_id == scope.unit_id)
    ).all()
    # Equality on (unit or service, excluded) and IN on element_id let both databases
    # seek each element's date range in the covering index.
    conds = [
        Answer.element_id.in_(element_ids),
        Answer.survey_date >= scope.start,
        Answer.survey_date <= scope.end,
    ]
    if scope.service_id is not None:
        conds.append(Answer.service_id == scope.service_id)
    else:
        conds.append(Answer.unit_id == scope.unit_id)
    if not scope.include_excluded:
        conds.append(Answer.excluded.is_(False))
    if scope.channel is not None or scope.verified_only:
        conds.append(Answer.response_id.in_(select(Response.id).where(*_response_filter(scope))))
    rows = session.execute(
        select(Answer.element_id, func.count(), func.sum(Answer.rating))
        .where(*conds)
        .group_by(Answer.element_id)
    ).all()
    if not rows:
        return []
    elements = {
        e.id: e
        for e in session.scalars(
            select(Element).join(Questionnaire).where(Element.id.in_([r[0] for r in rows]))
        )
    }
    # The same code in several versions is one element; its newest wording names it.
    merged: dict[str, list] = {}
    for element_id, count, total in rows:
        e = elements[element_id]
        key = e.code
        version = e.questionnaire.version
        if key not in merged:
            merged[key] = [e, version, 0, 0]
        entry = merged[key]
        if version > entry[1]:
            entry[0], entry[1] = e, version
        entry[2] += int(count)
        entry[3] += int(total)
    tallies = [
        ElementTally(code, e.name, count, total, position=e.position, question=e.question)
        for code, (e, _v, count, total) in merged.items()
    ]
    return sorted(tallies, key=lambda t: (t.position, t.code))


@dataclass
class ResponseGroups:
    """Response counts by every profile field at once: one scan of the period's rows."""

    rows: list[tuple]  # (excluded, flagged, questionnaire_id, service_id, gender, education, occupation, age, n)

    def counted(self, include_excluded: bool):
        return [r for r in self.rows if include_excluded or not r[0]]

    def total(self, include_excluded: bool = False) -> int:
        return sum(r[-1] for r in self.counted(include_excluded))

    def by(self, index: int, include_excluded: bool = False) -> dict:
        out: dict = {}
        for r in self.counted(include_excluded):
            out[r[index]] = out.get(r[index], 0) + r[-1]
        return out


def response_groups(session: Session, scope: Scope) -> ResponseGroups:
    columns = (Response.excluded, Response.flagged, Response.questionnaire_id, Response.service_id,
               Response.gender, Response.education, Response.occupation, Response.age)
    rows = session.execute(
        select(*columns, func.count()).where(*_response_filter(scope, excluded_too=True)).group_by(*columns)
    ).all()
    return ResponseGroups([tuple(r) for r in rows])


def profile_breakdowns(session: Session, scope: Scope, unit: Unit,
                       groups: Optional[ResponseGroups] = None) -> dict[str, Breakdown]:
    groups = groups or response_groups(session, scope)
    include = scope.include_excluded
    gender = groups.by(4, include)
    education = groups.by(5, include)
    occupation = groups.by(6, include)
    ages = groups.by(7, include)
    service_counts = groups.by(3, include)

    bounds = unit.age_band_bounds
    band_labels = age_band_labels(bounds)
    band_counts = [0] * len(bounds)
    unknown_age = 0
    for age, count in ages.items():
        index = None if age is None else age_band_index(age, bounds)
        if index is None:
            unknown_age += count
        else:
            band_counts[index] += count

    def with_unknown(rows, unknown):
        return rows + ([("Tidak diisi", unknown)] if unknown else [])

    services = {s.id: s.name for s in session.scalars(select(Service).where(Service.unit_id == unit.id))}
    return {
        "gender": breakdown("Jenis kelamin", with_unknown(
            [(label, gender.get(code, 0)) for code, label in P.GENDERS.items()], gender.get(None, 0))),
        "age": breakdown("Usia", with_unknown(list(zip(band_labels, band_counts)), unknown_age)),
        "education": breakdown("Pendidikan", with_unknown(
            [(label, education.get(code, 0)) for code, label in P.EDUCATION.items()], education.get(None, 0))),
        "occupation": breakdown("Pekerjaan", with_unknown(
            [(label, occupation.get(code, 0)) for code, label in P.OCCUPATION.items()], occupation.get(None, 0))),
        "service": breakdown("Jenis layanan", with_unknown(
            sorted(((services[sid], c) for sid, c in service_counts.items() if sid is not None),
                   key=lambda x: x[0]),
            service_counts.get(None, 0))),
    }


def period_population(session: Session, period: Period, unit_id: int) -> Optional[int]:
    row = session.scalar(
        select(PeriodUnit).where(PeriodUnit.period_id == period.id, PeriodUnit.unit_id == unit_id)
    )
    if row is not None and row.population:
        return row.population
    return period.population


def compute_results(
    session: Session, scope: Scope, unit: Unit, population: Optional[int] = None, with_profile: bool = True
) -> Results:
    """Everything a period's results show, in two aggregate queries."""
    groups = response_groups(session, scope)
    respondents = groups.total(scope.include_excluded)
    scores = score(element_tallies(session, scope), respondents) if respondents else score([], 0)
    version_of = {}
    questionnaire_ids = [q for q in groups.by(2, scope.include_excluded) if q is not None]
    if questionnaire_ids:
        version_of = dict(session.execute(
            select(Questionnaire.id, Questionnaire.version).where(Questionnaire.id.in_(questionnaire_ids))).all())
    flagged_count = sum(r[-1] for r in groups.rows if r[1])
    quarantined_count = 0
    if flagged_count:  # a small extra query, only for periods with flagged responses
        quarantined_count = session.scalar(select(func.count(Response.id)).where(
            *_response_filter(scope, excluded_too=True), Response.flagged.is_(True),
            Response.quarantined.is_(True))) or 0
    return Results(
        scope=scope,
        scores=scores,
        profile=profile_breakdowns(session, scope, unit, groups) if with_profile else {},
        versions=sorted(version_of.values()),
        excluded_count=sum(r[-1] for r in groups.rows if r[0]),
        flagged_count=flagged_count,
        quarantined_count=quarantined_count,
        sample=sample_status(population, respondents),
    )


def period_results(
    session: Session, unit: Unit, period: Period, service_id: Optional[int] = None,
    channel: Optional[str] = None, verified_only: bool = False, **kwargs
) -> Results:
    scope = Scope(unit.id, period.start_date, period.end_date, service_id, channel=channel, verified_only=verified_only)
    # The sample-size check is the unit's whole period; a part of it (a service, a channel) has none.
    whole = service_id is None and channel is None and not verified_only
    population = period_population(session, period, unit.id) if whole else None
    return compute_results(session, scope, unit, population=population, **kwargs)


@dataclass
class SheetRow:
    number: int
    response_id: int
    survey_date: dt.date
    ratings: dict[str, Optional[int]]


def data_sheet_rows(
    session: Session, scope: Scope, offset: int = 0, limit: Optional[int] = None
) -> Iterator[SheetRow]:
    """One row per respondent with the rating of every element (by code), in date order."""
    ids_q = (
        select(Response.id, Response.survey_date)
        .where(*_response_filter(scope))
        .order_by(Response.survey_date, Response.id)
        .offset(offset)
    )
    if limit is not None:
        ids_q = ids_q.limit(limit)
    heads = session.execute(ids_q).all()
    if not heads:
        return
    ratings: dict[int, dict[str, Optional[int]]] = {rid: {} for rid, _ in heads}
    # Fetch answers in chunks so a large sheet does not build one huge IN list.
    ids = [rid for rid, _ in heads]
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for rid, code, rating in session.execute(
            select(Answer.response_id, Element.code, Answer.rating)
            .join(Element, Element.id == Answer.element_id)
            .where(Answer.response_id.in_(chunk))
        ):
            ratings[rid][code] = rating
    for n, (rid, day) in enumerate(heads, start=offset + 1):
        yield SheetRow(n, rid, day, ratings[rid])


def find_period(session: Session, name: str) -> Optional[Period]:
    return session.scalar(select(Period).where(func.lower(Period.name) == name.strip().lower()))
