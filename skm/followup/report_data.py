"""Plain data for the follow-up report and for the results report's chapter IV."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy.orm import Session

from skm.core.clock import unit_today
from skm.followup.common import STATUS_LABELS, schedule_label, when_label
from skm.followup.photos import photo_path
from skm.followup.plans import plan_for
from skm.followup.progress import is_overdue, plan_effects, share_done
from skm.models import (
    FollowUpAction,
    FollowUpPhoto,
    FollowUpPlan,
    FollowUpPriority,
    Period,
    Unit,
)
from skm.scoring.ikm import KINERJA, grade_for_nrr

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


def plan_rows(session: Session, unit: Unit, period: Period) -> Optional[list[dict]]:
    """The period's plan as rows for the results report's chapter IV (None when no plan)."""
    plan = plan_for(session, unit.id, period.id)
    if plan is None or not plan.actions:
        return None
    return [{"element": f"{p.element_code} {p.element_name}", "action": a.program, "pj": a.pic}
            for p in plan.priorities for a in p.actions]


def plan_actions_by_element(session: Session, unit: Unit, period: Period) -> dict[str, list[str]]:
    """The programs of the period's plan per element code (prefills the results report's
    recommendation per weak element); {} without a plan."""
    plan = plan_for(session, unit.id, period.id)
    if plan is None:
        return {}
    return {p.element_code: [a.program for a in p.actions] for p in plan.priorities if p.actions}
