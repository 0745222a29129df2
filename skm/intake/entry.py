"""Fast entry of paper questionnaires by staff. Flushes, never commits; no Flask here.

Decisions:
- Every element needs a keystroke: 1–4 is the rating, 0 records "not answered" on the paper
  form (an unanswered element is not a zero in the scores). An empty field is an error, so a
  skipped field is never mistaken for an unanswered question.
- Undo removes only the last form the same user saved on this unit, and only within
  UNDO_MINUTES of saving it; the view keeps its id in the session, so undo is one level deep.
- "Today" for the running count is the unit's calendar day in its own time zone.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skm.core.clock import unit_day_start_utc, unit_today, utcnow
from skm.core.errors import DomainError
from skm.intake.tables import parse_date
from skm.models import Response, Unit
from skm.survey import fields
from skm.survey.fields import FieldError
from skm.survey.period_admin import closed_period_for, refuse_if_closed
from skm.survey.profile import TIME_SLOTS
from skm.survey.responses import ResponseData, record_response

UNDO_MINUTES = 15
NOT_ANSWERED = "0"


@dataclass
class EntryResult:
    data: Optional[ResponseData]
    errors: dict[str, str] = field(default_factory=dict)  # field name -> message

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_entry(session: Session, unit: Unit, form: Mapping[str, str], now: Optional[dt.datetime] = None) -> EntryResult:
    """Turn the submitted fields into ResponseData, or field errors in Bahasa Indonesia."""
    questionnaire = unit.current_questionnaire
    assert questionnaire is not None, "every unit gets a questionnaire when it is created"
    errors: dict[str, str] = {}
    data = ResponseData(survey_date=unit_today(unit, now), ratings={})

    raw_date = (form.get("tanggal") or "").strip()
    try:
        data.survey_date = parse_date(raw_date)
    except ValueError as exc:
        errors["tanggal"] = f"Tanggal: {exc}."
    else:
        if data.survey_date > unit_today(unit, now):
            errors["tanggal"] = "Tanggal survei tidak boleh di masa depan."
        elif data.survey_date.year < 2000:
            errors["tanggal"] = "Tanggal survei terlalu lama."
        else:
            closed = closed_period_for(session, unit.id, data.survey_date)
            if closed is not None:
                errors["tanggal"] = f"Periode {closed.name} sudah ditutup; formulir tidak dapat ditambahkan."

    slot = (form.get("jam") or "").strip()
    if slot:
        if slot in ("1", "2"):
            data.time_slot = TIME_SLOTS[int(slot) - 1]
        elif slot.replace(" ", "") in TIME_SLOTS:
            data.time_slot = slot.replace(" ", "")
        else:
            errors["jam"] = "Jam: ketik 1 (08.00–12.00) atau 2 (13.00–17.00), atau kosongkan."

    def check(name, validator, *args):
        try:
            return validator(*args)
        except FieldError as exc:
            errors[name] = exc.message
            return None

    data.service_id = check("layanan", fields.clean_service, unit, form.get("layanan"))
    data.gender = check("jenis_kelamin", fields.clean_gender, form.get("jenis_kelamin"))
    data.age = check("usia", fields.clean_age, form.get("usia"))
    data.education = check("pendidikan", fields.clean_education, form.get("pendidikan"))
    data.occupation, data.occupation_other = check(
        "pekerjaan", fields.clean_occupation, form.get("pekerjaan")) or (None, None)
    data.suggestion = check("saran", fields.clean_suggestion, form.get("saran"))

    for e in questionnaire.elements:
        value = fields.clean_line(form.get(e.code))
        if value == "":
            errors[e.code] = f"{e.code} belum diisi (ketik 1–4, atau 0 bila tidak dijawab)."
        elif value == NOT_ANSWERED:
            data.ratings[e.code] = None
        else:
            try:
                data.ratings[e.code] = fields.clean_rating(e.code, value)
            except FieldError as exc:
                errors[e.code] = f"{e.code}: {exc.message} Ketik 0 bila tidak dijawab."
    if not errors:
        check(questionnaire.elements[0].code, fields.clean_ratings, [e.code for e in questionnaire.elements],
              data.ratings)
    return EntryResult(data if not errors else None, errors)


def save_paper_form(session: Session, unit: Unit, data: ResponseData, user_id: int) -> Response:
    return record_response(session, unit, data, "paper", created_by_id=user_id)


def forms_today(session: Session, unit: Unit, user_id: int, now: Optional[dt.datetime] = None) -> int:
    """Paper forms this user saved on this unit since midnight in the unit's time zone."""
    start = unit_day_start_utc(unit, unit_today(unit, now))
    return session.scalar(
        select(func.count(Response.id)).where(
            Response.unit_id == unit.id,
            Response.created_by_id == user_id,
            Response.channel == "paper",
            Response.submitted_at >= start,
        )
    ) or 0


def undoable(session: Session, unit: Unit, user_id: int, response_id: Optional[int],
             now: Optional[dt.datetime] = None) -> Optional[Response]:
    """The response undo would remove, or None when undo is not (or no longer) allowed."""
    if not response_id:
        return None
    response = session.get(Response, response_id)
    now = now or utcnow()
    if (response is None or response.unit_id != unit.id or response.created_by_id != user_id
            or response.channel != "paper"
            or now - response.submitted_at > dt.timedelta(minutes=UNDO_MINUTES)):
        return None
    return response


def undo_last_form(session: Session, unit: Unit, user_id: int, response_id: Optional[int],
                   now: Optional[dt.datetime] = None) -> Response:
    response = undoable(session, unit, user_id, response_id, now)
    if response is None:
        raise DomainError(
            f"Tidak ada formulir yang dapat dibatalkan: hanya formulir terakhir Anda, "
            f"paling lama {UNDO_MINUTES} menit setelah disimpan."
        )
    refuse_if_closed(session, unit.id, response.survey_date,
                     "Periode {period} sudah ditutup; formulir tidak dapat dibatalkan.")
    session.delete(response)
    session.flush()
    return response
