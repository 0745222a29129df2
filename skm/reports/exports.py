"""Data going out: raw responses (XLSX, CSV with formula-injection escaping) and the import
template. No Flask here; every function returns bytes and writes nothing to the database.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Optional

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from skm.intake.tables import PROFILE_COLUMNS, escape_csv_cell
from skm.models import Answer, Element, Period, Questionnaire, Response, Service, Unit
from skm.scoring.results import Scope, element_tallies
from skm.survey import profile as P

# Columns after the element ratings: status that re-imports (see skm.importer.STATUS_COLUMNS),
# then metadata that is informational only (an import records its own channel and time).
STATUS_HEADERS = ("dikecualikan", "ditandai", "alasan_tanda")
META_HEADERS = ("kanal", "versi_kuesioner", "waktu_kirim_utc", "id")
BOLD = Font(bold=True)


@dataclass
class ElementColumn:
    code: str
    name: str


def _clean(text: Optional[str]) -> Optional[str]:
    """Characters XLSX cannot hold (control characters) are dropped."""
    if text is None:
        return None
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _elements(unit: Unit) -> list[Element]:
    questionnaire = unit.current_questionnaire
    assert questionnaire is not None, "every unit gets a questionnaire when it is created"
    return list(questionnaire.elements)


def element_columns(session: Session, unit: Unit, scope: Scope) -> list[ElementColumn]:
    """The current questionnaire's elements in order, then any other code answered in scope."""
    columns = [ElementColumn(e.code, e.name) for e in _elements(unit)]
    known = {c.code for c in columns}
    for tally in element_tallies(session, Scope(scope.unit_id, scope.start, scope.end, scope.service_id, True)):
        if tally.code not in known:
            columns.append(ElementColumn(tally.code, tally.name))
            known.add(tally.code)
    return columns


# ---------------------------------------------------------------- raw responses

def raw_header(columns: list[ElementColumn]) -> list[str]:
    return ["no", *PROFILE_COLUMNS, *[c.code for c in columns], *STATUS_HEADERS, *META_HEADERS]


def _time_cell(r: Response) -> Optional[str]:
    if r.survey_time is not None:
        return r.survey_time.strftime("%H:%M")
    return r.time_slot


def _occupation_cell(r: Response) -> Optional[str]:
    if r.occupation is None:
        return None
    label = P.OCCUPATION.get(r.occupation, r.occupation)
    if r.occupation == "LAINNYA" and r.occupation_other:
        return f"{label}: {r.occupation_other}"
    return label


def raw_rows(session: Session, unit: Unit, scope: Scope, columns: list[ElementColumn]) -> Iterator[list]:
    """One list per respondent (excluded ones too, marked), typed values, in date order."""
    scope = Scope(scope.unit_id, scope.start, scope.end, scope.service_id, include_excluded=True)
    conds = [Response.unit_id == scope.unit_id, Response.survey_date >= scope.start,
             Response.survey_date <= scope.end]
    if scope.service_id is not None:
        conds.append(Response.service_id == scope.service_id)
    ids = session.scalars(select(Response.id).where(*conds).order_by(Response.survey_date, Response.id)).all()
    services = {s.id: s.name for s in session.scalars(select(Service).where(Service.unit_id == unit.id))}
    versions = dict(session.execute(select(Questionnaire.id, Questionnaire.version)
                                    .where(Questionnaire.unit_id == unit.id)).all())
    number = 0
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        responses = session.scalars(select(Response).where(Response.id.in_(chunk))
                                    .order_by(Response.survey_date, Response.id)).all()
        ratings: dict[int, dict[str, int]] = {rid: {} for rid in chunk}
        for rid, code, rating in session.execute(
            select(Answer.response_id, Element.code, Answer.rating)
            .join(Element, Element.id == Answer.element_id)
            .where(Answer.response_id.in_(chunk))
        ):
            ratings[rid][code] = rating
        for r in responses:
            number += 1
            yield [
                number,
                r.survey_date,
                _time_cell(r),
                services.get(r.service_id) if r.service_id else None,
                r.gender,
                r.age,
                r.education,
                _occupation_cell(r),
                r.suggestion,
                *[ratings[r.id].get(c.code) for c in columns],
                "ya" if r.excluded else None,
                "ya" if r.flagged else None,
                r.flag_reason,
                r.channel,
                versions.get(r.questionnaire_id),
                r.submitted_at.replace(microsecond=0) if r.submitted_at else None,
                r.id,
            ]


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return escape_csv_cell(value)
    return str(value)


