"""The kiosk survey as plain functions: start, one step at a time, send exactly once.

The answers given so far are kept in the survey's row (KioskSurvey.answers), so any
app process can serve the next step. Functions flush, never commit.
"""
from __future__ import annotations

import datetime as dt
import secrets
import weakref
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skm.core.clock import unit_now, unit_today, utcnow
from skm.core.errors import DomainError
from skm.models import Answer, Device, Element, KioskSurvey, Period, Questionnaire, Response, Service, Unit
from skm.survey import fields
from skm.survey.fields import FieldError
from skm.survey.period_admin import PeriodClosed, closed_period_for
from skm.survey.profile import time_slot_for
from skm.survey.responses import ResponseData, record_response

PROFILE_STEPS = ("gender", "age", "education", "occupation")
# Many surveys from one tablet in a short time are stored but flagged (per device, never per IP).
DEVICE_MAX_PER_WINDOW = 6
DEVICE_WINDOW_SECONDS = 180
# A visitor needs well over 8 s for a survey: more starts than this a minute is a finger on the button.
DEVICE_STARTS_PER_MINUTE = 12
# After each send a tablet accepts no new start for a few seconds, at most the unit's
# `thanks_seconds` (the thank-you screen's time), so a visitor never meets it; a script does.
DEVICE_COOLDOWN_SECONDS = 5
# The same full answer vector this many times in a row from one tablet within the window
# is flagged (and so quarantined). 0 = off.
SAME_ANSWERS_RUN = 5
SAME_ANSWERS_WINDOW_SECONDS = 1800
COOLDOWN_MESSAGE = ("Terima kasih! Tablet sedang bersiap untuk pengunjung berikutnya. "
                    "Silakan sentuh lagi dalam beberapa detik.")


CLOSED_MESSAGE = "Survei untuk periode ini sudah ditutup. Terima kasih."
CLOSED_AT_SEND = "Survei untuk periode ini sudah ditutup; jawaban Saudara tidak disimpan. Terima kasih."


def closed_period_today(session: Session, unit: Unit, now: Optional[dt.datetime] = None) -> Optional[Period]:
    """The period closed for the unit that holds today (in the unit's time zone): the kiosk
    starts no survey then."""
    return closed_period_for(session, unit.id, unit_now(unit, now or utcnow()).date())


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
                 max_starts_per_minute: int = DEVICE_STARTS_PER_MINUTE,
                 cooldown_seconds: int = DEVICE_COOLDOWN_SECONDS) -> KioskSurvey:
    """A new survey with a fresh one-time token; the tablet's unfinished ones are abandoned.

    A tablet may start at most `max_starts_per_minute` surveys a minute (0: no limit), and
    none within `cooldown_seconds` after its last send (0: no cool-down). Both limits are
    per device, counted in the database (shared by every worker), and apply only at the
    start, where a refusal loses no answer."""
    now = now or utcnow()
    if device.paused:
        raise DomainError("Kiosk sedang istirahat.")
    unit = session.get(Unit, device.unit_id)
    if unit is None:
        raise DomainError("Unit tablet ini tidak ditemukan.")
    # Never longer than the unit's thank-you screen, so a visitor who waits for the
    # welcome screen is never refused; a script posting starts is.
    cooldown = min(cooldown_seconds, unit.thanks_seconds or cooldown_seconds)
    if cooldown > 0:
        last_send = session.scalar(
            select(func.max(KioskSurvey.finished_at)).where(
                KioskSurvey.device_id == device.id, KioskSurvey.status == "finished"))
        if last_send is not None and now - last_send < dt.timedelta(seconds=cooldown):
            raise DomainError(COOLDOWN_MESSAGE)
    if max_starts_per_minute:
        recent = session.scalar(
            select(func.count(KioskSurvey.id)).where(
                KioskSurvey.device_id == device.id,
                KioskSurvey.started_at >= now - dt.timedelta(seconds=60))) or 0
        if recent >= max_starts_per_minute:
            raise DomainError("Terlalu banyak survei dimulai dari tablet ini. Tunggu sebentar, lalu sentuh lagi.")
    questionnaire = current_questionnaire(unit)
    closed = closed_period_today(session, unit, now)
    if closed is not None:
        raise PeriodClosed(closed, CLOSED_MESSAGE)
    abandon_open_surveys(session, device, now)
    service_id = device.service_id
    if service_id is not None and not session.get_one(Service, service_id).active:
        service_id = None
    return begin_survey(session, unit, questionnaire, service_id, now, device_id=device.id)


