"""Follow-up plans (RTL): proposing priorities, creating, editing, finalizing and reopening a plan.

Plain functions, no Flask. They flush, never commit; the caller commits once.
Refusals raise DomainError with a message in Bahasa Indonesia.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from skm.core.clock import utcnow
from skm.core.errors import DomainError
from skm.core.formatting import date_id, tie_text
from skm.followup.common import _log, _require_editable
from skm.followup.photos import _remove_photo_files
from skm.models import (
    FollowUpPlan,
    FollowUpPriority,
    Period,
    Unit,
    User,
)
from skm.scoring.ikm import ElementScore, by_nrr, lowest_elements
from skm.scoring.results import period_results

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
    tie: str = ""  # for elements tied at the cut-off: "U5, U7 dan U8 sama-sama bernilai 3,500"


def propose_priorities(elements: Sequence[ElementScore], n: int = 3) -> list[Proposal]:
    """The n lowest elements by NRR, every element tied at the cut-off included
    (skm.scoring.ikm.lowest_elements), plus every element graded C or D, lowest first."""
    lowest = lowest_elements(elements, n)
    in_lowest = set(lowest.codes)
    tied = {e.code for e in lowest.tied}
    tie = tie_text(lowest)
    chosen = []
    for e in by_nrr(elements):
        if e.code in in_lowest:
            source = "lowest"
        elif e.grade in ("C", "D"):
            source = "grade"
        else:
            continue
        chosen.append(Proposal(e.code, e.name, e.nrr, e.grade, e.position, e.total, e.count, source,
                               tie=tie if e.code in tied else ""))
    return chosen


def priority_choices(session: Session, unit: Unit, period: Period) -> list[Proposal]:
    """Every element of the period's results (lowest first), the proposed ones marked."""
    results = period_results(session, unit, period, with_profile=False)
    proposed = {p.code: p for p in propose_priorities(results.scores.elements, unit.rtl_priority_count)}
    out = []
    for e in by_nrr(results.scores.elements):
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
    unit = session.get_one(Unit, plan.unit_id)
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


def plans_for_unit(session: Session, unit: Unit) -> list[dict]:
    plans = session.scalars(
        select(FollowUpPlan).join(Period).where(FollowUpPlan.unit_id == unit.id)
        .order_by(Period.start_date.desc(), FollowUpPlan.id.desc())
    ).all()
    return [{"id": p.id, "label": f"RTL {p.period.name}" + ("" if p.final else " (draf)")} for p in plans]


def plan_for_unit(session: Session, unit: Unit, plan_id: int) -> Optional[FollowUpPlan]:
    plan = session.get(FollowUpPlan, plan_id)
    if plan is None or plan.unit_id != unit.id:
        return None
    return plan
