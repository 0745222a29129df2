"""Printed reports: plain data from skm.results, ready for templates/reports/*.html.

Every figure is formatted here with skm.formatting, from the same Results object the
dashboard and the CLI use, so the printed numbers cannot drift from the screen.
No Flask import; rendering to PDF is skm.pdf's job, template lookup the caller's.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skm.core.clock import unit_today
from skm.core.errors import DomainError
from skm.core.formatting import CHANNEL_LABELS as _CHANNEL_LABELS
from skm.core.formatting import date_id, date_range_id, integer_id, join_id, number_id, percent_id, ranked_text
from skm.followup.report_data import plan_actions_by_element, plan_rows
from skm.models import Period, Response, Service, Unit
from skm.reports import texts as T
from skm.scoring.ikm import KINERJA
from skm.scoring.results import Results, Scope, data_sheet_rows, period_results
from skm.survey.reporting import no_respondents_text, period_respondents, reporting_period

KINDS = {
    "laporan": "Laporan Hasil SKM",
    "pengolahan": "Pengolahan data per responden dan per unsur",
    "poster": "Poster hasil SKM (A4)",
    "poster-a3": "Poster hasil SKM (A3)",
    "kuesioner": "Kuesioner SKM (kosong)",
    "tindak-lanjut": "Laporan Hasil Tindak Lanjut",
}
# Documents made from a period's results: refused for a period without respondents
# (skm.survey.reporting.require_respondents). The blank questionnaire needs none.
RESULT_KINDS = ("laporan", "pengolahan", "poster", "poster-a3")

THANKS = ("Terima kasih atas penilaian yang telah Anda berikan. Masukan Anda sangat berarti "
          "bagi peningkatan kualitas pelayanan kami.")


def default_intro(unit: Unit) -> str:
    """Chapter I when the unit has not written its own."""
    return (
        f"Pelayanan publik yang berkualitas merupakan hak setiap warga negara. Untuk mengetahui "
        f"sejauh mana pelayanan yang diberikan {unit.name} telah memenuhi harapan masyarakat, "
        f"dilaksanakan Survei Kepuasan Masyarakat (SKM) secara berkala.\n\n"
        f"Dasar hukum pelaksanaan survei ini adalah Undang-Undang Nomor 25 Tahun 2009 tentang "
        f"Pelayanan Publik dan Peraturan Menteri Pendayagunaan Aparatur Negara dan Reformasi "
        f"Birokrasi Nomor 14 Tahun 2017 tentang Pedoman Penyusunan Survei Kepuasan Masyarakat "
        f"Unit Penyelenggara Pelayanan Publik.\n\n"
        f"Maksud dan tujuan survei ini adalah mengetahui tingkat kepuasan masyarakat terhadap "
        f"pelayanan yang diberikan, mengetahui kelemahan dan kekuatan setiap unsur pelayanan, "
        f"serta menjadi bahan penyusunan rencana tindak lanjut untuk perbaikan pelayanan."
    )


INTRO_MAX = 20000


def set_intro_text(session: Session, unit: Unit, text: str) -> None:
    """Store the unit's chapter I text (reused by every results report); empty = default."""
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > INTRO_MAX:
        raise DomainError(f"Teks pendahuluan terlalu panjang (maksimal {integer_id(INTRO_MAX)} karakter).")
    unit.intro_text = text
    session.flush()


def paragraphs(text: str) -> list[str]:
    """Split typed text into paragraphs; the template escapes each one."""
    parts = [p.strip() for p in (text or "").replace("\r\n", "\n").split("\n\n")]
    return [p for p in parts if p]


