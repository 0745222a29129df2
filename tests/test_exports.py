"""Exports: raw responses (XLSX/CSV), results XLSX, the data sheet with live formulas, the
import template, the blank questionnaire, and the export -> import round trip."""
from __future__ import annotations

import csv
import datetime as dt
import io
from fractions import Fraction

import pytest
from openpyxl import load_workbook

from skm.intake.importer import commit_import, preview_import
from skm.models import Response
from skm.reports import exports, questionnaire, workbooks
from skm.scoring.results import period_results
from skm.survey.periods import quarter
from skm.survey.responses import set_excluded
from skm.survey.units import new_questionnaire_version
from tests.factories import login, make_period, make_response, make_unit, make_user
from tests.xlsx_eval import Evaluator


def switch_user(client, username):
    """A fresh client logged in as another user. The db fixture keeps one app context for the
    whole test, so the per-context caches in g (Flask-Login's user, Flask-WTF's token) go too."""
    from flask import g

    def forget():
        for key in ("_login_user", "csrf_token"):
            g.pop(key, None)

    forget()
    fresh = client.application.test_client()
    login(fresh, username)
    forget()
    return fresh

AWKWARD_SARAN = [
    "=HYPERLINK(\"http://x\",\"klik\")",
    "+62 812 saran pakai plus",
    "-antrean lama; loket kurang, \"tolong\" ditambah",
    "@admin tolong dicek",
    "'kutipan' di awal",
    "Baris satu\r\nBaris dua; dengan titik koma, dan koma",
    "Pelayanan ramah 👍 – terima kasih",
]


def _populate(session, unit):
    """Responses exercising every field, incl. one excluded and one flagged."""
    a, b = unit.services
    rows = []
    specs = [
        dict(ratings=[4, 3, 4, 4, 3, 4, 4, 2, 3], service=a, survey_time=dt.time(9, 15), time_slot="08.00-12.00",
             gender="L", age=34, education="S1", occupation="PNS", suggestion=AWKWARD_SARAN[0]),
        dict(ratings=[3, 3, 3, 4, 3, 3, 4, 2, 2], service=b, time_slot="13.00-17.00", gender="P", age=22,
             education="SMA", occupation="LAINNYA", occupation_other="Mahasiswa", suggestion=AWKWARD_SARAN[1]),
        dict(ratings={"U1": 2, "U2": None, "U3": 3, "U4": 4, "U5": 3, "U6": 3, "U7": 3, "U8": 1, "U9": None},
             gender="P", age=51, education="TS", occupation="WIRAUSAHA", suggestion=AWKWARD_SARAN[2]),
        dict(ratings=[4, 4, 4, 4, 4, 4, 4, 4, 4], service=a, survey_time=dt.time(14, 5), time_slot="13.00-17.00",
             education="DIII", occupation="SWASTA", suggestion=AWKWARD_SARAN[3]),
        dict(ratings=[1, 2, 1, 3, 2, 2, 1, 1, 2], service=b, gender="L", age=18, occupation="LAINNYA",
             suggestion=AWKWARD_SARAN[4]),
        dict(ratings=[3, 4, 3, 4, 3, 4, 3, 3, 3], service=a, gender="L", age=40, education="S3",
             occupation="TNI", suggestion=AWKWARD_SARAN[5]),
        dict(ratings=[3, 3, 2, 4, 3, 3, 3, 2, 3], gender="P", age=29, education="S2", occupation="POLRI",
             suggestion=AWKWARD_SARAN[6]),
    ]
    for i, spec in enumerate(specs):
        rows.append(make_response(session, unit, day=dt.date(2023, 7, 3) + dt.timedelta(days=3 * i), **spec))
    set_excluded(session, [rows[4].id], True)
    rows[5].flagged = True
    rows[5].flag_reason = "durasi terlalu singkat"
    session.flush()
    return rows