def current_questionnaire(unit: Unit) -> Questionnaire:
    questionnaire = unit.current_questionnaire
    if questionnaire is None or not questionnaire.elements:
        raise DomainError("Kuesioner unit ini belum disiapkan.")
    return questionnaire


def begin_survey(session: Session, unit: Unit, questionnaire: Questionnaire, service_id: Optional[int],
                 now: dt.datetime, channel: str = "kiosk", **owner) -> KioskSurvey:
    """The survey row with a fresh one-time token, for a tablet (device_id) or a visitor's
    browser (channel "online", browser_key, ticket_id); the caller checked who may start."""
    survey = KioskSurvey(
        token=secrets.token_urlsafe(24),
        unit_id=unit.id,
        channel=channel,
        service_id=service_id,
        started_at=now,
        updated_at=now,
        survey_date=unit_now(unit, now).date(),
        status="open",
        answers={"q": questionnaire.id, "steps": survey_steps(unit, questionnaire, service_id is not None),
                 "values": {}},
        **owner,
    )
    session.add(survey)
    session.flush()
    return survey


def abandon_open_surveys(session: Session, device: Device, now: Optional[dt.datetime] = None) -> int:
    now = now or utcnow()
    surveys = session.scalars(
        select(KioskSurvey).where(KioskSurvey.device_id == device.id, KioskSurvey.status == "open")
        .with_for_update()).all()
    for survey in surveys:
        abandon_survey(session, survey, now)
    return len(surveys)


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
        # The visitor's answers go; the questionnaire and its steps stay, so a survey the
        # tablet already sent (its outbox) can still be delivered (skm.kiosk.outbox).
        survey.answers = {k: survey.answers[k] for k in ("q", "steps") if k in survey.answers}
        survey.updated_at = now or utcnow()
        session.flush()


def steps_of(survey: KioskSurvey) -> list[str]:
    return list(survey.answers.get("steps", []))


def values_of(survey: KioskSurvey) -> dict:
    return dict(survey.answers.get("values", {}))


def questionnaire_of(session: Session, survey: KioskSurvey) -> Questionnaire:
    return session.get_one(Questionnaire, survey.answers["q"])


@dataclass(frozen=True)
class ElementText:
    """One element as a kiosk screen asks it."""

    code: str
    question: str
    labels: tuple[str, ...]


# Per database engine: questionnaire id -> its elements' texts, in order.
_ELEMENT_TEXTS: weakref.WeakKeyDictionary[object, dict[int, tuple[ElementText, ...]]] = weakref.WeakKeyDictionary()


def element_texts(session: Session, survey: KioskSurvey) -> tuple[ElementText, ...]:
    """The elements of the survey's questionnaire version, as its screens show them.

    A version is never changed once written (a change is a new version:
    skm.survey.units.new_questionnaire_version), so its texts are read once per process and
    database (engine) instead of at every step."""
    questionnaire_id = survey.answers["q"]
    cache = _ELEMENT_TEXTS.setdefault(session.get_bind(), {})
    texts = cache.get(questionnaire_id)
    if texts is None:
        rows = session.execute(
            select(Element.code, Element.question, Element.label1, Element.label2, Element.label3, Element.label4)
            .where(Element.questionnaire_id == questionnaire_id).order_by(Element.position)).all()
        texts = cache[questionnaire_id] = tuple(ElementText(r[0], r[1], tuple(r[2:])) for r in rows)
    return texts


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
    """The stored value for one step's form, or StepError with the field validator's message
    (skm.survey.fields, shared with paper entry and the import)."""
    raw = form.get("value")
    try:
        if step == "service":
            return fields.clean_service(session.get_one(Unit, survey.unit_id), raw, required=True)
        if step == "gender":
            return fields.clean_gender(raw, required=True)
        if step == "age":
            return fields.clean_age(raw, required=True)
        if step == "education":
            return fields.clean_education(raw, required=True)
        if step == "occupation":
            code, other = fields.clean_occupation(raw, form.get("other") or "", required=True)
            return [code, other or ""]
        if step == "saran":
            return fields.clean_suggestion(None if form.get("skip") else raw) or ""
        code = step[3:]  # an element
        return fields.clean_rating(code, raw, required=True)
    except FieldError as exc:
        raise StepError(step, exc.message) from None


