"""Follow-up plans (RTL): proposing priorities, planning actions, recording their
realization with photos, and the figures managers read (share done, overdue, effect).

Plain functions, no Flask. They flush, never commit; the caller commits once.
Refusals raise DomainError with a message in Bahasa Indonesia.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import secrets
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Optional, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from .formatting import date_id, date_range_id, number_id
from .models import TIMEZONES, Period, Unit, User, utcnow
from .models_followup import (
    FollowUpAction,
    FollowUpHistory,
    FollowUpPhoto,
    FollowUpPlan,
    FollowUpPriority,
)
from .periods import following
from .results import Scope, element_tallies, period_results
from .scoring import KINERJA, ElementScore, element_scores, grade_for_nrr
from .units import DomainError

EDIT_ROLES = ("admin", "manager")
MAX_TEXT = 5000
MAX_SHORT = 200
MAX_CAPTION = 300

# Photos
PHOTO_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
DEFAULT_MAX_PHOTO_BYTES = 10 * 1024 * 1024  # phone photos are 2–8 MB; MAX_CONTENT_LENGTH is 16 MB
MAX_PHOTO_PIXELS = 30_000_000  # refuse before decoding: a small file can expand enormously
MAX_PHOTO_EDGE = 2048  # stored photos are scaled down to this longest side
THUMB_EDGE = 320
PHOTO_NAME = re.compile(r"^[0-9a-f]{32}(_t)?\.(jpg|png)$")

FIELD_LABELS = {
    "plan": "RTL",
    "forum_date": "Tanggal forum konsultasi publik",
    "priority": "Prioritas",
    "final": "Status RTL",
    "action": "Rencana aksi",
    "program": "Program/kegiatan",
    "schedule": "Jadwal",
    "pic": "Penanggung jawab",
    "status": "Status",
    "realization": "Realisasi",
    "done_when": "Waktu pelaksanaan",
    "obstacles": "Kendala",
    "pending_reason": "Alasan belum dilaksanakan",
    "strategy": "Strategi penyelesaian",
    "target_date": "Target waktu",
    "pending_pic": "Penanggung jawab penyelesaian",
    "photo": "Foto dokumentasi",
}
STATUS_LABELS = {"sudah": "Sudah", "belum": "Belum"}


# --------------------------------------------------------------------------- helpers


def can_edit(user: User, unit_id: int) -> bool:
    """Managers of the unit and admins may plan and mark; operators only read."""
    return user.role in EDIT_ROLES and user.can_access_unit(unit_id)


def unit_today(unit: Unit, now: Optional[dt.datetime] = None) -> dt.date:
    """Today's date in the unit's time zone (now is UTC, naive or aware)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    return now.astimezone(ZoneInfo(TIMEZONES.get(unit.timezone, "Asia/Jakarta"))).date()


def unit_datetime(unit: Unit, utc: Optional[dt.datetime]) -> Optional[dt.datetime]:
    """A stored UTC time (naive) as wall-clock time in the unit's time zone."""
    if utc is None:
        return None
    zone = ZoneInfo(TIMEZONES.get(unit.timezone, "Asia/Jakarta"))
    return utc.replace(tzinfo=dt.timezone.utc).astimezone(zone).replace(tzinfo=None)


def quarter_end(year: int, q: int) -> dt.date:
    return dt.date(year, 12, 31) if q == 4 else dt.date(year, 3 * q + 1, 1) - dt.timedelta(days=1)


def quarters_label(quarters: Iterable[int]) -> str:
    qs = list(quarters)
    return ", ".join(f"TW {q}" for q in qs) if qs else "–"


def schedule_label(action: FollowUpAction) -> str:
    return f"{quarters_label(action.quarters)} {action.year}"


def when_label(action: FollowUpAction) -> str:
    if action.done_start is None:
        return ""
    if action.done_end is None or action.done_end == action.done_start:
        return date_id(action.done_start)
    return date_range_id(action.done_start, action.done_end)