def _fields(r: Response) -> tuple:
    ratings = tuple(sorted((a.element.code, a.rating) for a in r.answers))
    return (r.survey_date, r.survey_time, r.time_slot, r.service.name if r.service else None, r.gender, r.age,
            r.education, r.occupation, r.occupation_other, r.suggestion, r.excluded, r.flagged, r.flag_reason,
            ratings)


def _scores_tuple(results):
    s = results.scores
    return (s.respondents, s.ikm, s.grade, [(e.code, e.count, e.total, e.nrr) for e in s.elements],
            {k: b.rows for k, b in results.profile.items()})


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_import_round_trip_keeps_every_field_and_the_results(db, fmt):
    source = make_unit(db.session, "SRC", "Unit Sumber")
    target = make_unit(db.session, "DST", "Unit Tujuan")
    period = make_period(db.session, quarter(2023, 3))
    original = _populate(db.session, source)
    # A response outside the period is not exported.
    make_response(db.session, source, [4] * 9, day=dt.date(2023, 10, 2))

    build = exports.raw_responses_csv if fmt == "csv" else exports.raw_responses_xlsx
    content = build(db.session, source, period)
    preview = preview_import(db.session, target, f"ekspor.{fmt}", content)
    assert preview.ok, preview.errors
    assert len(preview.rows) == len(original)
    assert set(preview.ignored_columns) == {"no", "kanal", "versi_kuesioner", "waktu_kirim_utc", "id"}
    commit_import(db.session, target, preview)
    db.session.flush()

    imported = db.session.query(Response).filter_by(unit_id=target.id).order_by(Response.survey_date, Response.id).all()
    assert [_fields(r) for r in imported] == [_fields(r) for r in original]
    assert imported[0].suggestion == AWKWARD_SARAN[0]  # formula-looking text survives as text
    assert _scores_tuple(period_results(db.session, target, period)) == \
        _scores_tuple(period_results(db.session, source, period))
    # The preview's own figures are those the committed data gives.
    assert preview.scores.ikm == period_results(db.session, target, period).scores.ikm


def test_csv_neutralises_formula_cells_and_keeps_element_order(db):
    unit = make_unit(db.session)
    period = make_period(db.session)
    _populate(db.session, unit)
    text = exports.raw_responses_csv(db.session, unit, period).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    header = rows[0]
    assert header[:9] == ["no", "tanggal", "jam", "layanan", "jenis_kelamin", "usia", "pendidikan", "pekerjaan", "saran"]
    assert header[9:18] == [f"U{i}" for i in range(1, 10)]
    saran = [r[8] for r in rows[1:]]
    for cell in saran:
        assert not cell.startswith(("=", "+", "-", "@")), cell
    assert saran[0] == "'" + AWKWARD_SARAN[0]
    assert saran[4] == "''kutipan' di awal"
    assert saran[6] == AWKWARD_SARAN[6]  # ordinary text untouched


def test_questionnaire_order_decides_element_columns(db):
    unit = make_unit(db.session)
    period = make_period(db.session)
    make_response(db.session, unit, [4] * 9)
    # New version: U9 before U8, plus a new element; old responses keep their elements.
    els = [{"code": e.code, "name": e.name, "question": e.question, "labels": e.labels}
           for e in unit.current_questionnaire.elements]
    els[7], els[8] = els[8], els[7]
    els.append({"code": "U10", "name": "Aplikasi", "question": "Kemudahan aplikasi?",
                "labels": ["Sulit", "Kurang mudah", "Mudah", "Sangat mudah"]})
    new_questionnaire_version(db.session, unit, els)
    make_response(db.session, unit, {e["code"]: 3 for e in els})
    wb = load_workbook(io.BytesIO(exports.raw_responses_xlsx(db.session, unit, period)))
    header = [c.value for c in wb["Responden"][1]]
    assert header[9:19] == ["U1", "U2", "U3", "U4", "U5", "U6", "U7", "U9", "U8", "U10"]
    row = [c.value for c in wb["Responden"][2]]
    assert row[18] is None  # the old response never answered U10