def raw_responses_csv(session: Session, unit: Unit, period: Period,
                      progress: Optional[Callable[[int], None]] = None) -> bytes:
    """UTF-8 with BOM (Excel opens it as UTF-8), comma separated, text cells neutralised.
    `progress(rows)` is called after each row (background exports, skm.reports.jobs)."""
    scope = Scope(unit.id, period.start_date, period.end_date)
    columns = element_columns(session, unit, scope)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(raw_header(columns))
    for i, row in enumerate(raw_rows(session, unit, scope, columns), start=1):
        writer.writerow([_csv_value(v) for v in row])
        if progress is not None:
            progress(i)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _text_cell(ws, value, **style) -> WriteOnlyCell:
    """A cell that stays text even if it starts with '=' (never a formula)."""
    cell = WriteOnlyCell(ws, value=_clean(value))
    if isinstance(value, str):
        cell.data_type = "s"
    for key, val in style.items():
        setattr(cell, key, val)
    return cell


def _set_text(cell, value) -> None:
    """Put `value` in a normal-mode cell as text, even when it starts with '=' (an element
    or service name like "=HYPERLINK(…)" must never become a formula)."""
    cell.value = _clean(value)
    if isinstance(value, str):
        cell.data_type = "s"


def _xlsx_value(ws, value):
    if isinstance(value, str):
        return _text_cell(ws, value)
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value