def _clean(value: Optional[str], label: str, limit: int = MAX_TEXT, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(f"{label} wajib diisi.")
    if len(text) > limit:
        raise DomainError(f"{label} terlalu panjang (maksimal {limit} karakter).")
    return text


def _log(session: Session, plan: FollowUpPlan, user: Optional[User], field: str, old, new,
         action: Optional[FollowUpAction] = None) -> None:
    session.add(FollowUpHistory(
        plan_id=plan.id,
        action_id=action.id if action is not None else None,
        user_id=user.id if user is not None else None,
        at=utcnow(),
        field=field,
        old_value=None if old is None else str(old),
        new_value=None if new is None else str(new),
    ))


def _require_editable(plan: FollowUpPlan) -> None:
    if plan.final:
        raise DomainError("RTL sudah final dan tidak dapat diubah lagi.")


# --------------------------------------------------------------------------- proposing


@dataclass(frozen=True)
class Proposal:
    code: str
    name: str
    nrr: Fraction
    grade: str
    position: int
    total: int
    count: int
    source: str  # "lowest" or "grade"
    proposed: bool = True


def propose_priorities(elements: Sequence[ElementScore], n: int = 3) -> list[Proposal]:
    """The n lowest elements by NRR (ties: questionnaire order), plus every element
    graded C or D, ordered lowest first."""
    n = max(0, int(n))
    ranked = sorted(elements, key=lambda e: (e.nrr, e.position, e.code))
    lowest = {e.code for e in ranked[:n]}
    chosen = []
    for e in ranked:
        if e.code in lowest:
            source = "lowest"
        elif e.grade in ("C", "D"):
            source = "grade"
        else:
            continue
        chosen.append(Proposal(e.code, e.name, e.nrr, e.grade, e.position, e.total, e.count, source))
    return chosen


def priority_choices(session: Session, unit: Unit, period: Period) -> list[Proposal]:
    """Every element of the period's results (lowest first), the proposed ones marked."""
    results = period_results(session, unit, period, with_profile=False)
    proposed = {p.code: p for p in propose_priorities(results.scores.elements, unit.rtl_priority_count)}
    out = []
    for e in sorted(results.scores.elements, key=lambda e: (e.nrr, e.position, e.code)):
        p = proposed.get(e.code)
        out.append(p or Proposal(e.code, e.name, e.nrr, e.grade, e.position, e.total, e.count, "manual", False))
    return out


# --------------------------------------------------------------------------- plans


def plan_for(session: Session, unit_id: int, period_id: int) -> Optional[FollowUpPlan]:
    return session.scalar(
        select(FollowUpPlan).where(FollowUpPlan.unit_id == unit_id, FollowUpPlan.period_id == period_id)
    )


def _add_priorities(session: Session, plan: FollowUpPlan, choices: Sequence[Proposal], codes: Sequence[str],
                    user: Optional[User]) -> None:
    by_code = {c.code: c for c in choices}
    for code in codes:
        c = by_code[code]
        plan.priorities.append(FollowUpPriority(
            element_code=c.code, element_name=c.name, rating_total=c.total, rating_count=c.count,
            grade=c.grade, source=c.source if c.proposed else "manual",
        ))
    session.flush()
    for code in codes:
        _log(session, plan, user, "priority", None, f"{code} {by_code[code].name}")


def _order_priorities(plan: FollowUpPlan, choices: Sequence[Proposal]) -> None:
    rank = {c.code: i for i, c in enumerate(choices)}
    for i, p in enumerate(sorted(plan.priorities, key=lambda p: (rank.get(p.element_code, 999), p.element_code))):
        p.position = i


def _check_codes(codes: Optional[Sequence[str]], choices: Sequence[Proposal]) -> list[str]:
    known = [c.code for c in choices]
    wanted = [c.strip().upper() for c in (codes or []) if c and c.strip()]
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise DomainError(f"Unsur {', '.join(unknown)} tidak ada pada hasil periode ini.")
    if not wanted:
        raise DomainError("Pilih paling sedikit satu unsur prioritas.")
    return [c for c in known if c in wanted]  # de-duplicated, lowest first


def create_plan(session: Session, unit: Unit, period: Period, user: Optional[User],
                codes: Optional[Sequence[str]] = None, forum_date: Optional[dt.date] = None) -> FollowUpPlan:
    """Make the unit's plan for a period. Without `codes`, the proposed priorities."""
    if plan_for(session, unit.id, period.id) is not None:
        raise DomainError(f"RTL {period.name} untuk unit ini sudah ada.")
    choices = priority_choices(session, unit, period)
    if not choices:
        raise DomainError(f"Belum ada hasil survei pada {period.name}; RTL belum dapat dibuat.")
    if codes is None:
        codes = [c.code for c in choices if c.proposed]
    codes = _check_codes(codes, choices)
    plan = FollowUpPlan(unit_id=unit.id, period_id=period.id, forum_date=forum_date,
                        created_by_id=user.id if user else None)
    session.add(plan)
    session.flush()
    _log(session, plan, user, "plan", None, f"RTL {period.name} dibuat")
    if forum_date:
        _log(session, plan, user, "forum_date", None, date_id(forum_date))
    _add_priorities(session, plan, choices, codes, user)
    _order_priorities(plan, choices)
    session.flush()
    return plan


def update_plan(session: Session, plan: FollowUpPlan, user: Optional[User], codes: Sequence[str],
                forum_date: Optional[dt.date], upload_root: Optional[str] = None) -> FollowUpPlan:
    """Change the set of priorities and the forum date. A removed priority takes its
    actions (and their photo files under upload_root) with it."""
    _require_editable(plan)
    unit = session.get(Unit, plan.unit_id)
    choices = priority_choices(session, unit, plan.period)
    # A priority kept from before stays allowed even if its element has no result any more.
    known = {c.code for c in choices} | {p.element_code for p in plan.priorities}
    codes = list(dict.fromkeys(c.strip().upper() for c in codes or [] if c and c.strip()))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise DomainError(f"Unsur {', '.join(unknown)} tidak ada pada hasil periode ini.")
    if not codes:
        raise DomainError("Pilih paling sedikit satu unsur prioritas.")
    wanted = set(codes)
    dropped_photos = []
    for p in list(plan.priorities):
        if p.element_code not in wanted:
            _log(session, plan, user, "priority", f"{p.element_code} {p.element_name}", None)
            dropped_photos += [ph for a in p.actions for ph in a.photos]
            plan.priorities.remove(p)
    session.flush()
    if upload_root:
        for photo in dropped_photos:
            _remove_photo_files(upload_root, photo)
    new = [c for c in codes if c not in {p.element_code for p in plan.priorities}]
    if new:
        _add_priorities(session, plan, choices, new, user)
    _order_priorities(plan, choices)
    if plan.forum_date != forum_date:
        _log(session, plan, user, "forum_date", date_id(plan.forum_date) if plan.forum_date else None,
             date_id(forum_date) if forum_date else None)
        plan.forum_date = forum_date
    session.flush()
    return plan


def finalize_plan(session: Session, plan: FollowUpPlan, user: Optional[User]) -> None:
    _require_editable(plan)
    if not plan.priorities:
        raise DomainError("RTL belum memiliki unsur prioritas.")
    missing = [p.element_code for p in plan.priorities if not p.actions]
    if missing:
        raise DomainError(f"Setiap prioritas harus memiliki rencana aksi; belum ada untuk {', '.join(missing)}.")
    plan.final = True
    plan.finalized_at = utcnow()
    plan.finalized_by_id = user.id if user else None
    _log(session, plan, user, "final", "Draf", "Final")
    session.flush()


def reopen_plan(session: Session, plan: FollowUpPlan, user: Optional[User]) -> None:
    """Back to draft (admins only, checked by the caller); recorded in the history."""
    if not plan.final:
        raise DomainError("RTL masih berupa draf.")
    plan.final = False
    plan.finalized_at = None
    plan.finalized_by_id = None
    _log(session, plan, user, "final", "Final", "Draf")
    session.flush()


# --------------------------------------------------------------------------- actions (plan part)


def _check_schedule(year, quarters) -> tuple[int, list[int]]:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise DomainError("Tahun pelaksanaan harus berupa angka.") from None
    if not 2000 <= year <= 2100:
        raise DomainError("Tahun pelaksanaan harus antara 2000 dan 2100.")
    try:
        qs = sorted({int(q) for q in quarters or []})
    except (TypeError, ValueError):
        raise DomainError("Triwulan harus TW 1–4.") from None
    if not qs:
        raise DomainError("Pilih paling sedikit satu triwulan (TW 1–4).")
    if any(q not in (1, 2, 3, 4) for q in qs):
        raise DomainError("Triwulan harus TW 1–4.")
    return year, qs


def add_action(session: Session, priority: FollowUpPriority, user: Optional[User], program: str,
               year, quarters: Sequence, pic: str) -> FollowUpAction:
    plan = priority.plan
    _require_editable(plan)
    program = _clean(program, "Program/kegiatan", required=True)
    pic = _clean(pic, "Penanggung jawab", MAX_SHORT, required=True)
    year, qs = _check_schedule(year, quarters)
    action = FollowUpAction(program=program, year=year, pic=pic, position=len(priority.actions),
                            **{f"tw{q}": q in qs for q in (1, 2, 3, 4)})
    priority.actions.append(action)
    session.flush()
    _log(session, plan, user, "action", None, f"{priority.element_code}: {program}", action)
    return action


def update_action(session: Session, action: FollowUpAction, user: Optional[User], program: str,
                  year, quarters: Sequence, pic: str) -> FollowUpAction:
    plan = action.priority.plan
    _require_editable(plan)
    program = _clean(program, "Program/kegiatan", required=True)
    pic = _clean(pic, "Penanggung jawab", MAX_SHORT, required=True)
    year, qs = _check_schedule(year, quarters)
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
                       pending_pic: str = "") -> FollowUpAction:
    """Mark an action Sudah (what was done and when) or Belum (why, strategy, target date, PJ).

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

    old_when = when_label(action)
    # The first report always records the status (old value: none reported yet).
    first = action.reported_at is None
    changes = [
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


# --------------------------------------------------------------------------- overview figures


@dataclass(frozen=True)
class Share:
    done: int
    total: int

    @property
    def percent(self) -> Optional[Fraction]:
        return Fraction(100 * self.done, self.total) if self.total else None

    @property
    def percent_label(self) -> str:
        p = self.percent
        if p is None:
            return "–"
        return f"{number_id(p, 0 if p.denominator == 1 else 2)}%"

    @property
    def text(self) -> str:
        """"3 dari 3 RTL telah ditindaklanjuti (100%)"."""
        return f"{self.done} dari {self.total} RTL telah ditindaklanjuti ({self.percent_label})"


def share_done(actions: Iterable[FollowUpAction]) -> Share:
    actions = list(actions)
    return Share(sum(1 for a in actions if a.done), len(actions))


def is_overdue(action: FollowUpAction, today: dt.date) -> bool:
    """Still Belum after the last scheduled quarter has ended."""
    if action.done or not action.quarters:
        return False
    return quarter_end(action.year, max(action.quarters)) < today


@dataclass(frozen=True)
class Effect:
    code: str
    before: Optional[Fraction]  # NRR in the plan's period
    after: Optional[Fraction]  # NRR in the following period of the same kind
    following_name: Optional[str]
    following_complete: bool  # the following period has ended

    @property
    def delta(self) -> Optional[Fraction]:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


def _nrr_by_code(session: Session, scope: Scope) -> dict[str, Fraction]:
    return {e.code: e.nrr for e in element_scores(element_tallies(session, scope))}


def plan_effects(session: Session, plan: FollowUpPlan, today: Optional[dt.date] = None) -> dict[str, Effect]:
    """Per priority element: NRR in the plan's period and in the following period of the same kind."""
    period = plan.period
    unit = plan.unit
    today = today or unit_today(unit)
    before = _nrr_by_code(session, Scope(unit.id, period.start_date, period.end_date))
    span = following(period.kind, period.start_date)
    after: dict[str, Fraction] = {}
    if span is not None and span.start <= today:
        after = _nrr_by_code(session, Scope(unit.id, span.start, span.end))
    return {
        p.element_code: Effect(
            p.element_code,
            before.get(p.element_code, p.nrr),
            after.get(p.element_code),
            span.name if span else None,
            bool(span and span.end < today),
        )
        for p in plan.priorities
    }


