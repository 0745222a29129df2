"""Storing responses: every channel goes through record_response. Flushes, never commits."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Optional

from sqlalchemy import update
from sqlalchemy.orm import Session

from skm.core.clock import utcnow
from skm.core.errors import DomainError
from skm.models import Answer, Questionnaire, Response, Unit
from skm.scoring.rollup import apply_response_delta
from skm.survey import fields
from skm.survey.fields import FieldError
from skm.survey.period_admin import PeriodClosed, closed_period_of_responses, refuse_if_closed
from skm.survey.profile import TIME_SLOTS


@dataclass
class ResponseData:
    """A respondent's answers as plain data, before validation."""

    survey_date: dt.date
    ratings: dict[str, Optional[int]]  # element code -> 1..4 or None (unanswered)
    service_id: Optional[int] = None
    survey_time: Optional[dt.time] = None
    time_slot: Optional[str] = None
    gender: Optional[str] = None
    age: Optional[int] = None
    education: Optional[str] = None
    occupation: Optional[str] = None
    occupation_other: Optional[str] = None
    suggestion: Optional[str] = None
    extra: dict = field(default_factory=dict)  # token, device_id, duration_seconds, flags


def clean_response(unit: Unit, questionnaire: Questionnaire, data: ResponseData,
                   require_all: bool = False) -> tuple[ResponseData, list[tuple[str, str]]]:
    """The data with every respondent field through its validator (skm.survey.fields), and
    the problems as (field, message in Bahasa Indonesia); no problems means valid."""
    errors: list[tuple[str, str]] = []
    clean = replace(data, ratings=dict(data.ratings))

    def check(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except FieldError as exc:
            errors.append((exc.field, exc.message))
            return None

    clean.ratings = check(fields.clean_ratings, [e.code for e in questionnaire.elements], data.ratings,
                          require_all=require_all) or dict(data.ratings)
    clean.service_id = check(fields.clean_service, unit, data.service_id, active_only=False)
    clean.gender = check(fields.clean_gender, data.gender)
    clean.age = check(fields.clean_age, data.age)
    clean.education = check(fields.clean_education, data.education)
    clean.occupation, clean.occupation_other = check(
        fields.clean_occupation, data.occupation, data.occupation_other or "") or (None, None)
    clean.suggestion = check(fields.clean_suggestion, data.suggestion)
    if data.time_slot is not None and data.time_slot not in TIME_SLOTS:
        errors.append(("jam", "Jam layanan harus 08.00-12.00 atau 13.00-17.00."))
    return clean, errors


def validate_response(unit: Unit, questionnaire: Questionnaire, data: ResponseData,
                      require_all: bool = False) -> list[tuple[str, str]]:
    """Problems as (field, message in Bahasa Indonesia); empty when the data is valid."""
    return clean_response(unit, questionnaire, data, require_all)[1]


def record_response(session: Session, unit: Unit, data: ResponseData, channel: str,
                    questionnaire: Optional[Questionnaire] = None, require_all: bool = False,
                    **columns) -> Response:
    """Validate and store one response with all its answers (flush only). Refused
    (DomainError, nothing stored) when a field is invalid or the survey date falls in a
    period closed for the unit (PeriodClosed)."""
    questionnaire = questionnaire or unit.current_questionnaire
    assert questionnaire is not None, "every unit gets a questionnaire when it is created"
    data, errors = clean_response(unit, questionnaire, data, require_all=require_all)
    if errors:
        raise DomainError("; ".join(f"{f}: {m}" for f, m in errors))
    refuse_if_closed(session, unit.id, data.survey_date)
    response = Response(
        unit_id=unit.id,
        service_id=data.service_id,
        questionnaire_id=questionnaire.id,
        channel=channel,
        submitted_at=columns.pop("submitted_at", None) or utcnow(),
        survey_date=data.survey_date,
        survey_time=data.survey_time,
        time_slot=data.time_slot,
        gender=data.gender,
        age=data.age,
        education=data.education,
        occupation=data.occupation,
        occupation_other=(data.occupation_other or None) if data.occupation == "LAINNYA" else None,
        suggestion=data.suggestion,
        **columns,
    )
    by_code = {e.code: e for e in questionnaire.elements}
    for code, rating in data.ratings.items():
        if rating is None:
            continue  # unanswered is not a zero
        response.answers.append(
            Answer(
                element_id=by_code[code].id,
                rating=rating,
                unit_id=unit.id,
                service_id=data.service_id,
                survey_date=data.survey_date,
                excluded=bool(columns.get("excluded", False)),
            )
        )
    session.add(response)
    session.flush()
    return response


def refuse_closed_responses(session: Session, response_ids: list[int], message: str = "") -> None:
    """PeriodClosed when any of these responses lies in a period closed for its unit."""
    period = closed_period_of_responses(session, response_ids)
    if period is not None:
        raise PeriodClosed(period, message.format(period=period.name) if message else "")


def set_excluded(session: Session, response_ids: list[int], excluded: bool) -> int:
    """Exclude ("kecualikan") or count ("terima", include again) responses, keeping the data.

    Either decision ends a flagged response's quarantine (see Response.quarantined). Refused,
    with nothing changed, when any of them lies in a closed period."""
    if not response_ids:
        return 0
    refuse_closed_responses(
        session, response_ids,
        "Periode {period} sudah ditutup; jawaban di dalamnya tidak dapat dikecualikan atau dihitung kembali.")
    session.flush()
    # Bulk UPDATEs bypass the session's rollup listeners: move the rows by hand.
    apply_response_delta(session, response_ids, -1)
    session.execute(update(Response).where(Response.id.in_(response_ids))
                    .values(excluded=excluded, quarantined=False))
    session.execute(update(Answer).where(Answer.response_id.in_(response_ids)).values(excluded=excluded))
    apply_response_delta(session, response_ids, 1)
    session.flush()
    return len(response_ids)
