"""Rekapitulasi IKM: every unit of the installation side by side for one period.

Per unit: respondents against the minimum sample (skm.scoring.sample_size, by the
unit's population for the period), IKM, mutu, the share of the period's follow-up
actions done and the overdue ones. Two installation figures, each labelled with how it
is computed:
- the mean of the unit IKMs (each unit with data counts once, whatever its size), and
- the IKM over all respondents of all units: per element code, the ratings of every
  unit pooled (sum ÷ count), then weight 1/n and × 25 through skm.scoring.ikm.score.
Both are exact Fractions; rounding happens only for display.

Figures come from skm.scoring.results.period_results, so whatever the results leave out
(excluded or quarantined responses) is left out here too. No Flask at module level.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from skm.core.clock import unit_today
from skm.core.formatting import date_id, date_range_id, integer_id, number_id
from skm.followup.progress import is_overdue, share_done
from skm.models import FollowUpPlan, Period, Unit
from skm.scoring.ikm import ElementTally, Scores, score
from skm.scoring.results import period_results
from skm.survey.publication import published_pairs

SORT_KEYS = {
    "unit": "Unit",
    "responden": "Responden",
    "sampel": "Kecukupan sampel",
    "ikm": "IKM",
    "rtl": "RTL terlaksana",
    "terlambat": "RTL terlambat",
}
LABEL_MEAN = "Rata-rata IKM unit (setiap unit berbobot sama)"
LABEL_POOLED = "IKM seluruh responden semua unit (dihitung ulang per unsur)"


@dataclass
class RecapRow:
    unit_id: int
    code: str
    name: str
    respondents: int
    ikm: Optional[Fraction]
    grade: Optional[str]
    kinerja: Optional[str]
    population: Optional[int]
    needed: Optional[int]  # minimum sample (Krejcie–Morgan)
    rtl_done: int
    rtl_total: int
    overdue: int
    closed: bool
    published: bool
    has_plan: bool

    @property
    def enough(self) -> Optional[bool]:
        return None if self.needed is None else self.respondents >= self.needed

    @property
    def sample_ratio(self) -> Optional[Fraction]:
        return Fraction(self.respondents, self.needed) if self.needed else None

    @property
    def rtl_share(self) -> Optional[Fraction]:
        return Fraction(100 * self.rtl_done, self.rtl_total) if self.rtl_total else None


@dataclass
class Recap:
    period: Period
    rows: list[RecapRow]
    mean_ikm: Optional[Fraction]  # mean of the unit IKMs
    mean_units: int  # units with data in that mean
    pooled: Scores  # IKM over all respondents of all units

    @property
    def respondents(self) -> int:
        return sum(r.respondents for r in self.rows)


def _sort_value(row: RecapRow, key: str) -> Any:
    return {
        "unit": row.name.lower(),
        "responden": row.respondents,
        "sampel": row.sample_ratio,
        "ikm": row.ikm,
        "rtl": row.rtl_share,
        "terlambat": row.overdue,
    }[key]


def sort_rows(rows: Sequence[RecapRow], key: str = "unit", descending: bool = False) -> list[RecapRow]:
    """Sorted by a SORT_KEYS column; rows without a value go last either way."""
    if key not in SORT_KEYS:
        key = "unit"
    present = [r for r in rows if _sort_value(r, key) is not None]
    missing = [r for r in rows if _sort_value(r, key) is None]
    present.sort(key=lambda r: (_sort_value(r, key), r.name.lower()), reverse=descending)
    return present + sorted(missing, key=lambda r: r.name.lower())


def pooled_scores(tallies_by_unit: Sequence[Sequence[ElementTally]], respondents: int) -> Scores:
    """The IKM of all units' respondents together: tallies merged by element code."""
    merged: dict[str, list] = {}
    for tallies in tallies_by_unit:
        for t in tallies:
            entry = merged.setdefault(t.code, [t.name, 0, 0, t.position])
            entry[1] += t.count
            entry[2] += t.total
            entry[3] = min(entry[3], t.position)
    tallies = sorted((ElementTally(code, name, count, total, position=pos)
                      for code, (name, count, total, pos) in merged.items()), key=lambda t: (t.position, t.code))
    return score(tallies, respondents)