@dataclass
class PlanSummary:
    plan: FollowUpPlan
    share: Share
    overdue: int


def unit_plans(session: Session, unit: Unit, today: Optional[dt.date] = None) -> list[PlanSummary]:
    """The unit's plans across periods, newest period first."""
    today = today or unit_today(unit)
    plans = session.scalars(
        select(FollowUpPlan).join(Period).where(FollowUpPlan.unit_id == unit.id)
        .order_by(Period.start_date.desc(), Period.id.desc())
    ).all()
    return [
        PlanSummary(p, share_done(p.actions), sum(1 for a in p.actions if is_overdue(a, today)))
        for p in plans
    ]


@dataclass
class PeriodRow:
    period: Period
    results: object  # skm.results.Results
    plan: Optional[FollowUpPlan]


def unit_periods(session: Session, unit: Unit) -> list[PeriodRow]:
    """Every period (newest first) with the unit's results and its plan, if any."""
    periods = session.scalars(select(Period).order_by(Period.start_date.desc(), Period.id.desc())).all()
    plans = {p.period_id: p for p in session.scalars(select(FollowUpPlan).where(FollowUpPlan.unit_id == unit.id))}
    return [PeriodRow(p, period_results(session, unit, p, with_profile=False), plans.get(p.id)) for p in periods]