def test_results_xlsx_one_sheet_per_table_with_number_cells(db):
    unit = make_unit(db.session)
    period = make_period(db.session, population=100)
    _populate(db.session, unit)
    results = period_results(db.session, unit, period)
    wb = load_workbook(io.BytesIO(workbooks.results_xlsx(db.session, unit, period)))
    assert wb.sheetnames == ["Ringkasan", "Unsur", "Kinerja", "Jenis kelamin", "Usia", "Pendidikan",
                             "Pekerjaan", "Jenis layanan", "Tabel mutu"]
    summary = {r[0].value: r[1].value for r in wb["Ringkasan"].iter_rows()}
    assert summary["Jumlah responden"] == results.respondents == 6
    assert isinstance(summary["IKM"], float) and summary["IKM"] == pytest.approx(float(results.scores.ikm), abs=1e-12)
    assert summary["Mutu pelayanan"] == results.scores.grade
    assert summary["Sampel minimal (Krejcie–Morgan)"] == 80
    rows = list(wb["Unsur"].iter_rows(min_row=2, values_only=True))
    for e, row in zip(results.scores.elements, rows):
        assert row[0] == e.code and row[2] == e.count and row[3] == e.total
        assert isinstance(row[4], (int, float)) and row[4] == pytest.approx(float(e.nrr), abs=1e-12)
        assert row[7] == e.grade
    gender = list(wb["Jenis kelamin"].iter_rows(min_row=2, values_only=True))
    assert gender[0][:2] == ("Laki-laki", 2) and isinstance(gender[0][2], float)
    assert wb["Unsur"]["E2"].number_format == "0.000"


def test_data_sheet_formulas_equal_the_app_figures(db):
    unit = make_unit(db.session)
    period = make_period(db.session)
    _populate(db.session, unit)
    # A questionnaire element nobody rated in the period: it must not count in the weights.
    els = [{"code": e.code, "name": e.name, "question": e.question, "labels": e.labels}
           for e in unit.current_questionnaire.elements]
    els.append({"code": "U10", "name": "Aplikasi", "question": "?", "labels": ["a", "b", "c", "d"]})
    new_questionnaire_version(db.session, unit, els)
    results = period_results(db.session, unit, period)
    s = results.scores

    content = workbooks.data_sheet_xlsx(db.session, unit, period)
    wb = load_workbook(io.BytesIO(content))
    ws = wb["Pengolahan data"]
    codes = [e.code for e in unit.current_questionnaire.elements]
    layout = workbooks.data_sheet_layout(codes, s.respondents)
    formulas = workbooks.data_sheet_formulas(layout)
    # What is in the file is what data_sheet_formulas promises: live formulas, not values.
    for ref, formula in formulas.items():
        assert ws[ref].value == formula, ref
    assert any("SUM(" in f for f in formulas.values()) and any("COUNT(" in f for f in formulas.values())
    # Respondent rows: excluded responses are left out, as in the IKM.
    assert ws.cell(layout.last_row, 1).value == s.respondents == 6
    assert ws.cell(layout.last_row + 1, 1).value is None

    ev = Evaluator(ws)
    by_code = {e.code: e for e in s.elements}
    for i, code in enumerate(codes):
        col = ws.cell(1, layout.first_col + i).column_letter
        total = ev.value(f"{col}{layout.rows['total']}")
        count = ev.value(f"{col}{layout.rows['count']}")
        if code not in by_code:
            assert count == 0 and ev.value(f"{col}{layout.rows['nrr']}") == ""
            continue
        e = by_code[code]
        assert (total, count) == (e.total, e.count)
        assert ev.value(f"{col}{layout.rows['nrr']}") == e.nrr
        assert ev.value(f"{col}{layout.rows['weight']}") == e.weight == Fraction(1, 9)
        assert ev.value(f"{col}{layout.rows['weighted']}") == e.weighted_nrr
    assert ev.value(layout.respondents_cell) == s.respondents
    assert ev.value(layout.ikm_unit_cell) == s.ikm_unit
    assert ev.value(layout.ikm_cell) == s.ikm  # exactly, not approximately
    from skm.scoring.ikm import round_half_up
    assert ev.value(layout.ikm_rounded_cell) == Fraction(round_half_up(s.ikm, 2))
    assert ev.value(layout.grade_cell) == s.grade