def answer_step(session: Session, survey: KioskSurvey, step: str, form: dict,
                now: Optional[dt.datetime] = None) -> Optional[str]:
    """Validate and keep one step's answer; returns the next step (None after the last).
    Nothing is stored when the answer is invalid."""
    if survey.status != "open":
        raise StaleSurvey("Survei ini sudah berakhir. Silakan mulai lagi.")
    if step not in steps_of(survey):
        if step.startswith("el-"):
            raise StepError(current_step(survey), "Unsur tersebut tidak ada di kuesioner ini. Silakan ulangi.")
        raise StepError(current_step(survey), "Langkah tidak dikenal. Silakan ulangi.")
    check_current_step(survey, step)
    value = _parse_step_value(session, survey, step, form)
    values = values_of(survey)
    values[step] = value
    if step == "occupation" and value[0] == "LAINNYA" and "other" not in form:
        following: Optional[str] = step  # show the short text field for "Lainnya"
    else:
        following = next_step(survey, step)
    # The answer and the step the survey moves to (set_current_step's "at") in one write.
    # Reassign so the JSON column is written (in-place changes are not tracked).
    survey.answers = {**survey.answers, "values": values, "at": following or step}
    survey.updated_at = now or utcnow()
    session.flush()
    return following


# --- The step the survey is on (one answer per tap, for the screen it was given on) ----

class NotCurrentStep(DomainError):
    """An answer for a step other than the one the survey is on (a late duplicate tap, a
    retried request): ignored; the survey stays where it is."""

    def __init__(self, step: str):
        super().__init__(step)
        self.step = step


OTHER_SCREEN = "occupation-other"  # the text box after "Lainnya": Kembali returns to the job list


def current_step(survey: KioskSurvey) -> str:
    """The step the survey is on: the one whose answer the server accepts now."""
    at = survey.answers.get("at")
    return at if at in steps_of(survey) else first_step(survey)


def check_current_step(survey: KioskSurvey, step: str) -> None:
    if step != current_step(survey):
        raise NotCurrentStep(current_step(survey))


def set_current_step(session: Session, survey: KioskSurvey, step: str) -> None:
    if step in steps_of(survey) and survey.answers.get("at") != step:
        survey.answers = {**survey.answers, "at": step}
        session.flush()


def go_back(session: Session, survey: KioskSurvey, step: str) -> Optional[str]:
    """Kembali from the screen showing `step`: the survey moves to the step before it (None
    before the first step). Always honoured, even when that screen's answer was already taken."""
    previous = "occupation" if step == OTHER_SCREEN else previous_step(survey, step)
    if previous is not None:
        set_current_step(session, survey, previous)
    return previous


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


def same_answers_run(session: Session, device: Device, ratings: dict[str, Optional[int]], now: dt.datetime,
                     run: int = SAME_ANSWERS_RUN, window_seconds: int = SAME_ANSWERS_WINDOW_SECONDS) -> bool:
    """True when this tablet's last `run - 1` kiosk responses (within the window) all gave
    exactly these ratings, so this one makes `run` identical answer vectors in a row."""
    if run < 2:
        return False
    recent = session.scalars(
        select(Response.id).where(
            Response.device_id == device.id, Response.channel == "kiosk",
            Response.submitted_at >= now - dt.timedelta(seconds=window_seconds))
        .order_by(Response.submitted_at.desc(), Response.id.desc()).limit(run - 1)
    ).all()
    if len(recent) < run - 1:
        return False
    given: dict[int, dict[str, int]] = {response_id: {} for response_id in recent}
    for response_id, code, rating in session.execute(
            select(Answer.response_id, Element.code, Answer.rating).join(Element, Element.id == Answer.element_id)
            .where(Answer.response_id.in_(recent))):
        given[response_id][code] = rating
    vector = {code: rating for code, rating in ratings.items() if rating is not None}
    return all(previous == vector for previous in given.values())