# --------------------------------------------------------------------------- photos


def check_upload_name(filename: Optional[str]) -> str:
    """The client's file name is never used as a path, but a name that tries to
    climb directories marks a forged request: refuse it."""
    name = filename or ""
    if (not name.strip() or len(name) > 255 or "/" in name or "\\" in name or ".." in name
            or any(ord(ch) < 32 for ch in name) or name.startswith(".")):
        raise DomainError("Nama berkas tidak valid.")
    return name


@dataclass
class EncodedImage:
    data: bytes
    thumb: bytes
    ext: str
    mime: str
    width: int
    height: int


def encode_photo(data: bytes, max_bytes: int = DEFAULT_MAX_PHOTO_BYTES) -> EncodedImage:
    """Check by content (not by name) that this is a JPEG, PNG or WebP image, then
    re-encode it (JPEG, or PNG when it has transparency) without its metadata,
    scaled to at most MAX_PHOTO_EDGE, plus a thumbnail."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > max_bytes:
        raise DomainError(f"Foto terlalu besar (maksimal {max_bytes // (1024 * 1024)} MB).")
    if not data:
        raise DomainError("Berkas foto kosong.")
    try:
        probe = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError):
        raise DomainError("Berkas bukan gambar JPEG, PNG atau WebP.") from None
    if probe.format not in PHOTO_FORMATS:
        raise DomainError("Format gambar harus JPEG, PNG atau WebP.")
    width, height = probe.size
    if width < 1 or height < 1 or width * height > MAX_PHOTO_PIXELS:
        raise DomainError("Ukuran gambar (piksel) terlalu besar.")
    try:
        probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
        image = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001  Pillow raises many kinds on damaged files
        raise DomainError("Berkas gambar rusak atau tidak lengkap.") from None
    alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if alpha else "RGB")
    image.thumbnail((MAX_PHOTO_EDGE, MAX_PHOTO_EDGE))
    thumb = image.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE))

    def save(img) -> bytes:
        out = io.BytesIO()
        if alpha:
            img.save(out, "PNG", optimize=True)
        else:
            img.save(out, "JPEG", quality=85, optimize=True)
        return out.getvalue()

    return EncodedImage(save(image), save(thumb), "png" if alpha else "jpg",
                        "image/png" if alpha else "image/jpeg", image.width, image.height)


def photo_dir(upload_root: str, unit_id: int) -> str:
    return os.path.join(upload_root, "rtl", str(int(unit_id)))


def photo_path(upload_root: str, photo: FollowUpPhoto, thumb: bool = False) -> str:
    """Absolute path of a stored photo; refuses any name that is not one we generated."""
    name = photo.thumb_name if thumb else photo.file_name
    if not PHOTO_NAME.match(name):
        raise DomainError("Nama berkas tidak valid.")
    folder = os.path.realpath(photo_dir(upload_root, photo.unit_id))
    path = os.path.realpath(os.path.join(folder, name))
    if os.path.dirname(path) != folder:
        raise DomainError("Nama berkas tidak valid.")
    return path


def _write_new(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def add_photo(session: Session, action: FollowUpAction, user: Optional[User], data: bytes,
              filename: Optional[str], caption: str, upload_root: str,
              max_bytes: int = DEFAULT_MAX_PHOTO_BYTES) -> FollowUpPhoto:
    """Store a documentation photo under <upload_root>/rtl/<unit_id>/ with a random name."""
    plan = action.priority.plan
    if not plan.final:
        raise DomainError("Foto dokumentasi dapat diunggah setelah RTL ditandai final.")
    check_upload_name(filename)
    caption = _clean(caption, "Keterangan foto", MAX_CAPTION)
    encoded = encode_photo(data, max_bytes)
    folder = photo_dir(upload_root, plan.unit_id)
    os.makedirs(folder, mode=0o750, exist_ok=True)
    token = secrets.token_hex(16)
    photo = FollowUpPhoto(
        unit_id=plan.unit_id, file_name=f"{token}.{encoded.ext}", thumb_name=f"{token}_t.{encoded.ext}",
        mime_type=encoded.mime, width=encoded.width, height=encoded.height, size_bytes=len(encoded.data),
        caption=caption, uploaded_by_id=user.id if user else None,
    )
    _write_new(photo_path(upload_root, photo), encoded.data)
    _write_new(photo_path(upload_root, photo, thumb=True), encoded.thumb)
    action.photos.append(photo)
    try:
        session.flush()
    except Exception:
        _remove_photo_files(upload_root, photo)
        raise
    _log(session, plan, user, "photo", None, caption or photo.file_name, action)
    session.flush()
    return photo


def _remove_photo_files(upload_root: str, photo: FollowUpPhoto) -> None:
    for thumb in (False, True):
        try:
            os.remove(photo_path(upload_root, photo, thumb))
        except (OSError, DomainError):
            pass


def delete_photo(session: Session, photo: FollowUpPhoto, user: Optional[User], upload_root: str) -> None:
    action = photo.action
    _log(session, action.priority.plan, user, "photo", photo.caption or photo.file_name, None, action)
    action.photos.remove(photo)
    session.flush()
    _remove_photo_files(upload_root, photo)


# --------------------------------------------------------------------------- report data


def followup_report_data(session: Session, plan: FollowUpPlan, upload_root: Optional[str] = None,
                         today: Optional[dt.date] = None) -> dict:
    """Everything the follow-up report (Laporan Hasil Tindak Lanjut) needs, as plain data.

    The period's results table (chapter II) comes from skm.results.period_results.
    Numbers are exact Fractions (format with the `num` filter / formatting.number_id);
    dates are datetime.date. Shape::

        {
          "unit":   {"id", "code", "name", "city", "head_name", "head_position",
                     "head_rank", "head_nip"},
          "period": {"id", "name", "kind", "start_date", "end_date"},
          "plan":   {"id", "forum_date": date|None, "final": bool,
                     "finalized_at": datetime|None (UTC), "created_at": datetime (UTC)},
          "priorities": [            # lowest NRR first
            {"code": "U3", "name": "Waktu penyelesaian",
             "nrr": Fraction|None,   # NRR when the plan was made
             "grade": "C", "kinerja": "Kurang Baik",
             "source": "lowest" | "grade" | "manual",
             "actions": [<action>, ...]}
          ],
          "actions": [<action>, ...],  # all actions, in priority then plan order
          "share": {"done": int, "total": int, "percent": Fraction|None,
                    "percent_label": "100%", "text": "3 dari 3 RTL telah ditindaklanjuti (100%)"},
          "not_done": [<action>, ...],  # the actions with status "belum"
        }

    where <action> is::

        {"id", "priority_code", "priority_name", "program": str,
         "year": int, "quarters": [1, 3], "schedule": "TW 1, TW 3 2024",
         "pic": str,                      # penanggung jawab of the plan
         "status": "sudah" | "belum", "status_label": "Sudah" | "Belum",
         "realization": str, "done_start": date|None, "done_end": date|None,
         "when": "4 Juni 2025" | "1 Juni s.d. 5 Juni 2025" | "",
         "obstacles": str,
         "overdue": bool,                 # scheduled quarters over and still Belum
         "pending_reason": str, "strategy": str, "target_date": date|None,
         "pending_pic": str,              # filled when status is "belum"
         "effect": {"before": Fraction|None, "after": Fraction|None,
                    "following_name": str|None, "following_complete": bool},
         "photos": [{"caption": str, "width": int, "height": int, "mime_type": str,
                     "relative_path": "rtl/<unit_id>/<name>.jpg",
                     "relative_thumb_path": "rtl/<unit_id>/<name>_t.jpg",
                     "path": absolute path or None,        # None unless upload_root given
                     "thumb_path": absolute path or None}]}
    """
    unit = plan.unit
    period = plan.period
    today = today or unit_today(unit)
    effects = plan_effects(session, plan, today)

    def photo_data(photo: FollowUpPhoto) -> dict:
        return {
            "caption": photo.caption, "width": photo.width, "height": photo.height, "mime_type": photo.mime_type,
            "relative_path": f"rtl/{photo.unit_id}/{photo.file_name}",
            "relative_thumb_path": f"rtl/{photo.unit_id}/{photo.thumb_name}",
            "path": photo_path(upload_root, photo) if upload_root else None,
            "thumb_path": photo_path(upload_root, photo, thumb=True) if upload_root else None,
        }

    def action_data(priority: FollowUpPriority, a: FollowUpAction) -> dict:
        e = effects.get(priority.element_code)
        return {
            "id": a.id, "priority_code": priority.element_code, "priority_name": priority.element_name,
            "program": a.program, "year": a.year, "quarters": a.quarters, "schedule": schedule_label(a),
            "pic": a.pic, "status": a.status, "status_label": STATUS_LABELS[a.status],
            "realization": a.realization, "done_start": a.done_start, "done_end": a.done_end,
            "when": when_label(a), "obstacles": a.obstacles, "overdue": is_overdue(a, today),
            "pending_reason": a.pending_reason, "strategy": a.strategy, "target_date": a.target_date,
            "pending_pic": a.pending_pic,
            "effect": {"before": e.before if e else None, "after": e.after if e else None,
                       "following_name": e.following_name if e else None,
                       "following_complete": e.following_complete if e else False},
            "photos": [photo_data(ph) for ph in a.photos],
        }

    priorities = []
    actions = []
    for p in plan.priorities:
        acts = [action_data(p, a) for a in p.actions]
        actions.extend(acts)
        grade = p.grade or (grade_for_nrr(p.nrr) if p.nrr is not None else "")
        priorities.append({
            "code": p.element_code, "name": p.element_name, "nrr": p.nrr, "grade": grade,
            "kinerja": KINERJA.get(grade, ""), "source": p.source, "actions": acts,
        })
    share = share_done(plan.actions)
    return {
        "unit": {k: getattr(unit, k) for k in ("id", "code", "name", "city", "head_name", "head_position",
                                                "head_rank", "head_nip")},
        "period": {k: getattr(period, k) for k in ("id", "name", "kind", "start_date", "end_date")},
        "plan": {"id": plan.id, "forum_date": plan.forum_date, "final": plan.final,
                 "finalized_at": plan.finalized_at, "created_at": plan.created_at},
        "priorities": priorities,
        "actions": actions,
        "share": {"done": share.done, "total": share.total, "percent": share.percent,
                  "percent_label": share.percent_label, "text": share.text},
        "not_done": [a for a in actions if a["status"] == "belum"],
    }