def test_data_sheet_of_an_empty_period_has_no_broken_formulas(db):
    unit = make_unit(db.session)
    period = make_period(db.session)
    wb = load_workbook(io.BytesIO(workbooks.data_sheet_xlsx(db.session, unit, period)))
    values = [c.value for row in wb.active.iter_rows() for c in row if c.value is not None]
    assert "Belum ada responden pada periode ini." in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    results = load_workbook(io.BytesIO(workbooks.results_xlsx(db.session, unit, period)))
    summary = {r[0].value: r[1].value for r in results["Ringkasan"].iter_rows()}
    assert summary["Jumlah responden"] == 0 and summary["IKM"] == "belum ada data"
    raw = exports.raw_responses_csv(db.session, unit, period).decode("utf-8-sig").splitlines()
    assert len(raw) == 1 and raw[0].startswith("no,tanggal,")


def test_import_template_writes_names_starting_with_equals_as_text(db):
    unit = make_unit(db.session, services=("=HYPERLINK(\"http://x\")", "Layanan B"))
    element = unit.current_questionnaire.elements[0]
    element.name = "=1+1"
    element.question = "=cmd|' /C calc'!A0"
    db.session.flush()
    data = exports.import_template_xlsx(unit)
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in xml and "<f " not in xml
    wb = load_workbook(io.BytesIO(data))
    texts = [c.value for row in wb["Petunjuk"].iter_rows() for c in row]
    assert any(isinstance(t, str) and t.startswith("=1+1: nilai 1–4") for t in texts)
    assert wb["Daftar"]["B2"].value == '=HYPERLINK("http://x")' and wb["Daftar"]["B2"].data_type == "s"


def test_import_template_has_headers_and_validation_lists(db):
    unit = make_unit(db.session)
    wb = load_workbook(io.BytesIO(exports.import_template_xlsx(unit)))
    assert wb.sheetnames[0] == "Data"
    ws = wb["Data"]
    header = [c.value for c in ws[1]]
    assert header == ["tanggal", "jam", "layanan", "jenis_kelamin", "usia", "pendidikan", "pekerjaan", "saran",
                      *[f"U{i}" for i in range(1, 10)]]
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    assert validations["I2:Q5000"].formula1 == '"1,2,3,4"'
    assert validations["C2:C5000"].formula1 == "Daftar!$B$2:$B$3"
    import zipfile

    xml = zipfile.ZipFile(io.BytesIO(exports.import_template_xlsx(unit))).read("xl/worksheets/sheet1.xml").decode()
    assert "<formula1>=" not in xml  # Excel would "repair" a leading '=' in a validation formula
    assert [c.value for c in wb["Daftar"]["B"][1:3]] == ["Layanan A", "Layanan B"]
    assert validations["D2:D5000"].type == "list" and validations["E2:E5000"].type == "whole"
    # A filled-in template imports.
    ws.append([dt.date(2023, 8, 1), "08.00-12.00", "Layanan A", "P", 30, "S1", "Swasta", "ok", 4, 4, 3, 3, 4, 4, 4, 3, 3])
    out = io.BytesIO()
    wb.save(out)
    preview = preview_import(db.session, unit, "templat.xlsx", out.getvalue())
    assert preview.ok, preview.errors
    assert preview.rows[0].gender == "P" and preview.rows[0].occupation == "SWASTA"


