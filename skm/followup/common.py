"""What the follow-up modules share: who may edit, limits, labels, the change log.

Plain functions, no Flask. They flush, never commit; the caller commits once.
Refusals raise DomainError with a message in Bahasa Indonesia.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Optional

from sqlalchemy.orm import Session

from skm.core.clock import utcnow
from skm.core.errors import DomainError
from skm.core.formatting import date_id, date_range_id
from skm.models import (
    FollowUpAction,
    FollowUpHistory,
    FollowUpPlan,
    User,
)

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
    "photo_public": "Foto ditampilkan untuk publik",
}
STATUS_LABELS = {"sudah": "Sudah", "belum": "Belum"}


# --------------------------------------------------------------------------- helpers


def can_edit(user: User, unit_id: int) -> bool:
    """Managers of the unit and admins may plan and mark; operators only read."""
    return user.role in EDIT_ROLES and user.can_access_unit(unit_id)


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