def installation_recap(session: Session, period: Period, units: Optional[Sequence[Unit]] = None,
                       sort: str = "unit", descending: bool = False,
                       today: Optional[dt.date] = None) -> Recap:
    """Every unit (or the given ones) for one period, with both installation figures."""
    if units is None:
        units = list(session.scalars(select(Unit).order_by(Unit.name, Unit.id)))
    plans = {p.unit_id: p for p in session.scalars(select(FollowUpPlan).where(FollowUpPlan.period_id == period.id))}
    published = published_pairs(session, [u.id for u in units])
    from skm.survey.period_admin import period_unit

    rows, tallies = [], []
    for unit in units:
        results = period_results(session, unit, period, with_profile=False)
        s = results.scores
        tallies.append([ElementTally(e.code, e.name, e.count, e.total, position=e.position) for e in s.elements])
        plan = plans.get(unit.id)
        actions = plan.actions if plan is not None else []
        share = share_done(actions)
        day = today or unit_today(unit)
        state = period_unit(session, period, unit)
        sample = results.sample or {}
        rows.append(RecapRow(
            unit_id=unit.id, code=unit.code, name=unit.name, respondents=s.respondents, ikm=s.ikm,
            grade=s.grade, kinerja=s.kinerja, population=sample.get("population"), needed=sample.get("needed"),
            rtl_done=share.done, rtl_total=share.total, overdue=sum(1 for a in actions if is_overdue(a, day)),
            closed=bool(state is not None and state.closed_at is not None),
            published=(unit.id, period.id) in published, has_plan=plan is not None,
        ))
    with_data = [r.ikm for r in rows if r.ikm is not None]
    mean = sum(with_data, Fraction(0)) / len(with_data) if with_data else None
    pooled = pooled_scores(tallies, sum(r.respondents for r in rows))
    return Recap(period, sort_rows(rows, sort, descending), mean, len(with_data), pooled)


# --------------------------------------------------------------------------- display


def _grade_text(ikm: Optional[Fraction], grade: Optional[str], kinerja: Optional[str]) -> dict:
    return {"ikm": number_id(ikm) if ikm is not None else "–", "grade": grade or "–", "kinerja": kinerja or "–"}


def recap_table(recap: Recap) -> dict:
    """The recap as display strings (screen and PDF)."""
    rows = []
    for r in recap.rows:
        rows.append({
            "unit_id": r.unit_id, "code": r.code, "name": r.name,
            "respondents": integer_id(r.respondents),
            "needed": integer_id(r.needed) if r.needed is not None else "–",
            "population": integer_id(r.population) if r.population is not None else "–",
            "enough": r.enough,
            "sample_text": ("–" if r.needed is None else
                            "cukup" if r.enough else f"kurang {integer_id(r.needed - r.respondents)}"),
            **_grade_text(r.ikm, r.grade, r.kinerja),
            "rtl": (f"{r.rtl_done} dari {r.rtl_total} ({number_id(r.rtl_share, 0)}%)" if r.rtl_total
                    else ("0 rencana aksi" if r.has_plan else "belum ada RTL")),
            "overdue": integer_id(r.overdue) if r.has_plan else "–",
            "status": ("dipublikasikan" if r.published else "ditutup") if r.closed else "terbuka",
        })
    p = recap.pooled
    return {
        "period": recap.period.name,
        "period_range": date_range_id(recap.period.start_date, recap.period.end_date),
        "rows": rows,
        "units": integer_id(len(recap.rows)),
        "respondents": integer_id(recap.respondents),
        "mean": {"label": LABEL_MEAN, "units": integer_id(recap.mean_units),
                 **_grade_text(recap.mean_ikm, _grade_of(recap.mean_ikm), _kinerja_of(recap.mean_ikm))},
        "pooled": {"label": LABEL_POOLED, "respondents": integer_id(p.respondents),
                   "elements": len(p.elements), **_grade_text(p.ikm, p.grade, p.kinerja)},
    }


