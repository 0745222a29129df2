"""The kiosk survey as plain functions: start, one step at a time, send exactly once.

The answers given so far are kept in the survey's row (KioskSurvey.answers), so any
app process can serve the next step. Functions flush, never commit.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from skm.core.clock import unit_now, utcnow
from skm.core.errors import DomainError
from skm.models import Device, KioskSurvey, Period, Questionnaire, Response, Service, Unit
from skm.survey.profile import EDUCATION, GENDERS, OCCUPATION, time_slot_for
from skm.survey.responses import ResponseData, record_response

MIN_AGE, MAX_AGE = 15, 99
MAX_SUGGESTION = 1000
MAX_OTHER = 100
PROFILE_STEPS = ("gender", "age", "education", "occupation")
# Many surveys from one tablet in a short time are stored but flagged (per device, never per IP).
DEVICE_MAX_PER_WINDOW = 6
DEVICE_WINDOW_SECONDS = 180
# A visitor needs well over 8 s for a survey: more starts than this a minute is a finger on the button.
DEVICE_STARTS_PER_MINUTE = 12


class StaleSurvey(DomainError):
    """The survey token is unknown, finished or abandoned: start again."""


@dataclass
class StepError(DomainError):
    step: str
    message: str

    def __str__(self) -> str:
        return self.message


def element_step(code: str) -> str:
    return f"el-{code}"


def survey_steps(unit: Unit, questionnaire: Questionnaire, service_bound: bool) -> list[str]:
    steps: list[str] = []
    if not service_bound and any(s.active for s in unit.services):
        steps.append("service")
    flags = {"gender": unit.ask_gender, "age": unit.ask_age, "education": unit.ask_education,
             "occupation": unit.ask_occupation}
    steps += [s for s in PROFILE_STEPS if flags[s]]
    steps += [element_step(e.code) for e in questionnaire.elements]
    steps.append("saran")
    return steps


def start_survey(session: Session, device: Device, now: Optional[dt.datetime] = None,
                 max_starts_per_minute: int = DEVICE_STARTS_PER_MINUTE) -> KioskSurvey:
    """A new survey with a fresh one-time token; the tablet's unfinished ones are abandoned.

    A tablet may start at most `max_starts_per_minute` surveys a minute (0: no limit). The
    limit is per device, counted in the database (shared by every worker), and applies only
    at the start, where a refusal loses no answer."""
    now = now or utcnow()
    if device.paused:
        raise DomainError("Kiosk sedang istirahat.")
    if max_starts_per_minute:
        recent = session.scalar(
            select(func.count(KioskSurvey.id)).where(
                KioskSurvey.device_id == device.id,
                KioskSurvey.started_at >= now - dt.timedelta(seconds=60))) or 0
        if recent >= max_starts_per_minute:
            raise DomainError("Terlalu banyak survei dimulai dari tablet ini. Tunggu sebentar, lalu sentuh lagi.")
    unit = session.get_one(Unit, device.unit_id)
    questionnaire = unit.current_questionnaire
    if questionnaire is None or not questionnaire.elements:
        raise DomainError("Kuesioner unit ini belum disiapkan.")
    abandon_open_surveys(session, device, now)
    service_id = device.service_id
    if service_id is not None and not session.get_one(Service, service_id).active:
        service_id = None
    survey = KioskSurvey(
        token=secrets.token_urlsafe(24),
        unit_id=unit.id,
        device_id=device.id,
        service_id=service_id,
        started_at=now,
        updated_at=now,
        survey_date=unit_now(unit, now).date(),
        status="open",
        answers={"q": questionnaire.id, "steps": survey_steps(unit, questionnaire, service_id is not None),
                 "values": {}},
    )
    session.add(survey)
    session.flush()
    return survey


def abandon_open_surveys(session: Session, device: Device, now: Optional[dt.datetime] = None) -> int:
    now = now or utcnow()
    result = cast(CursorResult, session.execute(  # an UPDATE statement gives a CursorResult
        update(KioskSurvey)
        .where(KioskSurvey.device_id == device.id, KioskSurvey.status == "open")
        .values(status="abandoned", answers={}, updated_at=now)
    ))
    session.flush()
    return result.rowcount or 0


def find_survey(session: Session, device: Device, token: str) -> KioskSurvey:
    """The tablet's own survey for this token (any state), or StaleSurvey."""
    survey = None
    if token and len(token) <= 64:
        survey = session.scalar(select(KioskSurvey).where(KioskSurvey.token == token))
    if survey is None or survey.device_id != device.id:
        raise StaleSurvey("Survei ini tidak dikenal. Silakan mulai lagi.")
    return survey


def open_survey(session: Session, device: Device, token: str) -> KioskSurvey:
    survey = find_survey(session, device, token)
    if survey.status != "open":
        raise StaleSurvey("Survei ini sudah berakhir. Silakan mulai lagi.")
    return survey


