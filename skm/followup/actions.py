"""Follow-up actions (RTL): planning them and recording their realization (Sudah/Belum).

Plain functions, no Flask. They flush, never commit; the caller commits once.
Refusals raise DomainError with a message in Bahasa Indonesia.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Optional

from sqlalchemy.orm import Session

from skm.core.clock import utcnow
from skm.core.errors import DomainError
from skm.core.formatting import date_id, date_range_id
from skm.core.parsing import parse_int
from skm.followup.common import MAX_SHORT, STATUS_LABELS, _clean, _log, _require_editable, schedule_label, when_label
from skm.followup.photos import _remove_photo_files
from skm.models import (
    FollowUpAction,
    FollowUpPriority,
    User,
)
from skm.survey.periods import quarter

# --------------------------------------------------------------------------- date checks


class ConfirmationRequired(DomainError):
    """Dates that are allowed but unusual: stored only when the manager confirms (``confirmed=True``).
    ``warnings`` lists each reason in Bahasa Indonesia; nothing changed."""

    def __init__(self, warnings: list[str]):
        super().__init__(" ".join(warnings))
        self.warnings = warnings


def schedule_warnings(plan, year: int, quarters: Sequence[int]) -> list[str]:
    """An action scheduled inside (or before) the surveyed period itself, or ending before the
    Forum Konsultasi Publik: allowed, but only after a warning."""
    period = plan.period
    warnings = []
    for q in quarters:
        start, end = quarter(year, q).start, quarter(year, q).end
        span = f"TW {q} {year} ({date_range_id(start, end)})"
        if start <= period.end_date:
            where = "sebelum" if end < period.start_date else "di dalam"
            warnings.append(f"{span} jatuh {where} periode yang disurvei ({period.name}); tindak lanjut "
                            "biasanya dijadwalkan setelah hasil survei diketahui.")
        if plan.forum_date is not None and end < plan.forum_date:
            warnings.append(f"{span} berakhir sebelum Forum Konsultasi Publik ({date_id(plan.forum_date)}).")
    return warnings


def realization_warnings(action: FollowUpAction, start: Optional[dt.date]) -> list[str]:
    """Done before it was planned (before its first scheduled quarter) or before the forum."""
    if start is None or not action.quarters:
        return []
    warnings = []
    planned = quarter(action.year, min(action.quarters)).start
    if start < planned:
        warnings.append(f"Tanggal pelaksanaan {date_id(start)} sebelum jadwal rencananya "
                        f"({schedule_label(action)}, mulai {date_id(planned)}).")
    forum = action.priority.plan.forum_date
    if forum is not None and start < forum:
        warnings.append(f"Tanggal pelaksanaan {date_id(start)} sebelum Forum Konsultasi Publik ({date_id(forum)}).")
    return warnings


def _confirm(warnings: list[str], confirmed: bool) -> None:
    if warnings and not confirmed:
        raise ConfirmationRequired(warnings)


# --------------------------------------------------------------------------- actions (plan part)


def _check_schedule(year, quarters) -> tuple[int, list[int]]:
    year = parse_int(str(year))
    if year is None:
        raise DomainError("Tahun pelaksanaan harus berupa angka.")
    if not 2000 <= year <= 2100:
        raise DomainError("Tahun pelaksanaan harus antara 2000 dan 2100.")
    numbers = {parse_int(str(q)) for q in quarters or []}
    if None in numbers:
        raise DomainError("Triwulan harus TW 1–4.")
    qs = sorted(q for q in numbers if q is not None)
    if not qs:
        raise DomainError("Pilih paling sedikit satu triwulan (TW 1–4).")
    if any(q not in (1, 2, 3, 4) for q in qs):
        raise DomainError("Triwulan harus TW 1–4.")
    return year, qs


def add_action(session: Session, priority: FollowUpPriority, user: Optional[User], program: str,
               year, quarters: Sequence, pic: str, confirmed: bool = False) -> FollowUpAction:
    """A planned action; a schedule in or before the surveyed period or before the forum needs
    ``confirmed`` (else ConfirmationRequired)."""
    plan = priority.plan
    _require_editable(plan)
    program = _clean(program, "Program/kegiatan", required=True)
    pic = _clean(pic, "Penanggung jawab", MAX_SHORT, required=True)
    year, qs = _check_schedule(year, quarters)
    _confirm(schedule_warnings(plan, year, qs), confirmed)
    action = FollowUpAction(program=program, year=year, pic=pic, position=len(priority.actions),
                            **{f"tw{q}": q in qs for q in (1, 2, 3, 4)})
    priority.actions.append(action)
    session.flush()
    _log(session, plan, user, "action", None, f"{priority.element_code}: {program}", action)
    return action


def update_action(session: Session, action: FollowUpAction, user: Optional[User], program: str,
                  year, quarters: Sequence, pic: str, confirmed: bool = False) -> FollowUpAction:
    plan = action.priority.plan
    _require_editable(plan)
    program = _clean(program, "Program/kegiatan", required=True)
    pic = _clean(pic, "Penanggung jawab", MAX_SHORT, required=True)
    year, qs = _check_schedule(year, quarters)
    _confirm(schedule_warnings(plan, year, qs), confirmed)
    old_schedule = schedule_label(action)
    if action.program != program:
        _log(session, plan, user, "program", action.program, program, action)
        action.program = program
    if action.pic != pic:
        _log(session, plan, user, "pic", action.pic, pic, action)
        action.pic = pic
    action.year = year
    for q in (1, 2, 3, 4):
        setattr(action, f"tw{q}", q in qs)
    if schedule_label(action) != old_schedule:
        _log(session, plan, user, "schedule", old_schedule, schedule_label(action), action)
    session.flush()
    return action


def delete_action(session: Session, action: FollowUpAction, user: Optional[User], upload_root: str) -> None:
    plan = action.priority.plan
    _require_editable(plan)
    _log(session, plan, user, "action", f"{action.priority.element_code}: {action.program}", None, action)
    photos = list(action.photos)
    action.priority.actions.remove(action)
    session.flush()
    for photo in photos:
        _remove_photo_files(upload_root, photo)


# --------------------------------------------------------------------------- realization


def parse_date(value, label: str, required: bool = False) -> Optional[dt.date]:
    if value in (None, ""):
        if required:
            raise DomainError(f"{label} wajib diisi.")
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise DomainError(f"{label} tidak valid (format TTTT-BB-HH).") from None
    if not 2000 <= day.year <= 2100:
        raise DomainError(f"{label} tidak valid.")
    return day


def record_realization(session: Session, action: FollowUpAction, user: Optional[User], *, status: str,
                       realization: str = "", done_start=None, done_end=None, obstacles: str = "",
                       pending_reason: str = "", strategy: str = "", target_date=None,
                       pending_pic: str = "", confirmed: bool = False) -> FollowUpAction:
    """Mark an action Sudah (what was done and when) or Belum (why, strategy, target date, PJ).
    Done before its planned quarter or before the forum needs ``confirmed`` (ConfirmationRequired).

    Every changed field is recorded in the history with the user and the time.
    Nothing changes when the input is refused.
    """
    plan = action.priority.plan
    if not plan.final:
        raise DomainError("Tandai RTL sebagai final terlebih dahulu sebelum mengisi realisasi.")
    if status not in STATUS_LABELS:
        raise DomainError("Status harus Sudah atau Belum.")
    realization = _clean(realization, "Uraian realisasi", required=status == "sudah")
    obstacles = _clean(obstacles, "Kendala")
    start = parse_date(done_start, "Tanggal pelaksanaan", required=status == "sudah")
    end = parse_date(done_end, "Tanggal selesai pelaksanaan")
    if start is None and end is not None:
        raise DomainError("Isi tanggal mulai pelaksanaan terlebih dahulu.")
    if start is not None and end is not None and end < start:
        raise DomainError("Tanggal selesai pelaksanaan tidak boleh sebelum tanggal mulai.")
    if end == start:
        end = None
    belum = status == "belum"
    pending_reason = _clean(pending_reason, "Alasan belum dilaksanakan", required=belum)
    strategy = _clean(strategy, "Strategi penyelesaian", required=belum)
    target = parse_date(target_date, "Target waktu penyelesaian", required=belum)
    pending_pic = _clean(pending_pic, "Penanggung jawab penyelesaian", MAX_SHORT, required=belum)
    if not belum:
        _confirm(realization_warnings(action, start), confirmed)

    old_when = when_label(action)
    # The first report always records the status (old value: none reported yet).
    first = action.reported_at is None
    # (history field, old text, new text, attribute, new value)
    changes: list[tuple[str, Optional[str], Optional[str], str, object]] = [
        ("status", None if first else STATUS_LABELS[action.status], STATUS_LABELS[status], "status", status),
        ("obstacles", action.obstacles, obstacles, "obstacles", obstacles),
    ]
    # Only the fields that belong to the chosen status change; the others keep
    # what was entered before (an action that goes back to Belum keeps its text).
    if belum:
        changes += [
            ("pending_reason", action.pending_reason, pending_reason, "pending_reason", pending_reason),
            ("strategy", action.strategy, strategy, "strategy", strategy),
            ("target_date", date_id(action.target_date) if action.target_date else "",
             date_id(target) if target else "", "target_date", target),
            ("pending_pic", action.pending_pic, pending_pic, "pending_pic", pending_pic),
        ]
    else:
        changes.append(("realization", action.realization, realization, "realization", realization))
    for field, old, new, attr, value in changes:
        if (old or "") != (new or ""):
            _log(session, plan, user, field, old or None, new or None, action)
        setattr(action, attr, value)
    if not belum:
        action.done_start, action.done_end = start, end
        if when_label(action) != old_when:
            _log(session, plan, user, "done_when", old_when or None, when_label(action) or None, action)
    action.reported_at = utcnow()
    action.reported_by_id = user.id if user else None
    session.flush()
    return action
