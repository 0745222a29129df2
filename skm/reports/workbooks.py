"""Results workbooks: hasil.xlsx (number cells) and the data processing sheet with live formulas.
No Flask here; every function returns bytes and writes nothing to the database.
"""
from __future__ import annotations

from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from skm.models import Period, Unit
from skm.reports.exports import BOLD, _save, _text_cell, _xlsx_value, element_columns
from skm.scoring.ikm import GRADE_TABLE, IKM_LOWER_BOUNDS
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