def abandon_survey(session: Session, survey: KioskSurvey, now: Optional[dt.datetime] = None) -> None:
    """Idle reset or staff restart: the unfinished answers are discarded (counted as abandoned)."""
    if survey.status == "open":
        survey.status = "abandoned"
        survey.answers = {}
        survey.updated_at = now or utcnow()
        session.flush()


def steps_of(survey: KioskSurvey) -> list[str]:
    return list(survey.answers.get("steps", []))


def values_of(survey: KioskSurvey) -> dict:
    return dict(survey.answers.get("values", {}))


def questionnaire_of(session: Session, survey: KioskSurvey) -> Questionnaire:
    return session.get_one(Questionnaire, survey.answers["q"])


def first_step(survey: KioskSurvey) -> str:
    return steps_of(survey)[0]


def previous_step(survey: KioskSurvey, step: str) -> Optional[str]:
    steps = steps_of(survey)
    if step not in steps:
        return None
    i = steps.index(step)
    return steps[i - 1] if i > 0 else None


def next_step(survey: KioskSurvey, step: str) -> Optional[str]:
    steps = steps_of(survey)
    i = steps.index(step)
    return steps[i + 1] if i + 1 < len(steps) else None


def _parse_step_value(session: Session, survey: KioskSurvey, step: str, form: dict):
    """The stored value for one step's form, or StepError with a message for the visitor."""
    raw = str(form.get("value") or "").strip()
    if step == "service":
        service = session.get(Service, int(raw)) if raw.isdigit() and len(raw) < 10 else None
        if service is None or service.unit_id != survey.unit_id or not service.active:
            raise StepError(step, "Pilih salah satu layanan yang tersedia.")
        return service.id
    if step == "gender":
        if raw not in GENDERS:
            raise StepError(step, "Pilih Laki-laki atau Perempuan.")
        return raw
    if step == "age":
        if not raw.isdigit() or len(raw) > 3 or not MIN_AGE <= int(raw) <= MAX_AGE:
            raise StepError(step, f"Usia harus antara {MIN_AGE} dan {MAX_AGE} tahun.")
        return int(raw)
    if step == "education":
        if raw not in EDUCATION:
            raise StepError(step, "Pilih salah satu tingkat pendidikan.")
        return raw
    if step == "occupation":
        if raw not in OCCUPATION:
            raise StepError(step, "Pilih salah satu pekerjaan.")
        other = " ".join(str(form.get("other") or "").split())
        if len(other) > MAX_OTHER:
            raise StepError(step, f"Keterangan pekerjaan terlalu panjang (maksimal {MAX_OTHER} karakter).")
        return [raw, other if raw == "LAINNYA" else ""]
    if step == "saran":
        text = "" if form.get("skip") else str(form.get("value") or "").strip()
        if len(text) > MAX_SUGGESTION:
            raise StepError(step, f"Saran terlalu panjang (maksimal {MAX_SUGGESTION} karakter).")
        return text
    # an element
    if not raw.isdigit() or not 1 <= int(raw) <= 4:
        raise StepError(step, "Pilih salah satu dari empat jawaban.")
    return int(raw)


def answer_step(session: Session, survey: KioskSurvey, step: str, form: dict,
                now: Optional[dt.datetime] = None) -> Optional[str]:
    """Validate and keep one step's answer; returns the next step (None after the last).
    Nothing is stored when the answer is invalid."""
    if survey.status != "open":
        raise StaleSurvey("Survei ini sudah berakhir. Silakan mulai lagi.")
    if step not in steps_of(survey):
        if step.startswith("el-"):
            raise StepError(first_step(survey), "Unsur tersebut tidak ada di kuesioner ini. Silakan ulangi.")
        raise StepError(first_step(survey), "Langkah tidak dikenal. Silakan ulangi.")
    value = _parse_step_value(session, survey, step, form)
    values = values_of(survey)
    values[step] = value
    # Reassign so the JSON column is written (in-place changes are not tracked).
    survey.answers = {**survey.answers, "values": values}
    survey.updated_at = now or utcnow()
    session.flush()
    if step == "occupation" and value[0] == "LAINNYA" and "other" not in form:
        return step  # show the short text field for "Lainnya"
    return next_step(survey, step)


def needs_reason(unit: Unit, survey: KioskSurvey) -> bool:
    """The unit asks for a suggestion when any answer was 1 or 2."""
    if not unit.ask_suggestion_on_low:
        return False
    values = values_of(survey)
    return any(values.get(s) in (1, 2) for s in steps_of(survey) if s.startswith("el-"))


def missing_step(survey: KioskSurvey) -> Optional[str]:
    values = values_of(survey)
    for step in steps_of(survey):
        if step != "saran" and step not in values:
            return step
    return None


