""""Anda menyampaikan, kami menindaklanjuti": the realized follow-up actions the public sees.

An action is shown when it is marked Sudah in a final plan whose period the unit has
published (skm.survey.publication); a photo of it only when the unit marked the photo
public. The public page, the lobby poster page and the kiosk's thank-you screen all
take their items from `said_done_items`, so the three cannot disagree.

Plain functions, no Flask; `set_photo_public` flushes, never commits.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from skm.core.clock import utcnow
from skm.core.errors import DomainError
from skm.core.formatting import number_id
from skm.followup.common import _log, can_edit, when_label
from skm.models import FollowUpAction, FollowUpPhoto, FollowUpPlan, FollowUpPriority, Unit, User
from skm.survey.publication import published_pairs


@dataclass
class SaidDoneItem:
    action_id: int
    unit_id: int
    unit_code: str
    unit_name: str
    period_name: str
    element_code: str
    element_name: str
    nrr: str  # the element's NRR when the plan was made, as displayed
    program: str
    what: str
    when: str
    done_on: Optional[dt.date]
    photos: list[dict] = field(default_factory=list)  # {"id", "caption"} of public photos only


def said_done_items(session: Session, unit: Optional[Unit] = None) -> list[SaidDoneItem]:
    """Realized actions of published periods (of one unit or all), most recently done first."""
    pairs = published_pairs(session, [unit.id] if unit is not None else None)
    if not pairs:
        return []
    plans = [p for p in session.scalars(select(FollowUpPlan).where(
        FollowUpPlan.final.is_(True), FollowUpPlan.unit_id.in_({u for u, _p in pairs})))
        if (p.unit_id, p.period_id) in pairs]
    items = []
    for plan in plans:
        for priority in plan.priorities:
            for action in priority.actions:
                if not action.done:
                    continue
                items.append(SaidDoneItem(
                    action_id=action.id, unit_id=plan.unit_id, unit_code=plan.unit.code,
                    unit_name=plan.unit.name, period_name=plan.period.name,
                    element_code=priority.element_code, element_name=priority.element_name,
                    nrr=number_id(priority.nrr) if priority.nrr is not None else "–",
                    program=action.program, what=action.realization or action.program,
                    when=when_label(action), done_on=action.done_end or action.done_start,
                    photos=[{"id": ph.id, "caption": ph.caption} for ph in action.photos if ph.public],
                ))
    items.sort(key=lambda i: (i.done_on or dt.date.min, i.action_id), reverse=True)
    return items


def rotating_item(session: Session, unit: Unit, now: Optional[dt.datetime] = None,
                  seconds: int = 60) -> Optional[SaidDoneItem]:
    """One of the unit's items, a different one every `seconds` (lobby poster, kiosk thank-you)."""
    items = said_done_items(session, unit)
    if not items:
        return None
    stamp = int(((now or utcnow()) - dt.datetime(2000, 1, 1)).total_seconds()) // max(1, seconds)
    return items[stamp % len(items)]


def public_photo(session: Session, photo_id: int) -> Optional[FollowUpPhoto]:
    """The photo, if the public may see it: marked public, of an action shown publicly."""
    photo = session.get(FollowUpPhoto, photo_id)
    if photo is None or not photo.public:
        return None
    action = photo.action
    plan = action.priority.plan
    if not (action.done and plan.final):
        return None
    if (plan.unit_id, plan.period_id) not in published_pairs(session, [plan.unit_id]):
        return None
    return photo


def set_photo_public(session: Session, photo: FollowUpPhoto, user: User, public: bool) -> None:
    """Mark a documentation photo public (or not); recorded in the plan's history."""
    if not can_edit(user, photo.unit_id):
        raise DomainError("Anda tidak berhak mengubah foto ini.")
    if photo.public == public:
        return
    action: FollowUpAction = photo.action
    priority: FollowUpPriority = action.priority
    _log(session, priority.plan, user, "photo_public", "ya" if photo.public else "tidak",
         "ya" if public else "tidak", action)
    photo.public = public
    session.flush()
