"""Data going out to Excel: raw responses, results tables, the data processing sheet with
live formulas, the import template and the blank questionnaire. No Flask here.

Every function takes a session and returns bytes (or a plain dict for the questionnaire);
nothing is written to the database.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Iterator, Optional

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import profile as P
from .importer import PROFILE_COLUMNS, escape_csv_cell
from .models import Answer, Element, Period, Questionnaire, Response, Service, Unit
from .results import Scope, data_sheet_rows, element_tallies, period_results
from .scoring import GRADE_TABLE

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


def element_columns(session: Session, unit: Unit, scope: Scope) -> list[ElementColumn]:
    """The current questionnaire's elements in order, then any other code answered in scope."""
    columns = [ElementColumn(e.code, e.name) for e in unit.current_questionnaire.elements]
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


def raw_responses_csv(session: Session, unit: Unit, period: Period) -> bytes:
    """UTF-8 with BOM (Excel opens it as UTF-8), comma separated, text cells neutralised."""
    scope = Scope(unit.id, period.start_date, period.end_date)
    columns = element_columns(session, unit, scope)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(raw_header(columns))
    for row in raw_rows(session, unit, scope, columns):
        writer.writerow([_csv_value(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _text_cell(ws, value, **style) -> WriteOnlyCell:
    """A cell that stays text even if it starts with '=' (never a formula)."""
    cell = WriteOnlyCell(ws, value=_clean(value))
    if isinstance(value, str):
        cell.data_type = "s"
    for key, val in style.items():
        setattr(cell, key, val)
    return cell


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


def raw_responses_xlsx(session: Session, unit: Unit, period: Period) -> bytes:
    scope = Scope(unit.id, period.start_date, period.end_date)
    columns = element_columns(session, unit, scope)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Responden")
    ws.freeze_panes = "B2"
    ws.append([_text_cell(ws, h, font=BOLD) for h in raw_header(columns)])
    for row in raw_rows(session, unit, scope, columns):
        ws.append([_xlsx_value(ws, v) for v in row])
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


# ---------------------------------------------------------------- results tables

def _num_cell(ws, value, fmt: str = "0.00"):
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = fmt
    return cell


def results_xlsx(session: Session, unit: Unit, period: Period) -> bytes:
    """One sheet per table; every figure is a number cell (unrounded, formatted for display)."""
    results = period_results(session, unit, period)
    s = results.scores
    wb = Workbook(write_only=True)

    ws = wb.create_sheet("Ringkasan")
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 40
    ws.append([_text_cell(ws, "Unit pelayanan", font=BOLD), _text_cell(ws, unit.name)])
    ws.append([_text_cell(ws, "Periode", font=BOLD), _text_cell(ws, period.name)])
    ws.append([_text_cell(ws, "Tanggal mulai", font=BOLD), _xlsx_value(ws, period.start_date)])
    ws.append([_text_cell(ws, "Tanggal selesai", font=BOLD), _xlsx_value(ws, period.end_date)])
    ws.append([_text_cell(ws, "Jumlah responden", font=BOLD), _num_cell(ws, s.respondents, "0")])
    if s.has_data:
        ws.append([_text_cell(ws, "Jumlah NRR tertimbang (IKM unit)", font=BOLD), _num_cell(ws, float(s.ikm_unit), "0.0000")])
        ws.append([_text_cell(ws, "IKM", font=BOLD), _num_cell(ws, float(s.ikm))])
        ws.append([_text_cell(ws, "Mutu pelayanan", font=BOLD), _text_cell(ws, s.grade)])
        ws.append([_text_cell(ws, "Kinerja unit pelayanan", font=BOLD), _text_cell(ws, s.kinerja)])
    else:
        ws.append([_text_cell(ws, "IKM", font=BOLD), _text_cell(ws, "belum ada data")])
    if results.sample:
        sample = results.sample
        for key, label in (("population", "Populasi"), ("needed", "Sampel minimal (Krejcie–Morgan)")):
            if sample.get(key) is not None:
                ws.append([_text_cell(ws, label, font=BOLD), _num_cell(ws, sample[key], "0")])

    ws = wb.create_sheet("Unsur")
    ws.column_dimensions["B"].width = 40
    ws.append([_text_cell(ws, h, font=BOLD) for h in (
        "Kode", "Unsur pelayanan", "Jumlah jawaban", "Jumlah nilai", "NRR", "Bobot",
        "NRR tertimbang", "Mutu", "Kinerja")])
    for e in s.elements:
        ws.append([
            _text_cell(ws, e.code), _text_cell(ws, e.name), _num_cell(ws, e.count, "0"),
            _num_cell(ws, e.total, "0"), _num_cell(ws, float(e.nrr), "0.000"),
            _num_cell(ws, float(e.weight), "0.000"), _num_cell(ws, float(e.weighted_nrr), "0.000"),
            _text_cell(ws, e.grade), _text_cell(ws, e.kinerja),
        ])
    if s.has_data:
        ws.append([None, _text_cell(ws, "Jumlah NRR tertimbang", font=BOLD), None, None, None, None,
                   _num_cell(ws, float(s.weighted_sum), "0.000")])
        ws.append([None, _text_cell(ws, "IKM (× 25)", font=BOLD), None, None, None, None,
                   _num_cell(ws, float(s.ikm))])

    ws = wb.create_sheet("Kinerja")
    ws.append([_text_cell(ws, h, font=BOLD) for h in ("Kinerja", "Jumlah unsur", "Unsur")])
    for label, items in results.by_kinerja.items():
        ws.append([_text_cell(ws, label), _num_cell(ws, len(items), "0"),
                   _text_cell(ws, ", ".join(f"{e.code} {e.name}" for e in items))])

    titles = {"gender": "Jenis kelamin", "age": "Usia", "education": "Pendidikan",
              "occupation": "Pekerjaan", "service": "Jenis layanan"}
    for key, title in titles.items():
        b = results.profile.get(key)
        if b is None:
            continue
        ws = wb.create_sheet(title)
        ws.column_dimensions["A"].width = 32
        ws.append([_text_cell(ws, h, font=BOLD) for h in (b.label, "Jumlah", "Persentase")])
        for category, count, pct in b.rows:
            ws.append([_text_cell(ws, category), _num_cell(ws, count, "0"), _num_cell(ws, float(pct / 100), "0.00%")])
        ws.append([_text_cell(ws, "Jumlah", font=BOLD), _num_cell(ws, b.total, "0"),
                   _num_cell(ws, 1.0 if b.total else 0.0, "0.00%")])

    ws = wb.create_sheet("Tabel mutu")
    ws.append([_text_cell(ws, h, font=BOLD) for h in ("Persepsi", "NI (1–4)", "NIK (25–100)", "Mutu", "Kinerja")])
    for row in GRADE_TABLE:
        ws.append([_num_cell(ws, row[0], "0"), *[_text_cell(ws, v) for v in row[1:]]])
    return _save(wb)


# ---------------------------------------------------------------- data processing sheet

@dataclass
class SheetLayout:
    """Where the data sheet puts things; tests and auditors read the formulas from here."""

    first_row: int
    last_row: int  # last respondent row (first_row - 1 when empty)
    first_col: int
    codes: list[str]
    rows: dict[str, int]  # summary row name -> row number
    respondents_cell: str
    ikm_unit_cell: str
    ikm_cell: str
    ikm_rounded_cell: str
    grade_cell: str


DATA_SHEET_FIRST_ROW = 6
DATA_SHEET_FIRST_COL = 3  # A: No, B: Tanggal, C..: elements


def data_sheet_layout(codes: list[str], respondents: int) -> SheetLayout:
    first = DATA_SHEET_FIRST_ROW
    last = first + respondents - 1
    names = ("total", "count", "nrr", "weight", "weighted")
    rows = {name: last + 2 + i for i, name in enumerate(names)}
    rows["n_elements"] = rows["weighted"] + 1
    rows["respondents"] = rows["n_elements"] + 1
    rows["ikm_unit"] = rows["respondents"] + 1
    rows["ikm"] = rows["ikm_unit"] + 1
    rows["ikm_rounded"] = rows["ikm"] + 1
    rows["grade"] = rows["ikm_rounded"] + 1
    c = get_column_letter(DATA_SHEET_FIRST_COL)
    return SheetLayout(first, last, DATA_SHEET_FIRST_COL, codes, rows,
                       f"{c}{rows['respondents']}", f"{c}{rows['ikm_unit']}", f"{c}{rows['ikm']}",
                       f"{c}{rows['ikm_rounded']}", f"{c}{rows['grade']}")


def data_sheet_formulas(layout: SheetLayout) -> dict[str, str]:
    """Cell -> formula of every computed cell; the respondents' ratings are plain numbers."""
    first, last, rows = layout.first_row, layout.last_row, layout.rows
    cols = [get_column_letter(layout.first_col + i) for i in range(len(layout.codes))]
    first_col, last_col = cols[0], cols[-1]
    f: dict[str, str] = {}
    for c in cols:
        data = f"{c}{first}:{c}{last}"
        count = f"{c}{rows['count']}"
        f[f"{c}{rows['total']}"] = f"=SUM({data})"
        f[count] = f"=COUNT({data})"
        f[f"{c}{rows['nrr']}"] = f'=IF({count}=0,"",{c}{rows["total"]}/{count})'
        f[f"{c}{rows['weight']}"] = f'=IF({count}=0,"",1/${first_col}${rows["n_elements"]})'
        f[f"{c}{rows['weighted']}"] = f'=IF({count}=0,"",{c}{rows["nrr"]}*{c}{rows["weight"]})'
    a = first_col
    f[f"{a}{rows['n_elements']}"] = f'=COUNTIF({first_col}{rows["count"]}:{last_col}{rows["count"]},">0")'
    f[layout.respondents_cell] = f"=COUNT(A{first}:A{last})"
    f[layout.ikm_unit_cell] = f"=SUM({first_col}{rows['weighted']}:{last_col}{rows['weighted']})"
    f[layout.ikm_cell] = f"={layout.ikm_unit_cell}*25"
    f[layout.ikm_rounded_cell] = f"=ROUND({layout.ikm_cell},2)"
    r = layout.ikm_rounded_cell
    f[layout.grade_cell] = f'=IF({r}>=88.31,"A",IF({r}>=76.61,"B",IF({r}>=65,"C","D")))'
    return f


SUMMARY_LABELS = {
    "total": "Jumlah nilai per unsur",
    "count": "Jumlah responden yang menjawab",
    "nrr": "NRR per unsur",
    "weight": "Bobot (1 ÷ jumlah unsur dinilai)",
    "weighted": "NRR tertimbang per unsur",
    "n_elements": "Jumlah unsur yang dinilai",
    "respondents": "Jumlah responden",
    "ikm_unit": "Jumlah NRR tertimbang (IKM unit)",
    "ikm": "IKM (jumlah NRR tertimbang × 25)",
    "ikm_rounded": "IKM dibulatkan (2 desimal)",
    "grade": "Mutu pelayanan",
}
SUMMARY_FORMATS = {"total": "0", "count": "0", "nrr": "0.000", "weight": "0.000", "weighted": "0.000",
                   "n_elements": "0", "respondents": "0", "ikm_unit": "0.0000", "ikm": "0.00",
                   "ikm_rounded": "0.00"}


def data_sheet_xlsx(session: Session, unit: Unit, period: Period) -> bytes:
    """Pengolahan data per responden dan per unsur, with totals, NRR, weighted NRR and IKM
    as live formulas over the respondent rows (excluded responses are left out, as in the IKM)."""
    scope = Scope(unit.id, period.start_date, period.end_date)
    # Elements nobody rated stay as columns: their count is 0 and the formulas skip them.
    columns = element_columns(session, unit, scope)
    codes = [c.code for c in columns]
    names = {c.code: c.name for c in columns}
    sheet_rows = list(data_sheet_rows(session, scope))
    layout = data_sheet_layout(codes, len(sheet_rows))

    wb = Workbook(write_only=True)
    wb.calculation.fullCalcOnLoad = True  # Excel and LibreOffice recompute when opening
    ws = wb.create_sheet("Pengolahan data")
    ws.column_dimensions["A"].width = 8
    ws.column_dimensions["B"].width = 34
    ws.append([_text_cell(ws, "PENGOLAHAN DATA SURVEI KEPUASAN MASYARAKAT PER RESPONDEN DAN PER UNSUR PELAYANAN",
                          font=BOLD)])
    ws.append([_text_cell(ws, unit.name)])
    ws.append([_text_cell(ws, f"Periode: {period.name} ({period.start_date:%d-%m-%Y} s.d. {period.end_date:%d-%m-%Y})")])
    ws.append([_text_cell(ws, ", ".join(f"{c} = {names[c]}" for c in codes))])
    ws.append([_text_cell(ws, "No", font=BOLD), _text_cell(ws, "Tanggal", font=BOLD),
               *[_text_cell(ws, c, font=BOLD) for c in codes]])
    for row in sheet_rows:
        ws.append([row.number, _xlsx_value(ws, row.survey_date), *[row.ratings.get(c) for c in codes]])
    if not sheet_rows:
        ws.append([_text_cell(ws, "Belum ada responden pada periode ini.")])
        return _save(wb)
    formulas = data_sheet_formulas(layout)
    ws.append([])
    order = ("total", "count", "nrr", "weight", "weighted", "n_elements", "respondents", "ikm_unit", "ikm",
             "ikm_rounded", "grade")
    for name in order:
        r = layout.rows[name]
        cells = [None, _text_cell(ws, SUMMARY_LABELS[name], font=BOLD)]
        for i in range(len(codes)):
            ref = f"{get_column_letter(layout.first_col + i)}{r}"
            if ref in formulas:
                cell = WriteOnlyCell(ws, value=formulas[ref])
                if name in SUMMARY_FORMATS:
                    cell.number_format = SUMMARY_FORMATS[name]
                cells.append(cell)
            else:
                break
        ws.append(cells)
    return _save(wb)


# ---------------------------------------------------------------- import template

def import_template_xlsx(unit: Unit) -> bytes:
    """Headers the importer reads, with drop-down lists for the coded columns."""
    codes = [e.code for e in unit.current_questionnaire.elements]
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
            lists.cell(row=r, column=col, value=item).data_type = "s"
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
    for row in (
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
          for e in unit.current_questionnaire.elements],
        ("", "Satu baris per responden. Jangan ubah judul kolom. Lembar 'Data' harus tetap lembar pertama."),
    ):
        help_ws.append(list(row))
    help_ws["A1"].font = BOLD
    help_ws["B1"].font = BOLD
    for cell in help_ws["B"]:
        cell.alignment = Alignment(wrap_text=True)
    return _save(wb)


# ---------------------------------------------------------------- blank questionnaire

def questionnaire_sheet(unit: Unit) -> dict:
    """Everything the printed blank questionnaire shows (HTML now, PDF later)."""
    questionnaire = unit.current_questionnaire
    profile = []
    if unit.ask_gender:
        profile.append({"key": "gender", "label": "Jenis kelamin", "options": list(P.GENDERS.values())})
    if unit.ask_age:
        profile.append({"key": "age", "label": "Usia", "options": [], "suffix": "tahun"})
    if unit.ask_education:
        profile.append({"key": "education", "label": "Pendidikan terakhir", "options": list(P.EDUCATION.values())})
    if unit.ask_occupation:
        profile.append({"key": "occupation", "label": "Pekerjaan", "options": list(P.OCCUPATION.values()),
                        "other": "Lainnya"})
    return {
        "unit": {"code": unit.code, "name": unit.name, "address": unit.address, "phone": unit.phone,
                 "city": unit.city, "timezone": unit.timezone},
        "version": questionnaire.version,
        "time_slots": list(P.TIME_SLOTS),
        "services": [s.name for s in unit.services if s.active],
        "profile": profile,
        "elements": [
            {"number": i, "code": e.code, "name": e.name, "question": e.question,
             "labels": [(n, label) for n, label in enumerate(e.labels, start=1)]}
            for i, e in enumerate(questionnaire.elements, start=1)
        ],
        "intro": "Dalam rangka meningkatkan kualitas pelayanan publik, kami mohon kesediaan Saudara "
                 "mengisi kuesioner ini. Berilah tanda silang (X) pada jawaban yang sesuai. "
                 "Survei ini tanpa nama: jangan menuliskan nama, NIK atau nomor telepon.",
        "thanks": "Terima kasih atas penilaian yang telah Anda berikan.",
    }