def signature(unit: Unit, on: dt.date, choice=None) -> dict:
    """The signature blocks: the head of the unit (the period's remembered signatories,
    skm.reports.settings.ReportChoice, else the unit's) and the survey officer (Petugas)."""
    head = (choice.head_name, choice.head_position, choice.head_rank, choice.head_nip) if choice else (
        unit.head_name, unit.head_position, unit.head_rank, unit.head_nip)
    return {
        "place": unit.city or "",
        "date": date_id(on),
        "position": head[1] or "Kepala " + unit.name,
        "name": head[0] or "",
        "rank": head[2] or "",
        "nip": head[3] or "",
        "officer_name": choice.officer_name if choice else "",
        "officer_nip": choice.officer_nip if choice else "",
    }


def unit_header(unit: Unit) -> dict:
    logo = None
    if unit.logo_path:
        # skm.unit_settings.store_logo keeps the file name; the file is <uploads>/logos/<name>.
        # pdf.RestrictedLinks resolves /uploads/... only to files inside the upload folder.
        logo = "/uploads/logos/" + unit.logo_path
    return {"code": unit.code, "name": unit.name, "address": unit.address or "", "phone": unit.phone or "",
            "city": unit.city or "", "logo": logo}


def element_rows(results: Results) -> list[dict]:
    return [
        {
            "code": e.code, "name": e.name, "question": e.question,
            "definition": T.element_definition(e.name),
            "count": integer_id(e.count), "total": integer_id(e.total),
            "nrr": number_id(e.nrr), "nrr4": number_id(e.nrr, 4),
            "weighted": number_id(e.weighted_nrr, 3), "grade": e.grade, "kinerja": e.kinerja,
        }
        for e in results.scores.elements
    ]


def summary(results: Results) -> dict:
    s = results.scores
    return {
        "has_data": s.has_data,
        "respondents": integer_id(s.respondents),
        "respondents_raw": s.respondents,
        "ikm": number_id(s.ikm) if s.has_data else "–",
        "ikm_unit": number_id(s.ikm_unit, 4) if s.has_data else "–",
        "weighted_sum": number_id(s.weighted_sum, 3) if s.has_data else "–",
        "grade": s.grade or "–",
        "kinerja": s.kinerja or "–",
        "weight": number_id(s.elements[0].weight, 3) if s.elements else "–",
        "element_count": len(s.elements),
    }


def profile_tables(results: Results) -> list[dict]:
    tables = []
    for key in ("gender", "age", "education", "occupation", "service"):
        b = results.profile.get(key)
        if b is None:
            continue
        tables.append({
            "key": key,
            "label": b.label,
            "total": integer_id(b.total),
            "rows": [
                # `bar` is a whole percentage for the bar chart's cell width.
                {"category": cat, "count": integer_id(count), "pct": percent_id(pct),
                 "bar": max(0, min(100, int(pct))) if count else 0}
                for cat, count, pct in b.rows
            ],
        })
    return tables


def suggestions(session: Session, scope: Scope) -> list[dict]:
    """Suggestions received in the period (not excluded), oldest first, with the service."""
    rows = session.execute(
        select(Response.survey_date, Service.name, Response.suggestion)
        .outerjoin(Service, Service.id == Response.service_id)
        .where(
            Response.unit_id == scope.unit_id,
            Response.survey_date >= scope.start,
            Response.survey_date <= scope.end,
            Response.excluded.is_(False),
            Response.suggestion.is_not(None),
            func.length(func.trim(Response.suggestion)) > 0,
        )
        .order_by(Response.survey_date, Response.id)
    ).all()
    return [{"date": date_id(day), "service": service or "–", "text": (text or "").strip()} for day, service, text in rows]


def weak_element_notes(session: Session, unit: Unit, period: Period, results: Optional[Results] = None) -> list:
    """The analysis and recommendation of the period's lowest elements (ties included), as
    the results report prints them and the Laporan page edits them (skm.reports.texts)."""
    results = results or period_results(session, unit, period, with_profile=False)
    if not results.scores.has_data:
        return []
    lowest = results.lowest(unit.rtl_priority_count or 3)
    return T.element_notes(session, unit, period, list(lowest), plan_actions_by_element(session, unit, period))