def _grade_of(ikm: Optional[Fraction]) -> Optional[str]:
    from skm.scoring.ikm import grade_for_ikm

    return grade_for_ikm(ikm) if ikm is not None else None


def _kinerja_of(ikm: Optional[Fraction]) -> Optional[str]:
    from skm.scoring.ikm import KINERJA

    grade = _grade_of(ikm)
    return KINERJA[grade] if grade else None


def recap_xlsx(recap: Recap) -> bytes:
    """One sheet, one row per unit; figures are number cells (unrounded, displayed at 2 decimals)."""
    from openpyxl import Workbook

    from skm.reports.exports import BOLD, _save, _text_cell
    from skm.reports.workbooks import _num_cell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Rekapitulasi IKM")
    for col, width in zip("ABCDEFGHIJKLMN", (12, 36, 12, 12, 12, 10, 10, 14, 14, 12, 10, 10, 12, 16)):
        ws.column_dimensions[col].width = width
    ws.append([_text_cell(ws, f"Rekapitulasi IKM – periode {recap.period.name}", font=BOLD)])
    ws.append([_text_cell(ws, date_range_id(recap.period.start_date, recap.period.end_date))])
    ws.append([])
    ws.append([_text_cell(ws, h, font=BOLD) for h in (
        "Kode", "Unit", "Responden", "Populasi", "Sampel minimal", "Cukup", "IKM", "Mutu", "Kinerja",
        "RTL terlaksana", "RTL total", "% RTL", "RTL terlambat", "Status periode")])
    for r in recap.rows:
        ws.append([
            _text_cell(ws, r.code), _text_cell(ws, r.name), _num_cell(ws, r.respondents, "0"),
            _num_cell(ws, r.population, "0") if r.population is not None else None,
            _num_cell(ws, r.needed, "0") if r.needed is not None else None,
            _text_cell(ws, "" if r.enough is None else ("ya" if r.enough else "tidak")),
            _num_cell(ws, float(r.ikm)) if r.ikm is not None else None,
            _text_cell(ws, r.grade or ""), _text_cell(ws, r.kinerja or ""),
            _num_cell(ws, r.rtl_done, "0"), _num_cell(ws, r.rtl_total, "0"),
            _num_cell(ws, float(r.rtl_share) / 100, "0.00%") if r.rtl_share is not None else None,
            _num_cell(ws, r.overdue, "0"),
            _text_cell(ws, ("dipublikasikan" if r.published else "ditutup") if r.closed else "terbuka"),
        ])
    ws.append([])
    for label, value, grade in ((LABEL_MEAN, recap.mean_ikm, _grade_of(recap.mean_ikm)),
                                (LABEL_POOLED, recap.pooled.ikm, recap.pooled.grade)):
        ws.append([None, _text_cell(ws, label, font=BOLD), None, None, None, None,
                   _num_cell(ws, float(value)) if value is not None else None, _text_cell(ws, grade or "")])
    return _save(wb)


def recap_pdf(recap: Recap, today: dt.date) -> bytes:
    """The printable "Rekapitulasi IKM" (landscape), through skm.reports.render (needs an app context)."""
    from skm.reports.render import finish_pdf, render_pdf

    body = render_pdf("reports/rekapitulasi.html", t=recap_table(recap), generated=date_id(today))
    # Every unit's figures: the installation, not one unit, is the author.
    return finish_pdf([body], f"Rekapitulasi IKM {recap.period.name}", "SKM Kiosk")
