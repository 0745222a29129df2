"""Assemble a period's results from the database: one GROUP BY per figure.

The figures come from the daily rollups (skm.models.rollup, kept by skm.scoring.rollup), so
a period costs O(days), not O(responses); the SQL gives counts and sums and skm.scoring
turns them into NRR and IKM exactly.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skm.models import (
    CHANNELS,
    Answer,
    Element,
    Period,
    PeriodUnit,
    Questionnaire,
    Response,
    RollupAnswerDay,
    RollupResponseDay,
    Service,
    Unit,
)
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


def _scope_conditions(scope: Scope, include: bool, unit_id, day, service, excluded, channel, verified) -> list:
    """What a Scope counts, over the columns of whichever table holds the rows (raw
    responses or a daily rollup): one rule for both."""
    conds = [unit_id == scope.unit_id, day >= scope.start, day <= scope.end]
    if scope.service_id is not None:
        conds.append(service == scope.service_id)
    if not include:
        conds.append(excluded.is_(False))
    if scope.channel is not None:
        conds.append(channel == scope.channel)
    if scope.verified_only:
        conds.append(verified)
    return conds


def _response_filter(scope: Scope, excluded_too: bool | None = None):
    include = scope.include_excluded if excluded_too is None else excluded_too
    return _scope_conditions(scope, include, Response.unit_id, Response.survey_date, Response.service_id,
                             Response.excluded, Response.channel, Response.ticket_id.is_not(None))


def _rollup_filter(table, scope: Scope, excluded_too: bool | None = None):
    """_response_filter for a rollup table (RollupAnswerDay or RollupResponseDay)."""
    include = scope.include_excluded if excluded_too is None else excluded_too
    return _scope_conditions(scope, include, table.unit_id, table.day, table.service_key,
                             table.excluded, table.channel, table.verified.is_(True))


def channel_counts(session: Session, scope: Scope) -> dict[str, int]:
    """Counted responses per channel; every channel is a key (0 when none)."""
    counts = {channel: 0 for channel in CHANNELS}
    R = RollupResponseDay
    rows = session.execute(
        select(R.channel, func.sum(R.n)).where(*_rollup_filter(R, scope), R.field == "questionnaire")
        .group_by(R.channel)
    ).all()
    for channel, n in rows:
        counts[channel] = int(n or 0)
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
    R = RollupAnswerDay
    sums = (
        select(R.element_id.label("element_id"), func.sum(R.n).label("n"), func.sum(R.total).label("total"))
        .where(*_rollup_filter(R, scope))
        .group_by(R.element_id)
        .having(func.sum(R.n) != 0)
        .subquery()
    )
    rows = session.execute(
        select(sums.c.n, sums.c.total, Element.code, Element.name, Element.position, Element.question,
               Questionnaire.version)
        .join(Element, Element.id == sums.c.element_id)
        .join(Questionnaire, Questionnaire.id == Element.questionnaire_id)
    ).all()
    if not rows:
        return []
    # The same code in several versions is one element; its newest wording names it.
    merged: dict[str, list] = {}
    for count, total, code, name, position, question, version in rows:
        if code not in merged:
            merged[code] = [(name, position, question), version, 0, 0]
        entry = merged[code]
        if version > entry[1]:
            entry[0], entry[1] = (name, position, question), version
        entry[2] += int(count)
        entry[3] += int(total)
    tallies = [
        ElementTally(code, name, count, total, position=position, question=question)
        for code, ((name, position, question), _v, count, total) in merged.items()
    ]
    return sorted(tallies, key=lambda t: (t.position, t.code))


@dataclass
class ResponseCounts:
    """Respondents by every profile field at once, from the daily rollup."""

    rows: list[tuple]  # (excluded, service_key, field, value, n)

    def by(self, field_name: str, include_excluded: bool = False, per_service: bool = False) -> dict:
        """value (None when not given) -> respondents; by service id instead when per_service."""
        out: dict = {}
        for excluded, service_key, name, value, n in self.rows:
            if name != field_name or (excluded and not include_excluded):
                continue
            key = (service_key or None) if per_service else (value or None)
            out[key] = out.get(key, 0) + n
        return {k: v for k, v in out.items() if v}

    def total(self, include_excluded: bool = False) -> int:
        return sum(self.by("questionnaire", include_excluded).values())


def response_counts(session: Session, scope: Scope, fields: Optional[tuple[str, ...]] = None) -> ResponseCounts:
    """Excluded rows too; ResponseCounts.by leaves them out unless asked. `fields`: only these
    response fields (default: all, for the profile breakdowns)."""
    R = RollupResponseDay
    columns = (R.excluded, R.service_key, R.field, R.value)
    conds = _rollup_filter(R, scope, excluded_too=True)
    if fields is not None:
        conds.append(R.field.in_(fields))
    rows = session.execute(
        select(*columns, func.sum(R.n)).where(*conds).group_by(*columns).having(func.sum(R.n) != 0)
    ).all()
    return ResponseCounts([(bool(e), int(sk), f, v, int(n)) for e, sk, f, v, n in rows])


def profile_breakdowns(session: Session, scope: Scope, unit: Unit,
                       counts: Optional[ResponseCounts] = None) -> dict[str, Breakdown]:
    counts = counts or response_counts(session, scope)
    include = scope.include_excluded
    gender = counts.by("gender", include)
    education = counts.by("education", include)
    occupation = counts.by("occupation", include)
    ages = counts.by("age", include)
    service_counts = counts.by("questionnaire", include, per_service=True)

    bounds = unit.age_band_bounds
    band_labels = age_band_labels(bounds)
    band_counts = [0] * len(bounds)
    unknown_age = 0
    for age, count in ages.items():
        index = None if age is None else age_band_index(int(age), bounds)
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
    """Everything a period's results show, in two aggregate queries over the daily rollups."""
    counts = response_counts(session, scope, None if with_profile else ("questionnaire", "flag"))
    respondents = counts.total(scope.include_excluded)
    scores = score(element_tallies(session, scope), respondents) if respondents else score([], 0)
    version_of = {}
    questionnaire_ids = [int(q) for q in counts.by("questionnaire", scope.include_excluded) if q is not None]
    if questionnaire_ids:
        version_of = dict(session.execute(
            select(Questionnaire.id, Questionnaire.version).where(Questionnaire.id.in_(questionnaire_ids))).all())
    flags = counts.by("flag", include_excluded=True)
    flagged_count = flags.get("10", 0) + flags.get("11", 0)
    quarantined_count = flags.get("11", 0)
    return Results(
        scope=scope,
        scores=scores,
        profile=profile_breakdowns(session, scope, unit, counts) if with_profile else {},
        versions=sorted(version_of.values()),
        excluded_count=counts.total(include_excluded=True) - counts.total(include_excluded=False),
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