def suggestion_groups(items: list[dict], limit: int = 40) -> dict:
    """The suggestions grouped by their text (case and spacing ignored) and counted, most
    frequent first; at most `limit` groups (the appendix lists every suggestion)."""
    groups: dict[str, dict] = {}
    for item in items:
        key = " ".join(item["text"].lower().split()).rstrip(".!")
        g = groups.setdefault(key, {"text": item["text"], "count": 0})
        g["count"] += 1
    ordered = sorted(groups.values(), key=lambda g: -g["count"])
    return {"groups": [{"text": g["text"], "count": integer_id(g["count"])} for g in ordered[:limit]],
            "distinct": integer_id(len(ordered)), "more": integer_id(max(0, len(ordered) - limit)),
            "total": integer_id(len(items))}


def media(session: Session, scope: Scope) -> list[dict]:
    """The channels respondents actually used in the period, with respondents, suggestions
    and (online) how many were made with a one-time ticket."""
    rows = session.execute(
        select(Response.channel, func.count(Response.id),
               func.count(Response.id).filter(func.length(func.trim(func.coalesce(Response.suggestion, ""))) > 0),
               func.count(Response.ticket_id))
        .where(Response.unit_id == scope.unit_id, Response.survey_date >= scope.start,
               Response.survey_date <= scope.end, Response.excluded.is_(False))
        .group_by(Response.channel).order_by(func.count(Response.id).desc(), Response.channel)
    ).all()
    # verified: made with a one-time ticket (issue 15), only ever online responses.
    return [{"channel": ch, "label": CHANNEL_LABELS.get(ch, ch), "respondents": integer_id(n),
             "suggestions": integer_id(k), "verified": integer_id(v) if v else "", "count": int(n), "suggestion_count": int(k)}
            for ch, n, k, v in rows]


def earlier_periods(session: Session, period: Period, count: int = 4) -> list[Period]:
    """Up to `count` periods of the same kind that ended before this one started, oldest first."""
    rows = session.scalars(
        select(Period)
        .where(Period.kind == period.kind, Period.end_date < period.start_date)
        .order_by(Period.start_date.desc())
        .limit(count)
    ).all()
    return list(reversed(rows))


def trend(session: Session, unit: Unit, period: Period, current: Results) -> list[dict]:
    rows: list[dict[str, Any]] = []
    for p in earlier_periods(session, period) + [period]:
        r = current if p.id == period.id else period_results(session, unit, p, with_profile=False)
        s = r.scores
        rows.append({"period": p.name, "respondents": integer_id(s.respondents),
                     "ikm": number_id(s.ikm) if s.has_data else "–",
                     "grade": s.grade or "–", "kinerja": s.kinerja or "–",
                     "current": p.id == period.id, "ikm_raw": s.ikm})
    known = [r for r in rows if r["ikm_raw"] is not None]
    for prev, cur in zip(known, known[1:]):
        diff = cur["ikm_raw"] - prev["ikm_raw"]
        cur["change"] = ("+" if diff > 0 else "") + number_id(diff) if diff else "0,00"
    return rows


def sample_row(results: Results) -> Optional[dict]:
    s = results.sample
    if not s:
        return None
    return {"population": integer_id(s["population"]), "needed": integer_id(s["needed"]),
            "respondents": integer_id(s["respondents"]), "enough": s["enough"],
            "short_by": integer_id(s["short_by"])}


KM_ROWS = (10, 50, 100, 200, 500, 1000, 5000, 10000, 75000, 1000000)


def krejcie_morgan_rows() -> list[dict]:
    from skm.scoring.sample_size import krejcie_morgan

    return [{"population": integer_id(n), "sample": integer_id(krejcie_morgan(n))} for n in KM_ROWS]


def followup_plan_summary(session: Session, unit: Unit, period: Period) -> Optional[list[dict]]:
    """The period's follow-up plan rows, if the RTL module is installed and a plan exists."""
    return plan_rows(session, unit, period)


