"""Import in the browser: preview, commit in one transaction, duplicates, malformed files."""
from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from flask import g
from openpyxl import Workbook
from sqlalchemy import func, select

from skm.core.formatting import number_id
from skm.intake.importer import ImportRejected, commit_import, preview_import
from skm.models import ImportBatch, Response
from skm.scoring.results import period_results
from tests.factories import login, make_period, make_unit, make_user

HEADER = "tanggal,jam,layanan,jenis_kelamin,usia,pendidikan,pekerjaan,saran," + ",".join(f"U{i}" for i in range(1, 10))


def _rows(n: int, bad_row: int | None = None) -> str:
    lines = [HEADER]
    for i in range(n):
        ratings = [str(1 + (i * (k + 3)) % 4) for k in range(9)]
        if bad_row is not None and i + 2 == bad_row:
            ratings[2] = "5"
        day = dt.date(2023, 7, 1) + dt.timedelta(days=i % 90)
        lines.append(f"{day.isoformat()},{'09:30' if i % 2 else '13.00-17.00'},Layanan {'AB'[i % 2]},"
                     f"{'LP'[i % 2]},{20 + i % 50},{['SD', 'SMA', 'S1'][i % 3]},Swasta,\"saran {i}, oke\","
                     + ",".join(ratings))
    return "\n".join(lines) + "\n"


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def admin_client(db, client):
    unit = make_unit(db.session)
    make_period(db.session)
    make_user(db.session)
    db.session.commit()
    login(client)
    client.unit = unit
    return client


def _upload(client, name: str, content: bytes, **fields):
    g.pop("csrf_token", None)  # one app context for the whole test: see test_entry._page
    page = client.get(f"/admin/units/{client.unit.id}/data").get_data(as_text=True)
    data = {"csrf_token": _token(page), "kanal": "paper", "berkas": (io.BytesIO(content), name), **fields}
    return client.post(f"/admin/units/{client.unit.id}/data/impor", data=data, content_type="multipart/form-data")


def _commit(client, preview_page: str):
    token = re.search(r'name="token" value="([0-9a-f]+)"', preview_page).group(1)
    return client.post(f"/admin/units/{client.unit.id}/data/impor/simpan",
                       data={"csrf_token": _token(preview_page), "token": token})


def _count(db):
    return db.session.scalar(select(func.count(Response.id)))


def test_preview_numbers_equal_the_scores_after_commit(db, admin_client, app):
    content = _rows(120).encode()
    r = _upload(admin_client, "kertas.csv", content)
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'id="row-count">120<' in page
    assert _count(db) == 0  # a preview stores nothing
    stored = list((Path(app.config["UPLOAD_FOLDER"]) / "imports").iterdir())
    assert len(stored) == 2 and any(p.read_bytes() == content for p in stored)  # kept on disk, not in memory
    shown_ikm = re.search(r'id="preview-ikm">([^<]+)<', page).group(1)
    shown_nrr = dict(re.findall(r'data-code="(U\d)">([^<]+)<', page))

    r = _commit(admin_client, page)
    assert r.status_code == 302
    assert "120 responden dari kertas.csv berhasil diimpor" in admin_client.get(r.headers["Location"]).get_data(as_text=True)
    assert list((Path(app.config["UPLOAD_FOLDER"]) / "imports").iterdir()) == []
    unit = admin_client.unit
    from skm.models import Period

    results = period_results(db.session, unit, db.session.scalar(select(Period)))
    assert results.respondents == 120
    assert shown_ikm == number_id(results.scores.ikm)
    assert shown_nrr == {e.code: number_id(e.nrr) for e in results.scores.elements}
    assert {r.channel for r in db.session.scalars(select(Response))} == {"paper"}
    batch = db.session.scalar(select(ImportBatch))
    assert batch.row_count == 120 and batch.created_by_id is not None


def test_preview_equals_commit_in_the_domain_too(db):
    unit = make_unit(db.session)
    period = make_period(db.session)
    preview = preview_import(db.session, unit, "a.csv", _rows(57).encode())
    commit_import(db.session, unit, preview)
    results = period_results(db.session, unit, period)
    assert preview.scores.ikm == results.scores.ikm
    assert [(e.code, e.nrr) for e in preview.scores.elements] == [(e.code, e.nrr) for e in results.scores.elements]


