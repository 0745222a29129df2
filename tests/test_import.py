import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from skm.core.formatting import number_id
from skm.intake.importer import ImportRejected, commit_import, preview_import
from skm.models import Answer, Response
from skm.scoring.results import Scope, compute_results
from tests.factories import make_unit

DATA = Path(__file__).parent / "data"
HEADER = ["tanggal", "jam", "layanan", "jenis_kelamin", "usia", "pendidikan", "pekerjaan"] + [
    f"U{i}" for i in range(1, 10)] + ["saran"]


def csv_bytes(rows, header=HEADER, sep=","):
    lines = [sep.join(header)] + [sep.join(str(c) for c in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def good_row(**over):
    row = {"tanggal": "2023-08-01", "jam": "09:15", "layanan": "Layanan A", "jenis_kelamin": "L", "usia": "34",
           "pendidikan": "S1", "pekerjaan": "Swasta", **{f"U{i}": "3" for i in range(1, 10)}, "saran": ""}
    row.update(over)
    return [row[h] for h in HEADER]


def count_rows(db):
    return db.session.scalar(select(func.count(Response.id))), db.session.scalar(select(func.count(Answer.id)))


def test_published_quarter_sheet_reproduces_the_published_index(db):
    unit = make_unit(db.session, services=("Izin Usaha", "Cetak KTP"))
    path = DATA / "triwulan_published.csv"
    preview = preview_import(db.session, unit, path.name, path.read_bytes())
    assert preview.ok, preview.errors
    commit_import(db.session, unit, preview, channel="paper")
    db.session.commit()
    results = compute_results(db.session, Scope(unit.id, dt.date(2023, 7, 1), dt.date(2023, 9, 30)), unit)
    assert results.respondents == 57
    assert number_id(results.scores.ikm) == "90,89"
    assert results.scores.grade == "A" and results.scores.kinerja == "Sangat Baik"
    assert [number_id(e.nrr) for e in results.scores.elements] == [
        "3,63", "3,60", "3,58", "4,00", "3,58", "3,61", "3,63", "3,51", "3,58"]
    assert results.scores.elements[7].grade == "B"  # 3,5088 is below 3,5324
    # the preview's own numbers equal the stored results
    assert preview.scores.ikm == results.scores.ikm
    stored = db.session.scalars(select(Response).order_by(Response.id)).first()
    assert stored.survey_date == dt.date(2023, 7, 1) and stored.gender == "P" and stored.age == 18
    assert stored.education == "SMA" and stored.occupation == "SWASTA" and stored.time_slot == "08.00-12.00"
    assert stored.suggestion == "Antrean terlalu panjang" and stored.channel == "paper"
    others = db.session.scalars(select(Response).where(Response.occupation == "LAINNYA")).all()
    assert others and all(r.occupation_other == "Mahasiswa" for r in others)


def test_xlsx_import_with_real_cell_types(db):
    unit = make_unit(db.session)
    wb = Workbook()
    ws = wb.active
    ws.append([h.upper() for h in reversed(HEADER)])  # any order, any case
    ws.append(list(reversed([dt.datetime(2023, 8, 2), dt.time(14, 5), "Layanan B", "Perempuan", 41, "D3",
                             "Wiraswasta", 4, 4, 3, 4, 2, 3, 4, 4, None, "Bagus"])))
    buf = io.BytesIO()
    wb.save(buf)
    preview = preview_import(db.session, unit, "isi.xlsx", buf.getvalue())
    assert preview.ok, preview.errors
    commit_import(db.session, unit, preview)
    db.session.commit()
    r = db.session.scalar(select(Response))
    assert (r.survey_date, r.time_slot, r.gender, r.age, r.education, r.occupation) == (
        dt.date(2023, 8, 2), "13.00-17.00", "P", 41, "DIII", "WIRAUSAHA")
    assert r.service.name == "Layanan B" and r.channel == "import"
    assert len(r.answers) == 8  # U9 left empty is unanswered, not zero


@pytest.mark.parametrize("override, column, fragment", [
    ({"U3": "5"}, "U3", "Nilai '5' tidak boleh; hanya 1, 2, 3 atau 4."),
    ({"U1": "0"}, "U1", "Nilai '0' tidak boleh"),
    ({"U2": "tiga"}, "U2", "Nilai 'tiga' tidak boleh"),
    ({"tanggal": "2023/13/45"}, "tanggal", "tidak valid"),
    ({"tanggal": "31/02/2023"}, "tanggal", "tidak valid"),
    ({"jam": "25:00"}, "jam", "jam tidak valid"),
    ({"layanan": "Tidak Ada"}, "layanan", "tidak dikenal"),
    ({"jenis_kelamin": "X"}, "jenis_kelamin", "Jenis kelamin harus L (Laki-laki) atau P (Perempuan)."),
    ({"usia": "200"}, "usia", "Usia harus angka 15–99 tahun."),
    ({"usia": "12"}, "usia", "Usia harus angka 15–99 tahun."),
    ({"pendidikan": "TK"}, "pendidikan", "Pendidikan harus TS (tidak sekolah)"),
    ({"U4": "=1+3"}, "U4", "rumus"),
])
def test_one_bad_value_rejects_the_file_naming_row_and_column(db, override, column, fragment):
    unit = make_unit(db.session)
    rows = [good_row() for _ in range(5)] + [good_row(**override)] + [good_row()]
    preview = preview_import(db.session, unit, "data.csv", csv_bytes(rows))
    assert not preview.ok
    assert any(e.startswith(f"baris 7, kolom {column}:") and fragment in e for e in preview.errors), preview.errors
    with pytest.raises(ImportRejected):
        commit_import(db.session, unit, preview)
    db.session.commit()
    assert count_rows(db) == (0, 0)


def test_all_errors_are_listed(db):
    unit = make_unit(db.session)
    rows = [good_row(U1="9"), good_row(), good_row(usia="abc", jenis_kelamin="Z")]
    preview = preview_import(db.session, unit, "data.csv", csv_bytes(rows))
    assert len(preview.errors) == 3
    assert preview.errors[0].startswith("baris 2, kolom U1")
    assert {e.split(":")[0] for e in preview.errors[1:]} == {"baris 4, kolom usia", "baris 4, kolom jenis_kelamin"}


@pytest.mark.parametrize("name, content, fragment", [
    ("data.csv", b"", "kosong"),
    ("data.pdf", b"%PDF-1.4", "tidak didukung"),
    ("data.xlsx", b"tanggal,U1\n", "bukan Excel"),
    ("data.xlsx", b"PK\x03\x04garbage", "rusak"),
    ("data.csv", b"nama,umur\nBudi,3\n", "Kolom wajib tidak ada"),
    ("data.csv", ",".join(HEADER).encode() + b"\n", "tanpa data"),
])
def test_malformed_files_get_clear_messages(db, name, content, fragment):
    unit = make_unit(db.session)
    with pytest.raises(ImportRejected) as exc:
        preview_import(db.session, unit, name, content)
    assert fragment in str(exc.value)


@pytest.mark.parametrize("bad_saran", ['"tidak ditutup', '"ditutup" di tengah'])
def test_csv_with_a_broken_quote_is_refused_naming_the_row(db, bad_saran):
    """Before: the reader swallowed the following rows into one saran, the preview said
    clean and three respondents vanished."""
    unit = make_unit(db.session)
    rows = [good_row(), good_row(saran=bad_saran), good_row(), good_row(), good_row(saran='"ada, koma"')]
    with pytest.raises(ImportRejected) as exc:
        preview_import(db.session, unit, "data.csv", csv_bytes(rows))
    assert exc.value.errors[0].startswith("baris 3: Berkas CSV rusak: tanda kutip")
    assert count_rows(db) == (0, 0)
    # Correctly quoted cells (commas, doubled quotes, line breaks) still read.
    ok = [good_row(), good_row(saran='"kata ""bagus"", sekali\nbaris dua"'), good_row()]
    preview = preview_import(db.session, unit, "data.csv", csv_bytes(ok))
    assert preview.ok and len(preview.rows) == 3
    assert preview.rows[1].suggestion == 'kata "bagus", sekali\nbaris dua'


def test_the_same_data_twice_is_refused_unless_allowed(db):
    unit = make_unit(db.session)
    content = csv_bytes([good_row(), good_row(U1="4")])
    commit_import(db.session, unit, preview_import(db.session, unit, "a.csv", content))
    db.session.commit()
    # Same rows in another file name and separator: still the same data.
    again = preview_import(db.session, unit, "b.csv", csv_bytes([good_row(), good_row(U1="4")], sep=";"))
    with pytest.raises(ImportRejected) as exc:
        commit_import(db.session, unit, again)
    assert "sudah diimpor" in str(exc.value)
    db.session.rollback()
    assert count_rows(db)[0] == 2
    commit_import(db.session, unit, again, allow_duplicate=True)
    db.session.commit()
    assert count_rows(db)[0] == 4


def test_new_services_only_with_create_services(db):
    unit = make_unit(db.session)
    content = csv_bytes([good_row(layanan="Legalisir")])
    assert not preview_import(db.session, unit, "a.csv", content).ok
    preview = preview_import(db.session, unit, "a.csv", content, create_services=True)
    assert preview.ok and preview.new_services == ["Legalisir"]
    commit_import(db.session, unit, preview)
    db.session.commit()
    assert db.session.scalar(select(Response)).service.name == "Legalisir"