def results_report(session: Session, unit: Unit, period: Period, today: Optional[dt.date] = None,
                   choice=None) -> dict:
    """Everything the Laporan Hasil SKM prints, as strings and lists."""
    today = today or unit_today(unit)
    results = period_results(session, unit, period)
    scope = results.scope
    s = results.scores
    groups = [
        {"kinerja": KINERJA[g], "grade": g,
         "elements": [f"{e.code} {e.name} ({number_id(e.nrr)})" for e in results.by_kinerja[KINERJA[g]]]}
        for g in ("A", "B", "C", "D")
    ]
    lowest = results.lowest(unit.rtl_priority_count or 3)
    highest = results.highest(1)
    services = [sv.name for sv in unit.services if sv.active]
    found = suggestions(session, scope)
    texts = T.unit_texts(session, unit)
    return {
        "title": "Laporan Hasil Survei Kepuasan Masyarakat",
        "unit": unit_header(unit),
        "period": period.name,
        "period_range": date_range_id(period.start_date, period.end_date),
        "year": period.end_date.year,
        "intro": paragraphs(unit.intro_text) or paragraphs(default_intro(unit)),
        "summary": summary(results),
        "elements": element_rows(results),
        # The dashboard's chart macro (templates/macros/charts.html) takes the scores themselves.
        "raw_elements": list(s.elements),
        "sample": sample_row(results),
        "km_rows": krejcie_morgan_rows(),
        "profile": profile_tables(results),
        "groups": groups,
        # Every element tied at the cut-off is named (skm.scoring.ikm.lowest_elements).
        "lowest": ranked_text(lowest, kinerja=True) if lowest.elements else "",
        "lowest_names": join_id(e.name for e in lowest),
        "highest": ranked_text(highest) if highest.elements else "",
        "plan": followup_plan_summary(session, unit, period),
        "trend": trend(session, unit, period, results),
        "suggestions": found,
        "suggestion_groups": suggestion_groups(found),
        "media": media(session, scope),
        "texts": {**texts,
                  "pengertian_items": T.lines(texts["pengertian"]), "sasaran_items": T.lines(texts["sasaran"]),
                  "ruang_lingkup_paras": paragraphs(texts["ruang_lingkup"]),
                  "manfaat_items": T.lines(texts["manfaat"])},
        "notes": weak_element_notes(session, unit, period, results),
        "services": services,
        "channels": sorted(set(session.scalars(
            select(Response.channel).where(Response.unit_id == unit.id, Response.survey_date >= scope.start,
                                           Response.survey_date <= scope.end)).all())),
        "excluded": integer_id(results.excluded_count),
        "signature": signature(unit, today, choice),
        "generated": date_id(today),
    }


CHANNEL_LABELS = _CHANNEL_LABELS  # one naming of channels (skm.core.formatting)


# --- data sheet -------------------------------------------------------------

@dataclass
class DataSheet:
    title: str
    subtitle: str
    codes: list[str]
    legend: list[str]
    header: list[str]
    footer_rows: list[list[str]]
    respondents: int
    rows: Iterator[list[str]] = field(repr=False, default=iter(()))
    header_lines: list[str] = field(default_factory=list)  # unit, address, telephone (seed 002)


def _sheet_rows(session: Session, scope: Scope, codes: list[str], batch: int = 2000) -> Iterator[list[str]]:
    """Formatted rows, fetched from the database in batches so memory stays flat."""
    offset = 0
    while True:
        got = 0
        for row in data_sheet_rows(session, scope, offset=offset, limit=batch):
            got += 1
            ratings = [row.ratings.get(c) for c in codes]
            total = sum(r for r in ratings if r is not None)
            yield [str(row.number), row.survey_date.strftime("%d/%m/%Y")] + \
                  ["" if r is None else str(r) for r in ratings] + [str(total)]
        if got < batch:
            return
        offset += batch