def submit_survey(session: Session, device: Device, token: str, form: Optional[dict] = None,
                  now: Optional[dt.datetime] = None, max_per_window: int = DEVICE_MAX_PER_WINDOW,
                  window_seconds: int = DEVICE_WINDOW_SECONDS) -> Response:
    """Store the survey as one response with all its answers, once.

    A repeated submit of a finished survey returns the response already stored. Two
    submits racing each other: the unique Response.token makes the second flush fail
    (IntegrityError); the caller rolls back and calls acknowledged_response()."""
    now = now or utcnow()
    survey = find_survey(session, device, token)
    if survey.status == "finished":
        existing = acknowledged_response(session, device, token)
        if existing is not None:
            return existing
    if survey.status != "open":
        raise StaleSurvey("Survei ini sudah berakhir. Silakan mulai lagi.")
    if form is not None:
        answer_step(session, survey, "saran", form, now)
    missing = missing_step(survey)
    if missing:
        raise StepError(missing, "Pertanyaan ini belum dijawab.")
    unit = session.get_one(Unit, survey.unit_id)
    questionnaire = questionnaire_of(session, survey)
    values = values_of(survey)
    occupation = values.get("occupation") or [None, None]
    started_local = unit_now(unit, survey.started_at)
    ratings = {e.code: values.get(element_step(e.code)) for e in questionnaire.elements}
    data = ResponseData(
        survey_date=started_local.date(),
        survey_time=started_local.time().replace(microsecond=0),
        time_slot=time_slot_for(started_local.hour),
        ratings=ratings,
        service_id=values.get("service", survey.service_id),
        gender=values.get("gender"),
        age=values.get("age"),
        education=values.get("education"),
        occupation=occupation[0],
        occupation_other=occupation[1] or None,
        suggestion=values.get("saran") or None,
    )
    duration = max(0, int((now - survey.started_at).total_seconds()))
    reasons = []
    if duration < unit.min_survey_seconds:
        reasons.append(f"diisi terlalu cepat ({duration} detik)")
    recent = session.scalar(
        select(func.count()).select_from(Response).where(
            Response.device_id == device.id, Response.channel == "kiosk",
            Response.submitted_at >= now - dt.timedelta(seconds=window_seconds))
    ) or 0
    if recent >= max_per_window:
        reasons.append(f"{recent + 1} survei dari tablet ini dalam {window_seconds // 60} menit")
    response = record_response(
        session, unit, data, "kiosk", questionnaire=questionnaire, require_all=True,
        token=survey.token, device_id=device.id, duration_seconds=duration, submitted_at=now,
        flagged=bool(reasons), flag_reason="; ".join(reasons)[:200] or None,
    )
    survey.status = "finished"
    survey.finished_at = now
    survey.updated_at = now
    survey.response_id = response.id
    survey.answers = {"q": survey.answers.get("q"), "steps": steps_of(survey)}
    session.flush()
    return response


def acknowledged_response(session: Session, device: Device, token: str) -> Optional[Response]:
    """The response stored for this survey token by this tablet, if any."""
    if not token or len(token) > 64:
        return None
    response = session.scalar(select(Response).where(Response.token == token))
    if response is None or response.device_id != device.id:
        return None
    return response


def kiosk_completion(session: Session, unit_id: int, start: dt.date, end: dt.date) -> tuple[int, int]:
    """(completed, started) kiosk surveys of a unit whose local start date is in [start, end].
    Abandoned ones (idle reset, staff restart, a new survey over an unfinished one) count as
    started only; divide for the completion rate."""
    rows = dict(session.execute(
        select(KioskSurvey.status, func.count())
        .where(KioskSurvey.unit_id == unit_id, KioskSurvey.survey_date >= start, KioskSurvey.survey_date <= end)
        .group_by(KioskSurvey.status)
    ).all())
    return rows.get("finished", 0), sum(rows.values())


@dataclass
class PublicIkm:
    period_name: str
    ikm: Optional[Fraction]
    grade: Optional[str]
    kinerja: Optional[str]
    respondents: int


def public_ikm(session: Session, unit: Unit, now: Optional[dt.datetime] = None) -> Optional[PublicIkm]:
    """The IKM the welcome screen shows when the unit enables it: the shortest period that
    contains today, else the latest period that has ended; None without data."""
    if not unit.kiosk_show_ikm:
        return None
    from skm.scoring.results import period_results

    today = unit_now(unit, now).date()
    periods = session.scalars(select(Period).where(Period.start_date <= today)).all()
    current = sorted((p for p in periods if p.end_date >= today), key=lambda p: p.end_date - p.start_date)
    ended = sorted((p for p in periods if p.end_date < today), key=lambda p: p.end_date, reverse=True)
    for period in current + ended:
        results = period_results(session, unit, period, with_profile=False)
        if results.scores.respondents:
            s = results.scores
            return PublicIkm(period.name, s.ikm, s.grade, s.kinerja, s.respondents)
    return None