def test_questionnaire_sheet_and_print_page(db, client):
    unit = make_unit(db.session, ask_age=False)
    make_user(db.session, "op", "operator", [unit])
    db.session.commit()
    sheet = questionnaire.questionnaire_sheet(unit)
    assert [e["code"] for e in sheet["elements"]] == [f"U{i}" for i in range(1, 10)]
    assert sheet["services"] == ["Layanan A", "Layanan B"]
    assert "age" not in [f["key"] for f in sheet["profile"]]
    login(client, "op")
    page = client.get(f"/admin/units/{unit.id}/data/kuesioner").get_data(as_text=True)
    for e in unit.current_questionnaire.elements:
        assert e.question in page
        for label in e.labels:
            assert label in page
    for text in ("08.00-12.00", "13.00-17.00", "Layanan A", "Saran / masukan", "Tanggal survei", "Pendidikan"):
        assert text in page
    assert "<script" not in page


def test_export_routes_and_access(db, client):
    unit = make_unit(db.session)
    other = make_unit(db.session, "LAIN", "Unit Lain")
    period = make_period(db.session)
    _populate(db.session, unit)
    make_user(db.session, "mgr", "manager", [unit])
    make_user(db.session, "op", "operator", [unit])
    db.session.commit()
    login(client, "mgr")
    for kind, magic in (("responden.xlsx", b"PK"), ("responden.csv", b"\xef\xbb\xbfno,"), ("hasil.xlsx", b"PK"),
                        ("pengolahan-data.xlsx", b"PK")):
        r = client.get(f"/admin/units/{unit.id}/data/ekspor/{period.id}/{kind}")
        assert r.status_code == 200, kind
        assert r.data.startswith(magic)
        assert "attachment" in r.headers["Content-Disposition"]
    assert client.get(f"/admin/units/{unit.id}/data/ekspor/{period.id}/lain.xlsx").status_code == 404
    assert client.get(f"/admin/units/{unit.id}/data/ekspor/9999/hasil.xlsx").status_code == 404
    assert client.get(f"/admin/units/{other.id}/data/ekspor/{period.id}/hasil.xlsx").status_code == 403
    page = client.get(f"/admin/units/{unit.id}/data").get_data(as_text=True)
    assert "pengolahan-data.xlsx" in page and "Impor responden" in page  # managers export and import (issue 17)
    client = switch_user(client, "op")
    assert client.get(f"/admin/units/{unit.id}/data/ekspor/{period.id}/hasil.xlsx").status_code == 403
    assert client.get(f"/admin/units/{unit.id}/data").status_code == 403
    assert client.get(f"/admin/units/{unit.id}/data/templat.xlsx").status_code == 200


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from skm.intake.tables import escape_csv_cell, unescape_csv_cell  # noqa: E402