def test_one_bad_row_among_many_stores_nothing_and_names_the_row(db, admin_client):
    r = _upload(admin_client, "kertas.csv", _rows(200, bad_row=137).encode())
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "baris 137, kolom U3: Nilai &#39;5&#39; tidak boleh; hanya 1, 2, 3 atau 4." in page
    assert "1 kesalahan" in page
    assert 'name="token"' not in page  # nothing to commit
    assert _count(db) == 0
    unit = admin_client.unit
    preview = preview_import(db.session, unit, "kertas.csv", _rows(200, bad_row=137).encode())
    with pytest.raises(ImportRejected):
        commit_import(db.session, unit, preview)
    assert _count(db) == 0


def test_same_data_twice_is_refused(db, admin_client):
    content = _rows(10).encode()
    page = _upload(admin_client, "a.csv", content).get_data(as_text=True)
    _commit(admin_client, page)
    assert _count(db) == 10
    # The same data under another name, and as XLSX, is recognised.
    page = _upload(admin_client, "b.csv", content).get_data(as_text=True)
    assert "Data yang sama sudah diimpor" in page and 'name="token"' not in page
    assert _count(db) == 10


def test_stale_or_foreign_token_is_refused(db, admin_client):
    page = _upload(admin_client, "a.csv", _rows(5).encode()).get_data(as_text=True)
    assert _commit(admin_client, page).status_code == 302
    again = _commit(admin_client, page)  # the same token a second time (double click)
    assert again.status_code == 200 and "kedaluwarsa atau sudah disimpan" in again.get_data(as_text=True)
    r = admin_client.post(f"/admin/units/{admin_client.unit.id}/data/impor/simpan",
                          data={"csrf_token": _token(page), "token": "../../secret_key"})
    assert r.status_code == 200 and "kedaluwarsa" in r.get_data(as_text=True)
    assert _count(db) == 5


def _xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


XHEAD = HEADER.split(",")
GOOD = [dt.date(2023, 8, 1), "08.00-12.00", "Layanan A", "L", 30, "S1", "PNS", "ok", 4, 4, 3, 3, 4, 4, 4, 3, 3]

MALFORMED = [
    ("laporan.pdf", b"%PDF-1.4 ...", "Jenis berkas tidak didukung"),
    ("kosong.csv", b"", "Berkas kosong"),
    ("judul.csv", (HEADER + "\n").encode(), "hanya berisi judul kolom"),
    ("salah.csv", b"nama,nilai\nBudi,4\n", "Kolom wajib tidak ada: tanggal, U1"),
    ("palsu.xlsx", b"PK\x03\x04 not really a zip", "XLSX rusak"),
    ("biner.csv", b"PK\x03\x04\x00\x00", "bukan teks CSV"),
    ("latin.csv", (HEADER + "\n2023-08-01,,,,,,,caf\xe9,4,4,4,4,4,4,4,4,4\n").encode("latin-1"), None),
    ("rumus.csv", (HEADER + "\n2023-08-01,,,,,,,ok,=1+3,4,4,4,4,4,4,4,4\n").encode(), "baris 2, kolom U1: berisi rumus"),
    ("tanggal.csv", (HEADER + "\n06/04/23,,,,,,,,4,4,4,4,4,4,4,4,4\n31/02/2023,,,,,,,,4,4,4,4,4,4,4,4,4\n"
                     "2023-13-45,,,,,,,,4,4,4,4,4,4,4,4,4\nkemarin,,,,,,,,4,4,4,4,4,4,4,4,4\n"
                     ",,,,,,,,4,4,4,4,4,4,4,4,4\n").encode(),
     ["baris 2, kolom tanggal: tahun harus ditulis empat angka", "baris 3, kolom tanggal: tanggal &#39;31/02/2023&#39; tidak valid",
      "baris 4, kolom tanggal", "baris 5, kolom tanggal: format tanggal tidak dikenal", "baris 6, kolom tanggal: tanggal wajib diisi"]),
    ("rumus.xlsx", _xlsx([XHEAD, GOOD[:7] + ["=A2+1"] + GOOD[8:]]), "baris 2, kolom saran: berisi rumus"),
    ("angka.xlsx", _xlsx([XHEAD, [45139] + GOOD[1:]]), "tanggal berupa angka"),
    ("kutip.csv", (HEADER + '\n2023-08-01,,,,,,,"tidak ditutup' + "x" * 200_000 + "\n").encode(),
     "Berkas CSV rusak"),
    ("rumus-unsur.xlsx", _xlsx([XHEAD, GOOD[:8] + ["=1+3"] + GOOD[9:]]), "baris 2, kolom U1: berisi rumus"),
    ("kolom-ganda.csv", (HEADER + ",U1\n2023-08-01,,,,,,,,4,4,4,4,4,4,4,4,4,4\n").encode(), "kolom ganda"),
]


