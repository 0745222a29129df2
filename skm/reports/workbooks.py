"""Results workbooks: hasil.xlsx (number cells) and the data processing sheet with live formulas.
No Flask here; every function returns bytes and writes nothing to the database.
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from fractions import Fraction

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from skm.models import Period, Unit
from skm.reports.exports import BOLD, _clean, _save, _text_cell, _xlsx_value, element_columns
from skm.scoring.ikm import GRADE_TABLE, IKM_LOWER_BOUNDS, round_half_up
from skm.scoring.results import Scope, data_sheet_rows, period_results

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
        assert s.ikm is not None and s.ikm_unit is not None  # has_data: both are set
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
        assert s.ikm is not None and s.weighted_sum is not None  # has_data: both are set
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


def grade_formula(cell: str) -> str:
    """=IF(cell>=88.31,"A",IF(cell>=76.61,"B",IF(cell>=65,"C","D"))), from IKM_LOWER_BOUNDS."""
    formula = '"D"'
    for bound, grade in reversed(IKM_LOWER_BOUNDS):
        formula = f'IF({cell}>={bound.normalize():f},"{grade}",{formula})'
    return "=" + formula


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
    f[layout.grade_cell] = grade_formula(r)
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


def data_sheet_values(layout: SheetLayout, ratings: list[dict]) -> dict[str, object]:
    """Cell -> the value each formula of data_sheet_formulas computes, exactly as a spreadsheet
    would (Fractions, ROUND half away from zero), so the file carries cached values that
    viewers which never recalculate (phones, previews) show."""
    rows = layout.rows
    cols = [get_column_letter(layout.first_col + i) for i in range(len(layout.codes))]
    totals = {c: sum(r[c] for r in ratings if r.get(c) is not None) for c in layout.codes}
    counts = {c: sum(1 for r in ratings if r.get(c) is not None) for c in layout.codes}
    n_elements = sum(1 for c in layout.codes if counts[c] > 0)
    v: dict[str, object] = {}
    weighted_sum = Fraction(0)
    for col, code in zip(cols, layout.codes):
        total, count = totals[code], counts[code]
        v[f"{col}{rows['total']}"] = total
        v[f"{col}{rows['count']}"] = count
        if count == 0:
            for name in ("nrr", "weight", "weighted"):
                v[f"{col}{rows[name]}"] = ""
            continue
        nrr = Fraction(total, count)
        weight = Fraction(1, n_elements)
        v[f"{col}{rows['nrr']}"] = nrr
        v[f"{col}{rows['weight']}"] = weight
        v[f"{col}{rows['weighted']}"] = nrr * weight
        weighted_sum += nrr * weight
    v[f"{cols[0]}{rows['n_elements']}"] = n_elements
    v[layout.respondents_cell] = len(ratings)
    v[layout.ikm_unit_cell] = weighted_sum
    v[layout.ikm_cell] = weighted_sum * 25
    rounded = round_half_up(weighted_sum * 25, 2)
    v[layout.ikm_rounded_cell] = rounded
    v[layout.grade_cell] = next((g for bound, g in IKM_LOWER_BOUNDS if rounded >= bound), "D")
    return v


def data_sheet_xlsx(session: Session, unit: Unit, period: Period) -> bytes:
    """Pengolahan data per responden dan per unsur, with totals, NRR, weighted NRR and IKM
    as live formulas over the respondent rows (excluded responses are left out, as in the IKM).

    Written with XlsxWriter, which stores each formula together with its computed value
    (data_sheet_values): Excel and LibreOffice recalculate on opening (fullCalcOnLoad),
    and viewers that do not recalculate still show the numbers. Text is always written
    as text (write_string), so a unit name starting with '=' never becomes a formula."""
    import xlsxwriter

    scope = Scope(unit.id, period.start_date, period.end_date)
    # Elements nobody rated stay as columns: their count is 0 and the formulas skip them.
    columns = element_columns(session, unit, scope)
    codes = [c.code for c in columns]
    names = {c.code: c.name for c in columns}
    sheet_rows = list(data_sheet_rows(session, scope))
    layout = data_sheet_layout(codes, len(sheet_rows))

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": True})
    bold = wb.add_format({"bold": True})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("Pengolahan data")
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, 34)

    def text(row: int, col: int, value: str, fmt=None) -> None:
        ws.write_string(row, col, _clean(value) or "", fmt)

    text(0, 0, "PENGOLAHAN DATA SURVEI KEPUASAN MASYARAKAT PER RESPONDEN DAN PER UNSUR PELAYANAN", bold)
    text(1, 0, unit.name)
    text(2, 0, f"Periode: {period.name} ({period.start_date:%d-%m-%Y} s.d. {period.end_date:%d-%m-%Y})")
    text(3, 0, ", ".join(f"{c} = {names[c]}" for c in codes))
    for col, label in enumerate(["No", "Tanggal", *codes]):
        text(4, col, label, bold)
    for i, row in enumerate(sheet_rows):
        r = layout.first_row - 1 + i
        ws.write_number(r, 0, row.number)
        ws.write_datetime(r, 1, dt.datetime.combine(row.survey_date, dt.time()), day)
        for j, code in enumerate(codes):
            if row.ratings.get(code) is not None:
                ws.write_number(r, layout.first_col - 1 + j, row.ratings[code])
    if not sheet_rows:
        text(layout.first_row - 1, 0, "Belum ada responden pada periode ini.")
        wb.close()
        return out.getvalue()
    formulas = data_sheet_formulas(layout)
    values = data_sheet_values(layout, [row.ratings for row in sheet_rows])
    formats = {name: wb.add_format({"num_format": f}) for name, f in SUMMARY_FORMATS.items()}
    order = ("total", "count", "nrr", "weight", "weighted", "n_elements", "respondents", "ikm_unit", "ikm",
             "ikm_rounded", "grade")
    for name in order:
        r = layout.rows[name]
        text(r - 1, 1, SUMMARY_LABELS[name], bold)
        for i in range(len(codes)):
            ref = f"{get_column_letter(layout.first_col + i)}{r}"
            if ref not in formulas:
                break
            value = values[ref]
            cached = value if isinstance(value, str) else float(value)  # type: ignore[arg-type]
            ws.write_formula(r - 1, layout.first_col - 1 + i, formulas[ref], formats.get(name), cached)
    wb.close()
    return out.getvalue()