@given(st.text(max_size=30))
def test_csv_escaping_is_reversible_and_never_starts_a_formula(text):
    escaped = escape_csv_cell(text)
    assert unescape_csv_cell(escaped) == text
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_cli_export_then_cli_import_round_trip(db, runner, tmp_path):
    source = make_unit(db.session, "SRC", "Unit Sumber")
    make_unit(db.session, "DST", "Unit Tujuan")
    period = make_period(db.session)
    _populate(db.session, source)
    db.session.commit()
    out = tmp_path / "r.csv"
    result = runner.invoke(args=["skm", "export", "--unit", "SRC", "--period", period.name, "--kind",
                                 "responden.csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["skm", "import", str(out), "--unit", "DST"])
    assert result.exit_code == 0, result.output
    assert "7 responden diimpor ke DST" in result.output
    again = runner.invoke(args=["skm", "import", str(out), "--unit", "DST"])
    assert again.exit_code == 1 and "Data yang sama sudah diimpor" in again.output
    bad = runner.invoke(args=["skm", "export", "--unit", "SRC", "--period", "Tidak Ada", "--kind", "hasil.xlsx",
                              "--out", str(tmp_path / "x.xlsx")])
    assert bad.exit_code != 0 and "tidak ditemukan" in bad.output


def test_data_sheet_recomputed_by_an_independent_formula_engine(db, tmp_path):
    """The `formulas` package (an Excel formula engine, float arithmetic like Excel) computes
    the same figures as the app. LibreOffice is not installed here; this stands in for it."""
    formulas = pytest.importorskip("formulas")  # a test dependency in pyproject: never skipped in CI
    unit = make_unit(db.session)
    period = make_period(db.session)
    _populate(db.session, unit)
    els = [{"code": e.code, "name": e.name, "question": e.question, "labels": e.labels}
           for e in unit.current_questionnaire.elements]
    els.append({"code": "U10", "name": "Aplikasi", "question": "?", "labels": ["a", "b", "c", "d"]})
    new_questionnaire_version(db.session, unit, els)
    s = period_results(db.session, unit, period).scores
    path = tmp_path / "d.xlsx"
    path.write_bytes(workbooks.data_sheet_xlsx(db.session, unit, period))
    solution = formulas.ExcelModel().loads(str(path)).finish().calculate()

    def cell(ref):
        return solution[f"'[d.xlsx]PENGOLAHAN DATA'!{ref}"].value[0][0]

    codes = [e.code for e in unit.current_questionnaire.elements]
    layout = workbooks.data_sheet_layout(codes, s.respondents)
    from openpyxl.utils import get_column_letter

    from skm.scoring.ikm import round_half_up

    for _i, e in enumerate(s.elements):
        col = get_column_letter(layout.first_col + codes.index(e.code))
        assert cell(f"{col}{layout.rows['total']}") == e.total
        assert cell(f"{col}{layout.rows['count']}") == e.count
        assert cell(f"{col}{layout.rows['nrr']}") == pytest.approx(float(e.nrr), abs=1e-12)
        assert cell(f"{col}{layout.rows['weighted']}") == pytest.approx(float(e.weighted_nrr), abs=1e-12)
    assert cell(layout.ikm_unit_cell) == pytest.approx(float(s.ikm_unit), abs=1e-12)
    assert cell(layout.ikm_cell) == pytest.approx(float(s.ikm), abs=1e-10)
    assert float(cell(layout.ikm_rounded_cell)) == float(round_half_up(s.ikm, 2))
    assert cell(layout.grade_cell) == s.grade


def test_data_sheet_carries_cached_values_for_viewers_that_do_not_recalculate(db):
    """openpyxl's data_only view reads the cached values, as a phone preview does: every
    formula cell holds the figure the app computes (issue 17)."""
    from skm.scoring.ikm import round_half_up

    unit = make_unit(db.session)
    period = make_period(db.session)
    _populate(db.session, unit)
    db.session.commit()
    s = period_results(db.session, unit, period).scores
    content = workbooks.data_sheet_xlsx(db.session, unit, period)
    ws = load_workbook(io.BytesIO(content), data_only=True)["Pengolahan data"]
    codes = [e.code for e in unit.current_questionnaire.elements]
    layout = workbooks.data_sheet_layout(codes, s.respondents)
    formulas = workbooks.data_sheet_formulas(layout)
    assert all(ws[ref].value is not None for ref in formulas), [r for r in formulas if ws[r].value is None]
    by_code = {e.code: e for e in s.elements}
    for i, code in enumerate(codes):
        col = ws.cell(1, layout.first_col + i).column_letter
        if code not in by_code:
            assert ws[f"{col}{layout.rows['count']}"].value == 0 and ws[f"{col}{layout.rows['nrr']}"].value == ""
            continue
        assert ws[f"{col}{layout.rows['total']}"].value == by_code[code].total
        assert ws[f"{col}{layout.rows['nrr']}"].value == pytest.approx(float(by_code[code].nrr), abs=1e-12)
    assert ws[layout.ikm_cell].value == pytest.approx(float(s.ikm), abs=1e-9)
    assert ws[layout.ikm_rounded_cell].value == float(round_half_up(s.ikm, 2))
    assert ws[layout.grade_cell].value == s.grade
    assert ws[layout.respondents_cell].value == s.respondents