@pytest.mark.parametrize("name,content,message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_files_get_clear_messages_never_a_500(db, admin_client, name, content, message):
    r = _upload(admin_client, name, content)
    page = r.get_data(as_text=True)
    assert r.status_code == 200, page[:500]
    for text in ([message] if isinstance(message, str) else message or []):
        assert text in page, text
    if message is None:  # latin-1 CSV is read as Windows-1252 and accepted
        assert 'name="token"' in page
    else:
        assert 'name="token"' not in page
    assert _count(db) == 0


def test_odd_but_unambiguous_dates_are_read(db):
    unit = make_unit(db.session)
    lines = [HEADER] + [f"{d},,,,,,,,4,4,4,4,4,4,4,4,4" for d in
                        ("4 Agustus 2023", "04-08-2023", "04.08.2023", "2023/08/04", "2023-08-04 10:15:00", "4 Agt 2023")]
    preview = preview_import(db.session, unit, "a.csv", "\n".join(lines).encode())
    assert preview.ok, preview.errors
    assert {r.survey_date for r in preview.rows} == {dt.date(2023, 8, 4)}


def test_huge_files_are_refused_with_a_message(db, admin_client, app):
    big = (HEADER + "\n" + "2023-08-01,,,,,,,," + ",".join(["4"] * 9) + "\n") + "x" * (11 * 1024 * 1024)
    page = _upload(admin_client, "besar.csv", big.encode()).get_data(as_text=True)
    assert "Berkas terlalu besar: paling besar 10 MB" in page
    # Beyond the request limit the server answers 413 with an Indonesian page, not a 500.
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    r = _upload(admin_client, "besar.csv", big.encode())
    assert r.status_code == 413 and "Berkas terlalu besar" in r.get_data(as_text=True)
    assert _count(db) == 0


def test_no_file_and_bad_channel(db, admin_client):
    g.pop("csrf_token", None)
    page = admin_client.get(f"/admin/units/{admin_client.unit.id}/data").get_data(as_text=True)
    r = admin_client.post(f"/admin/units/{admin_client.unit.id}/data/impor", data={"csrf_token": _token(page)})
    assert r.status_code == 200 and "Pilih berkas CSV atau XLSX" in r.get_data(as_text=True)
    r = _upload(admin_client, "a.csv", _rows(3).encode(), kanal="kiosk")
    assert "Kanal tidak dikenal" in r.get_data(as_text=True)


def test_managers_import_into_their_own_units_only(db, client):
    """Issue 17: a manager imports for their own unit (this test used to expect 403: admins only);
    another unit's import stays refused (operators: tests/test_role_matrix.py)."""
    unit = make_unit(db.session)
    other = make_unit(db.session, "LAIN", "Unit Lain")
    make_user(db.session, "mgr", "manager", [unit])
    db.session.commit()
    login(client, "mgr")
    g.pop("csrf_token", None)
    page = client.get(f"/admin/units/{unit.id}/data").get_data(as_text=True)
    assert "Impor responden" in page
    r = client.post(f"/admin/units/{other.id}/data/impor", content_type="multipart/form-data",
                    data={"csrf_token": _token(page), "berkas": (io.BytesIO(_rows(3).encode()), "a.csv")})
    assert r.status_code == 403
    r = client.post(f"/admin/units/{unit.id}/data/impor", content_type="multipart/form-data",
                    data={"csrf_token": _token(page), "berkas": (io.BytesIO(_rows(3).encode()), "a.csv")})
    assert r.status_code == 200
    preview = r.get_data(as_text=True)
    token = re.search(r'name="token" value="([0-9a-f]+)"', preview).group(1)
    assert client.post(f"/admin/units/{unit.id}/data/impor/simpan",
                       data={"csrf_token": _token(preview), "token": token}).status_code == 302
    assert _count(db) == 3


def test_a_failure_half_way_through_the_commit_leaves_nothing(db, admin_client, monkeypatch):
    """The whole file is one transaction: rows already inserted go when a later part fails."""
    import skm.intake.importer as importer

    original = importer._insert_rows

    def half_then_fail(session, unit, questionnaire, rows, *args):
        original(session, unit, questionnaire, rows[: len(rows) // 2], *args)
        assert session.scalar(select(func.count(Response.id))) == len(rows) // 2
        raise importer.DomainError("disk penuh (simulasi)")

    monkeypatch.setattr(importer, "_insert_rows", half_then_fail)
    page = _upload(admin_client, "a.csv", _rows(40).encode()).get_data(as_text=True)
    r = _commit(admin_client, page)
    assert r.status_code == 200
    assert "tidak ada data yang disimpan" in r.get_data(as_text=True)
    db.session.rollback()
    assert _count(db) == 0
    assert db.session.scalar(select(func.count(ImportBatch.id))) == 0


def test_large_import_is_stored_by_the_queue_worker(db, admin_client, app, monkeypatch):
    """Above IMPORT_SYNC_MAX_ROWS, "Simpan" hands the previewed file to the queue worker: the job
    page follows it, the rows and the job's "done" are stored in one transaction (a retry of
    a finished job stores nothing twice), and a refusal shows why and stores nothing."""
    from skm.models import ReportJob
    from skm.reports import jobs as J

    launched: list[int] = []
    monkeypatch.setattr(J, "launch", lambda app_, job_id: launched.append(job_id))
    app.config["IMPORT_SYNC_MAX_ROWS"] = 5
    page = _upload(admin_client, "besar.csv", _rows(12).encode()).get_data(as_text=True)
    r = _commit(admin_client, page)
    assert r.status_code == 303 and _count(db) == 0  # the request stored nothing itself
    db.session.rollback()
    [job] = db.session.scalars(select(ReportJob)).all()
    assert r.headers["Location"] == f"/admin/laporan/job/{job.id}" and launched == [job.id]
    assert (job.kind, job.status, job.total) == ("impor", "queued", 12)
    meta = Path(job.file_path)
    assert meta.exists() and meta.with_suffix(".bin").exists()
    waiting = admin_client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Dalam antrean" in waiting and "Impor data" in waiting
    assert J.run_report_task(app, job.id) == "claimed"  # what the queue worker runs
    assert J.run_report_task(app, job.id) == "skip"  # a repeated task: nothing twice
    db.session.rollback()
    assert _count(db) == 12 and db.session.scalar(select(func.count(ImportBatch.id))) == 1
    job = db.session.get(ReportJob, job.id)
    assert (job.status, job.progress, job.file_path) == ("done", 12, None)
    assert not meta.exists() and not meta.with_suffix(".bin").exists()
    done = admin_client.get(f"/admin/laporan/job/{job.id}").get_data(as_text=True)
    assert "Impor selesai: 12 responden dari besar.csv disimpan." in done
    assert admin_client.get(f"/admin/laporan/job/{job.id}/unduh", follow_redirects=True).status_code == 200
    # Refused in the worker (here: the same rows were stored meanwhile by a small import).
    page = _upload(admin_client, "lagi.csv", _rows(20).encode()).get_data(as_text=True)
    r = _commit(admin_client, page)
    db.session.rollback()
    second = db.session.get(ReportJob, launched[-1])
    small = _upload(admin_client, "kecil.csv", _rows(20).encode()).get_data(as_text=True)
    app.config["IMPORT_SYNC_MAX_ROWS"] = 100
    _commit(admin_client, small)
    db.session.rollback()
    assert _count(db) == 32
    assert J.run_report_task(app, second.id) == "claimed"
    db.session.rollback()
    second = db.session.get(ReportJob, second.id)
    assert second.status == "failed" and "impor ditolak, tidak ada data yang disimpan" in second.error
    assert "Data yang sama sudah diimpor" in second.error and _count(db) == 32
    failed = admin_client.get(f"/admin/laporan/job/{second.id}").get_data(as_text=True)
    assert "Impor gagal: impor ditolak" in failed
