"""Storing responses: every channel goes through record_response. Flushes, never commits."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from skm.core.clock import utcnow
from skm.core.errors import DomainError
from skm.models import Answer, Questionnaire, Response, Unit
from skm.survey.profile import EDUCATION, GENDERS, OCCUPATION, TIME_SLOTS


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


def validate_response(unit: Unit, questionnaire: Questionnaire, data: ResponseData,
                      require_all: bool = False) -> list[tuple[str, str]]:
    """Problems as (field, message in Bahasa Indonesia); empty when the data is valid."""
    errors: list[tuple[str, str]] = []
    codes = {e.code for e in questionnaire.elements}
    for code, rating in data.ratings.items():
        if code not in codes:
            errors.append((code, f"unsur {code} tidak ada di kuesioner"))
        elif rating is not None and (not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 4):
            errors.append((code, "nilai harus 1, 2, 3 atau 4"))
    if require_all:
        for e in questionnaire.elements:
            if data.ratings.get(e.code) is None:
                errors.append((e.code, f"unsur {e.code} belum dijawab"))
    if not any(r is not None for r in data.ratings.values()):
        errors.append(("jawaban", "paling sedikit satu unsur harus dinilai"))
    if data.service_id is not None and data.service_id not in {s.id for s in unit.services}:
        errors.append(("layanan", "layanan bukan milik unit ini"))
    if data.gender is not None and data.gender not in GENDERS:
        errors.append(("jenis_kelamin", "isi L atau P"))
    if data.age is not None and not 10 <= data.age <= 120:
        errors.append(("usia", "usia harus antara 10 dan 120 tahun"))
    if data.education is not None and data.education not in EDUCATION:
        errors.append(("pendidikan", "pendidikan tidak dikenal"))
    if data.occupation is not None and data.occupation not in OCCUPATION:
        errors.append(("pekerjaan", "pekerjaan tidak dikenal"))
    if data.time_slot is not None and data.time_slot not in TIME_SLOTS:
        errors.append(("jam", "jam layanan tidak dikenal"))
    if data.suggestion is not None and len(data.suggestion) > 5000:
        errors.append(("saran", "saran terlalu panjang (maksimal 5.000 karakter)"))
    if data.occupation_other is not None and len(data.occupation_other) > 200:
        errors.append(("pekerjaan", "keterangan pekerjaan terlalu panjang"))
    return errors


def record_response(session: Session, unit: Unit, data: ResponseData, channel: str,
                    questionnaire: Optional[Questionnaire] = None, require_all: bool = False,
                    **columns) -> Response:
    """Validate and store one response with all its answers (flush only)."""
    questionnaire = questionnaire or unit.current_questionnaire
    assert questionnaire is not None, "every unit gets a questionnaire when it is created"
    errors = validate_response(unit, questionnaire, data, require_all=require_all)
    if errors:
        raise DomainError("; ".join(f"{f}: {m}" for f, m in errors))
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
        suggestion=(data.suggestion or "").strip() or None,
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


def set_excluded(session: Session, response_ids: list[int], excluded: bool) -> int:
    """Exclude (or include again) responses from scores, keeping the data."""
    if not response_ids:
        return 0
    session.execute(update(Response).where(Response.id.in_(response_ids)).values(excluded=excluded))
    session.execute(update(Answer).where(Answer.response_id.in_(response_ids)).values(excluded=excluded))
    session.flush()
    return len(response_ids)


def delete_response(session: Session, response: Response) -> None:
    session.delete(response)
    session.flush()


def responses_for_token(session: Session, token: str) -> Optional[Response]:
    return session.scalar(select(Response).where(Response.token == token))
