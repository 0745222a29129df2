"""Store and forward: a survey the visitor sent is kept on the tablet (its outbox) until the
server acknowledges it, then delivered here with all its answers, exactly once.

The tablet may have finished the survey offline (the server never saw its later steps) and
may deliver it long after: after an idle reset or a newer survey abandoned the row on the
server. So delivery takes the complete answers, checks every one with the same rules as a
step (skm.kiosk.flow), and stores the response through the same one-time token. Functions
flush, never commit.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Optional

from sqlalchemy.orm import Session

from skm.core.clock import utcnow
from skm.core.parsing import parse_int
from skm.kiosk import flow as F
from skm.models import Device, Response

MAX_ANSWERS_BYTES = 20_000


class Undeliverable(F.StepError):
    """The tablet's answers can never be stored (tampered or from another questionnaire)."""


def parse_answers(raw: object) -> dict:
    """The answers a tablet sent (a JSON object of step → value), or Undeliverable."""
    if isinstance(raw, str):
        if len(raw) > MAX_ANSWERS_BYTES:
            raise Undeliverable("saran", "Data survei terlalu besar.")
        try:
            raw = json.loads(raw)
        except ValueError:
            raise Undeliverable("saran", "Data survei tidak terbaca.") from None
    if not isinstance(raw, dict):
        raise Undeliverable("saran", "Data survei tidak terbaca.")
    return raw


def _step_form(step: str, value: object) -> dict:
    """One stored value as the form its step screen would have posted."""
    if step == "occupation":
        pair = value if isinstance(value, (list, tuple)) else [value, ""]
        code, other = (list(pair) + ["", ""])[:2]
        return {"value": code, "other": other or ""}
    return {"value": "" if value is None else str(value)}


def elapsed_seconds(raw: object) -> Optional[int]:
    return parse_int(raw, max=999_999)


def deliver_survey(session: Session, device: Device, token: str, answers: dict,
                   elapsed: Optional[int] = None, now: Optional[dt.datetime] = None,
                   max_per_window: int = F.DEVICE_MAX_PER_WINDOW,
                   window_seconds: int = F.DEVICE_WINDOW_SECONDS) -> Response:
    """Store a sent survey from the tablet's outbox, once.

    `answers` maps every step to its value; `elapsed` is the seconds from start to send as
    the tablet measured them, so a survey delivered an hour late keeps its own time (its
    submitted time and duration, and the per-tablet burst count, are not the delivery's).
    A token already stored returns the stored response. Raises StaleSurvey for a token this
    tablet never had, Undeliverable for answers that break a rule."""
    now = now or utcnow()
    survey = F.find_survey(session, device, token)
    if survey.status == "finished":
        existing = F.acknowledged_response(session, device, token)
        if existing is not None:
            return existing
    steps = F.steps_of(survey)
    if not steps:
        raise F.StaleSurvey("Survei ini tidak dikenal. Silakan mulai lagi.")
    values = {}
    for step in steps:
        if step == "saran":
            text = answers.get("saran") or ""
            form = {"value": text if isinstance(text, str) else ""}
        elif step in answers:
            form = _step_form(step, answers[step])
        else:
            raise Undeliverable(step, "Pertanyaan ini belum dijawab.")
        try:
            values[step] = F._parse_step_value(session, survey, step, form)
        except F.StepError as exc:
            raise Undeliverable(exc.step, exc.message) from None
    sent_at = now
    if elapsed is not None:
        sent_at = min(now, survey.started_at + dt.timedelta(seconds=elapsed))
    # Reopen the row with the tablet's answers and store it through the one send path.
    survey.status = "open"
    survey.answers = {**survey.answers, "values": values, "at": "saran"}
    session.flush()
    return F.submit_survey(session, device, token, None, now=sent_at,
                           max_per_window=max_per_window, window_seconds=window_seconds)
