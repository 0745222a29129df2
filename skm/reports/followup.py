"""Laporan Hasil Tindak Lanjut: plain data for templates/reports/tindak_lanjut.html.

Built on skm.followup.followup_report_data (the RTL module) and skm.results for the
results table, formatted the Indonesian way. No Flask import.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy.orm import Session

from skm.core.clock import unit_today
from skm.core.formatting import date_id, date_range_id, number_id
from skm.followup.progress import share_done
from skm.followup.report_data import followup_report_data
from skm.models import FollowUpPlan, Period, Unit
from skm.reports.data import element_rows, paragraphs, signature, summary, unit_header
from skm.reports.texts import stored_texts
from skm.scoring.results import period_results

# Printed photo box (points): photos keep their aspect ratio inside it.
PHOTO_MAX_W = 230
PHOTO_MAX_H = 170


def default_followup_intro(unit: Unit, period: Period, forum_date: Optional[dt.date]) -> str:
    forum = (f" Rencana tindak lanjut dibahas dalam Forum Konsultasi Publik pada {date_id(forum_date)}."
             if forum_date else "")
    return (
        f"Survei Kepuasan Masyarakat (SKM) {unit.name} periode {period.name} menghasilkan nilai per unsur "
        f"pelayanan yang menunjukkan unsur-unsur yang masih perlu diperbaiki. Sesuai Peraturan Menteri "
        f"Pendayagunaan Aparatur Negara dan Reformasi Birokrasi Nomor 14 Tahun 2017, hasil SKM wajib "
        f"ditindaklanjuti dengan rencana tindak lanjut (RTL) dan realisasinya dilaporkan.{forum}\n\n"
        f"Laporan ini menguraikan rencana tindak lanjut, realisasinya, serta kesimpulan dan strategi "
        f"untuk tindak lanjut yang belum terlaksana."
    )


def _photo(p: dict) -> dict:
    w, h = max(1, p["width"] or 1), max(1, p["height"] or 1)
    scale = min(PHOTO_MAX_W / w, PHOTO_MAX_H / h)
    return {"uri": "/uploads/" + p["relative_path"], "caption": p["caption"] or "",
            "width": int(w * scale), "height": int(h * scale)}


def _action(a: dict) -> dict:
    return {
        "code": a["priority_code"], "element": a["priority_name"], "program": a["program"],
        "tw": [q in a["quarters"] for q in (1, 2, 3, 4)], "year": a["year"], "schedule": a["schedule"],
        "pic": a["pic"], "done": a["status"] == "sudah", "status": a["status_label"],
        "realization": paragraphs(a["realization"]), "when": a["when"], "obstacles": paragraphs(a["obstacles"]),
        "pending_reason": paragraphs(a["pending_reason"]), "strategy": paragraphs(a["strategy"]),
        "target_date": date_id(a["target_date"]) if a["target_date"] else "–",
        "pending_pic": a["pending_pic"] or a["pic"],
        "photos": [_photo(p) for p in a["photos"]],
    }


def followup_context(session: Session, unit: Unit, plan: FollowUpPlan, today: Optional[dt.date] = None,
                     upload_root: Optional[str] = None, choice=None) -> dict:
    today = today or unit_today(unit)
    data = followup_report_data(session, plan, upload_root=upload_root, today=today)
    period = plan.period
    results = period_results(session, unit, period, with_profile=False)
    actions = [_action(a) for a in data["actions"]]
    # Figures are numbered once, in the order of the actions; Bab III refers to them by number
    # and Lampiran 1 (Dokumentasi) prints them with the same "Gambar n. caption".
    figures: list[dict] = []
    for a in actions:
        for ph in a["photos"]:
            ph["number"] = len(figures) + 1
            ph["label"] = f"Gambar {ph['number']}. {ph['caption'] or a['program']}"
            ph["action"] = f"{a['code']} – {a['program']}"
            figures.append(ph)
    followed: list[str] = []
    for a in actions:
        if a["done"] and f"{a['code']} {a['element']}" not in followed:
            followed.append(f"{a['code']} {a['element']}")
    share = share_done(plan.actions)
    return {
        "unit": unit_header(unit),
        "period": period.name,
        "period_range": date_range_id(period.start_date, period.end_date),
        "year": period.end_date.year,  # the surveyed period's year, not the printing year
        "report_date": date_id(today),
        # Bab I: the unit's own text (skm.reports.texts), else the default naming period and forum.
        "intro": paragraphs(stored_texts(session, unit)["tl_intro"])
        or paragraphs(default_followup_intro(unit, period, data["plan"]["forum_date"])),
        "forum_date": date_id(data["plan"]["forum_date"]) if data["plan"]["forum_date"] else None,
        "final": data["plan"]["final"],
        "summary": summary(results),
        "elements": element_rows(results),
        "priorities": [{"code": p["code"], "name": p["name"],
                        "nrr": number_id(p["nrr"]) if p["nrr"] is not None else "–",
                        "grade": p["grade"] or "–", "kinerja": p["kinerja"] or "–",
                        "actions": [_action(a) for a in p["actions"]]} for p in data["priorities"]],
        "actions": actions,
        "share": {"done": share.done, "total": share.total, "percent": share.percent_label, "text": share.text},
        "not_done": [a for a in actions if not a["done"]],
        "figures": figures,
        "followed_elements": followed,
        "signature": signature(unit, today, choice),
    }