def submit_survey(session: Session, device: Device, token: str, form: Optional[dict] = None,
                  now: Optional[dt.datetime] = None, max_per_window: int = DEVICE_MAX_PER_WINDOW,
                  window_seconds: int = DEVICE_WINDOW_SECONDS, same_answers: int = SAME_ANSWERS_RUN,
                  same_answers_window: int = SAME_ANSWERS_WINDOW_SECONDS) -> Response:
    """Store the survey as one response with all its answers, once.

    A suspicious response (too fast, too many from this tablet in the window, the same
    answers `same_answers` times in a row) is stored flagged and quarantined: excluded
    from every figure until a manager accepts it on the flagged-review page.

    A repeated submit of a finished survey returns the response already stored. Two
    submits racing each other: the unique Response.token makes the second flush fail
    (IntegrityError); the caller rolls back and calls acknowledged_response().

    A survey whose date fell into a period closed meanwhile is not stored: its answers are
    discarded (the survey is abandoned) and PeriodClosed is raised; the caller commits that
    and shows the refusal, and a repeated submit gets the same refusal."""
    now = now or utcnow()
    survey = find_survey(session, device, token)
    if survey.status == "finished":
        existing = acknowledged_response(session, device, token)
        if existing is not None:
            return existing
    ready_to_store(session, survey, form, now)
    unit, questionnaire, data, ratings = response_data(session, survey)
    duration = max(0, int((now - survey.started_at).total_seconds()))
    reasons = too_fast(unit, duration)
    recent = session.scalar(
        select(func.count()).select_from(Response).where(
            Response.device_id == device.id, Response.channel == "kiosk",
            Response.submitted_at >= now - dt.timedelta(seconds=window_seconds))
    ) or 0
    if recent >= max_per_window:
        reasons.append(f"{recent + 1} survei dari tablet ini dalam {window_seconds // 60} menit")
    if same_answers_run(session, device, ratings, now, same_answers, same_answers_window):
        reasons.append(f"jawaban sama {same_answers} kali berturut-turut dari tablet ini")
    return store_survey(session, survey, unit, questionnaire, data, reasons, now, duration, device_id=device.id)


def ready_to_store(session: Session, survey: KioskSurvey, form: Optional[dict], now: dt.datetime) -> None:
    """Checks before a send (any channel): the period is open (else the answers are discarded
    and PeriodClosed), the survey is open, the saran step's form (if any) is taken and every
    question is answered (StepError names the first one missing)."""
    closed = closed_period_for(session, survey.unit_id, survey.survey_date)
    if closed is not None and survey.status in ("open", "abandoned"):
        abandon_survey(session, survey, now)
        raise PeriodClosed(closed, CLOSED_AT_SEND)
    if survey.status != "open":
        raise StaleSurvey("Survei ini sudah berakhir. Silakan mulai lagi.")
    if form is not None:
        answer_step(session, survey, "saran", form, now)
    missing = missing_step(survey)
    if missing:
        raise StepError(missing, "Pertanyaan ini belum dijawab.")


def response_data(session: Session, survey: KioskSurvey) -> tuple[Unit, Questionnaire, ResponseData, dict]:
    """The survey's answers as ResponseData (and the ratings by element code)."""
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
    return unit, questionnaire, data, ratings


def too_fast(unit: Unit, duration: int) -> list[str]:
    return [f"diisi terlalu cepat ({duration} detik)"] if duration < unit.min_survey_seconds else []


def store_survey(session: Session, survey: KioskSurvey, unit: Unit, questionnaire: Questionnaire,
                 data: ResponseData, reasons: list[str], now: dt.datetime, duration: int, **columns) -> Response:
    """Store the survey's response once (record_response, token unique), flagged and
    quarantined when there are reasons, and mark the survey finished without its answers."""
    response = record_response(
        session, unit, data, survey.channel, questionnaire=questionnaire, require_all=True,
        token=survey.token, duration_seconds=duration, submitted_at=now,
        flagged=bool(reasons), flag_reason="; ".join(reasons)[:200] or None,
        quarantined=bool(reasons), excluded=bool(reasons), **columns,
    )
    survey.status = "finished"
    survey.finished_at = now
    survey.updated_at = now
    survey.response_id = response.id
    survey.service_id = data.service_id
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
        .where(KioskSurvey.unit_id == unit_id, KioskSurvey.channel == "kiosk",
               KioskSurvey.survey_date >= start, KioskSurvey.survey_date <= end)
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
    """The IKM the welcome screen shows when the unit enables it: the reporting period's
    (skm.survey.reporting, the same as the lobby poster's); None without data."""
    if not unit.kiosk_show_ikm:
        return None
    from skm.scoring.results import period_results
    from skm.survey.reporting import reporting_period

    period = reporting_period(session, unit, unit_today(unit, now))
    if period is None:
        return None
    s = period_results(session, unit, period, with_profile=False).scores
    return PublicIkm(period.name, s.ikm, s.grade, s.kinerja, s.respondents)