def data_sheet(session: Session, unit: Unit, period: Period) -> DataSheet:
    """Pengolahan data: one row per respondent, then total, NRR, weighted NRR, their sum and the IKM."""
    results = period_results(session, unit, period, with_profile=False)
    s = results.scores
    codes = [e.code for e in s.elements]
    header = ["No", "Tanggal"] + codes + ["Jumlah"]
    blank = [""]
    if s.has_data:
        footer = [
            ["Jumlah nilai per unsur", ""] + [integer_id(e.total) for e in s.elements] + blank,
            ["NRR per unsur", ""] + [number_id(e.nrr) for e in s.elements] + blank,
            ["NRR tertimbang", ""] + [number_id(e.weighted_nrr, 3) for e in s.elements] + blank,
            ["Σ NRR tertimbang", ""] + [number_id(s.weighted_sum, 4)] + [""] * len(codes),
            ["IKM = Σ × 25", ""] + [f"{number_id(s.ikm)}   Mutu {s.grade} ({s.kinerja})"] + [""] * len(codes),
        ]
    else:
        footer = []
    legend = [f"{e.code} = {e.name} (dinilai {integer_id(e.count)} responden)" for e in s.elements]
    legend.append(f"Bobot setiap unsur = 1/{len(codes)} (ditampilkan {number_id(s.elements[0].weight, 3)}; "
                  "perhitungan memakai nilai tepat)." if codes else "Belum ada data.")
    return DataSheet(
        title="Pengolahan Data SKM per Responden dan per Unsur Layanan",
        subtitle=f"Periode {period.name} ({date_range_id(period.start_date, period.end_date)}) · "
                 f"{integer_id(s.respondents)} responden · IKM {number_id(s.ikm) if s.has_data else '–'}",
        codes=codes, legend=legend, header=header, footer_rows=footer, respondents=s.respondents,
        rows=_sheet_rows(session, results.scope, codes),
        header_lines=[f"Unit pelayanan: {unit.name}"]
        + ([f"Alamat: {unit.address}"] if unit.address else [])
        + ([f"Telp.: {unit.phone}"] if unit.phone else []),
    )


# --- poster ------------------------------------------------------------------

def poster(session: Session, unit: Unit, period: Period, every_level: bool = True) -> dict:
    """The results poster; `every_level`: every education level the unit asks, zeros included
    (the printed poster, as seed 002's); the lobby screen, which must fit one screen, lists
    the levels with respondents."""
    results = period_results(session, unit, period)
    gender = results.profile.get("gender")
    education = results.profile.get("education")

    def rows(b, skip_empty):
        if b is None:
            return []
        return [{"category": cat, "count": integer_id(c), "pct": percent_id(pct, 1)}
                for cat, c, pct in b.rows if c or not skip_empty]

    return {
        "unit": unit_header(unit),
        "period": period.name,
        "period_range": date_range_id(period.start_date, period.end_date),
        "summary": summary(results),
        "gender": rows(gender, False),
        "education": rows(education, not every_level),
        "thanks": THANKS,
    }


def lobby_poster(session: Session, unit: Unit, period: Optional[Period] = None) -> dict:
    """The lobby screen's poster of `period`, else of the reporting period (the latest one
    with respondents, skm.survey.reporting). Without respondents the context has `empty`,
    a sentence saying so, instead of a poster of "–" and 0 respondents."""
    period = period or reporting_period(session, unit)
    if period is not None and period_respondents(session, unit, period):
        return poster(session, unit, period, every_level=False)
    return {"unit": unit_header(unit),
            "empty": no_respondents_text(period) if period is not None
            else "Hasil survei akan ditampilkan di sini setelah ada responden."}


# --- blank questionnaire ---------------------------------------------------------

def questionnaire_sheet(unit: Unit) -> dict:
    """The paper form (skm.exports.questionnaire_sheet, shared with the HTML print page),
    with the unit header the PDF prints (logo through the restricted link callback)."""
    from skm.reports.questionnaire import questionnaire_sheet as paper_form

    if unit.current_questionnaire is None:
        raise DomainError("Unit belum memiliki kuesioner.")
    return {**paper_form(unit), "unit": unit_header(unit)}
