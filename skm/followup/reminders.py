"""Reminders about overdue RTL actions, kept current by the queue worker.

There is no e-mail: a reminder is a row (FollowUpReminder) the unit's RTL pages list under
"Pengingat RTL terlambat" until the action is reported done (or its schedule moves so it
is no longer overdue). The daily run (skm.queue: hourly, idempotent per unit day, and once
when a worker starts) opens a reminder for each newly overdue action, counts the days an
open one has been reminded, and resolves those no longer overdue. "Overdue" is
skm.followup.progress.is_overdue, the rule every RTL page and report uses.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from skm.core.clock import unit_today, utcnow
from skm.core.database import serialize_run
from skm.followup.progress import is_overdue
from skm.models import FollowUpAction, FollowUpPlan, FollowUpPriority, FollowUpReminder, Unit


def remind_overdue(session: Session, now_utc: Optional[dt.datetime] = None) -> tuple[int, int]:
    """Open, advance and resolve the reminders (flush only); (opened, resolved)."""
    serialize_run(session, 7514003)  # several workers: one run at a time, no reminder twice
    opened = resolved = 0
    open_rows = {r.action_id: r for r in session.scalars(
        select(FollowUpReminder).where(FollowUpReminder.resolved_at.is_(None))).all()}
    rows = session.execute(
        select(FollowUpAction, Unit)
        .join(FollowUpPriority, FollowUpPriority.id == FollowUpAction.priority_id)
        .join(FollowUpPlan, FollowUpPlan.id == FollowUpPriority.plan_id)
        .join(Unit, Unit.id == FollowUpPlan.unit_id)
        .order_by(FollowUpAction.id)
    ).all()
    for action, unit in rows:
        today = unit_today(unit, now_utc)
        reminder = open_rows.pop(action.id, None)
        if is_overdue(action, today):
            if reminder is None:
                session.add(FollowUpReminder(action_id=action.id, unit_id=unit.id, first_on=today, last_on=today,
                                             days=1))
                opened += 1
            elif reminder.last_on < today:
                reminder.last_on, reminder.days = today, reminder.days + 1
        elif reminder is not None:
            reminder.resolved_at = now_utc or utcnow()
            resolved += 1
    for reminder in open_rows.values():  # its action is gone
        reminder.resolved_at = now_utc or utcnow()
        resolved += 1
    session.flush()
    return opened, resolved


def open_reminders(session: Session, unit: Unit) -> list[FollowUpReminder]:
    """The unit's open reminders, the longest overdue first."""
    return list(session.scalars(
        select(FollowUpReminder).where(FollowUpReminder.unit_id == unit.id, FollowUpReminder.resolved_at.is_(None))
        .order_by(FollowUpReminder.first_on, FollowUpReminder.id)).all())


def remind_task(app) -> tuple[int, int]:
    """Queue task (skm.queue): the daily reminder run, committed."""
    from skm.extensions import db

    result = remind_overdue(db.session())
    db.session.commit()
    return result