def _save(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def raw_responses_xlsx(session: Session, unit: Unit, period: Period,
                       progress: Optional[Callable[[int], None]] = None) -> bytes:
    scope = Scope(unit.id, period.start_date, period.end_date)
    columns = element_columns(session, unit, scope)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Responden")
    ws.freeze_panes = "B2"
    ws.append([_text_cell(ws, h, font=BOLD) for h in raw_header(columns)])
    for i, row in enumerate(raw_rows(session, unit, scope, columns), start=1):
        ws.append([_xlsx_value(ws, v) for v in row])
        if progress is not None:
            progress(i)
    legend = wb.create_sheet("Keterangan")
    legend.append([_text_cell(legend, "Kolom", font=BOLD), _text_cell(legend, "Arti", font=BOLD)])
    for code, text in (
        ("tanggal", "tanggal survei (zona waktu unit)"),
        ("jam", "jam survei HH:MM, atau slot jam formulir kertas"),
        ("pendidikan", "kode: " + ", ".join(P.EDUCATION)),
        *[(c.code, c.name) for c in columns],
        ("dikecualikan", "ya = tidak dihitung dalam IKM"),
        ("kanal, versi_kuesioner, waktu_kirim_utc, id", "keterangan saja; tidak dibaca saat impor"),
    ):
        legend.append([_text_cell(legend, code), _text_cell(legend, text)])
    return _save(wb)


# ---------------------------------------------------------------- import template

def import_template_xlsx(unit: Unit) -> bytes:
    """Headers the importer reads, with drop-down lists for the coded columns."""
    codes = [e.code for e in _elements(unit)]
    headers = [*PROFILE_COLUMNS, *codes]
    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    for i, h in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=i, value=h)
        cell.font = BOLD
        ws.column_dimensions[get_column_letter(i)].width = 40 if h in ("saran", "layanan") else 14
    ws.freeze_panes = "A2"
    lists = wb.create_sheet("Daftar")
    values = {
        "jam": list(P.TIME_SLOTS),
        "layanan": [s.name for s in unit.services if s.active] or ["-"],
        "jenis_kelamin": list(P.GENDERS),
        "pendidikan": list(P.EDUCATION),
        "pekerjaan": list(P.OCCUPATION.values()),
    }
    last = 5000
    for col, (name, items) in enumerate(values.items(), start=1):
        letter = get_column_letter(col)
        lists.cell(row=1, column=col, value=name).font = BOLD
        for r, item in enumerate(items, start=2):
            _set_text(lists.cell(row=r, column=col), item)
        target = get_column_letter(headers.index(name) + 1)
        dv = DataValidation(type="list", formula1=f"Daftar!${letter}$2:${letter}${len(items) + 1}",
                            allow_blank=True, showErrorMessage=name != "pekerjaan",
                            errorTitle="Isian tidak dikenal", error=f"Pilih {name} dari daftar.")
        dv.add(f"{target}2:{target}{last}")
        ws.add_data_validation(dv)
    date_col = get_column_letter(1)
    dv = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=False,
                        showErrorMessage=True, errorTitle="Tanggal", error="Isi tanggal survei (mis. 2025-06-04).")
    dv.add(f"{date_col}2:{date_col}{last}")
    ws.add_data_validation(dv)
    for r in range(2, 200):
        ws.cell(row=r, column=1).number_format = "yyyy-mm-dd"
    age_col = get_column_letter(headers.index("usia") + 1)
    dv = DataValidation(type="whole", operator="between", formula1="10", formula2="120", allow_blank=True,
                        showErrorMessage=True, errorTitle="Usia", error="Usia 10–120 tahun.")
    dv.add(f"{age_col}2:{age_col}{last}")
    ws.add_data_validation(dv)
    first_el, last_el = get_column_letter(len(PROFILE_COLUMNS) + 1), get_column_letter(len(headers))
    dv = DataValidation(type="list", formula1='"1,2,3,4"', allow_blank=True, showErrorMessage=True,
                        errorTitle="Nilai", error="Nilai unsur 1, 2, 3 atau 4 (kosong = tidak dijawab).")
    dv.add(f"{first_el}2:{last_el}{last}")
    ws.add_data_validation(dv)
    help_ws = wb.create_sheet("Petunjuk")
    help_ws.column_dimensions["A"].width = 18
    help_ws.column_dimensions["B"].width = 90
    for r, row in enumerate((
        ("Kolom", "Isi"),
        ("tanggal", "Wajib. Tanggal survei, mis. 2025-06-04 atau 04/06/2025."),
        ("jam", "08.00-12.00 atau 13.00-17.00, atau jam HH:MM. Boleh kosong."),
        ("layanan", "Nama jenis layanan persis seperti di aplikasi. Boleh kosong."),
        ("jenis_kelamin", "L atau P."),
        ("usia", "Usia dalam tahun (10–120)."),
        ("pendidikan", "TS (tidak sekolah), SD, SMP, SMA, DIII, S1, S2, S3."),
        ("pekerjaan", "PNS, TNI, POLRI, Swasta, Wirausaha, atau Lainnya: keterangan."),
        ("saran", "Saran/masukan bebas."),
        *[(e.code, f"{e.name}: nilai 1–4 ({' / '.join(e.labels)}); kosong = tidak dijawab.")
          for e in _elements(unit)],
        ("", "Satu baris per responden. Jangan ubah judul kolom. Lembar 'Data' harus tetap lembar pertama."),
    ), start=1):
        for col, value in enumerate(row, start=1):
            _set_text(help_ws.cell(row=r, column=col), value)
    help_ws["A1"].font = BOLD
    help_ws["B1"].font = BOLD
    for cell in help_ws["B"]:
        cell.alignment = Alignment(wrap_text=True)
    return _save(wb)


# ---------------------------------------------------------------- export kinds

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"
# Exports whose size grows with the respondents: above EXPORT_SYNC_MAX_RESPONDENTS they are
# made by the queue worker (skm.reports.jobs), like long reports.
LARGE_EXPORTS = ("responden.xlsx", "responden.csv", "pengolahan-data.xlsx")
EXPORT_LABELS = {
    "responden.xlsx": "Data responden (XLSX)",
    "responden.csv": "Data responden (CSV)",
    "hasil.xlsx": "Hasil per unsur (XLSX)",
    "pengolahan-data.xlsx": "Pengolahan data (XLSX)",
}


def export_builders() -> dict[str, tuple[Callable, str]]:
    """Each export kind's builder(session, unit, period[, progress]) and MIME type."""
    from skm.reports import workbooks

    return {
        "responden.xlsx": (raw_responses_xlsx, XLSX_MIME),
        "responden.csv": (raw_responses_csv, CSV_MIME),
        "hasil.xlsx": (workbooks.results_xlsx, XLSX_MIME),
        "pengolahan-data.xlsx": (workbooks.data_sheet_xlsx, XLSX_MIME),
    }
