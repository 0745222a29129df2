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
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skm.core.clock import TIMEZONES, utcnow
from skm.core.errors import DomainError
from skm.intake.importer import closed_period_containing
from skm.intake.tables import parse_date
from skm.models import Response, Unit
from skm.survey.profile import TIME_SLOTS, parse_education, parse_gender, parse_occupation
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


def unit_today(unit: Unit, now: Optional[dt.datetime] = None) -> dt.date:
    now = now or utcnow()
    return now.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(TIMEZONES[unit.timezone])).date()


def _day_start_utc(unit: Unit, day: dt.date) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(TIMEZONES[unit.timezone]))
    return local.astimezone(dt.UTC).replace(tzinfo=None)


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
            closed = closed_period_containing(session, unit.id, data.survey_date)
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

    service_id = (form.get("layanan") or "").strip()
    if service_id:
        services = {str(s.id): s for s in unit.services if s.active}
        if service_id not in services:
            errors["layanan"] = "Pilih layanan dari daftar."
        else:
            data.service_id = services[service_id].id

    gender = (form.get("jenis_kelamin") or "").strip()
    if gender:
        data.gender = parse_gender(gender)
        if data.gender is None:
            errors["jenis_kelamin"] = "Jenis kelamin: ketik L atau P."

    age = (form.get("usia") or "").strip()
    if age:
        if not re.fullmatch(r"\d{1,3}", age) or not 10 <= int(age) <= 120:
            errors["usia"] = "Usia harus angka 10–120."
        else:
            data.age = int(age)

    education = (form.get("pendidikan") or "").strip()
    if education:
        data.education = parse_education(education)
        if data.education is None:
            errors["pendidikan"] = "Pendidikan: ketik TS, SD, SMP, SMA, DIII, S1, S2 atau S3."

    occupation = (form.get("pekerjaan") or "").strip()
    if occupation:
        if len(occupation) > 200:
            errors["pekerjaan"] = "Pekerjaan terlalu panjang."
        else:
            data.occupation, data.occupation_other = parse_occupation(occupation)

    suggestion = (form.get("saran") or "").strip()
    if len(suggestion) > 5000:
        errors["saran"] = "Saran terlalu panjang (maksimal 5.000 karakter)."
    data.suggestion = suggestion or None

    for e in questionnaire.elements:
        value = (form.get(e.code) or "").strip()
        if value == "":
            errors[e.code] = f"{e.code} belum diisi (ketik 1–4, atau 0 bila tidak dijawab)."
        elif value == NOT_ANSWERED:
            data.ratings[e.code] = None
        elif value in ("1", "2", "3", "4"):
            data.ratings[e.code] = int(value)
        else:
            errors[e.code] = f"{e.code}: nilai '{value[:5]}' tidak boleh; hanya 1, 2, 3 atau 4 (0 = tidak dijawab)."
    if not errors and not any(r is not None for r in data.ratings.values()):
        errors[questionnaire.elements[0].code] = "Paling sedikit satu unsur harus dinilai."
    return EntryResult(data if not errors else None, errors)


def save_paper_form(session: Session, unit: Unit, data: ResponseData, user_id: int) -> Response:
    return record_response(session, unit, data, "paper", created_by_id=user_id)


def forms_today(session: Session, unit: Unit, user_id: int, now: Optional[dt.datetime] = None) -> int:
    """Paper forms this user saved on this unit since midnight in the unit's time zone."""
    start = _day_start_utc(unit, unit_today(unit, now))
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
    if closed_period_containing(session, unit.id, response.survey_date) is not None:
        raise DomainError("Periode formulir ini sudah ditutup; formulir tidak dapat dibatalkan.")
    session.delete(response)
    session.flush()
    return response
