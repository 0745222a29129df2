"""Laporan Hasil Tindak Lanjut: chapters, plan table with TW marks, realization with photos,
conclusion with share done and strategy; typed text escaped; photos read only from uploads."""
from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess

import pytest
from PIL import Image
from pypdf import PdfReader

from skm.followup import actions, photos
from skm.followup import plans as F
from skm.reports.pdf import RestrictedLinks
from skm.reports.render import build
from tests.test_reports import flat, known, pdf_text  # noqa: F401  (fixture)


def _jpeg(color, size=(640, 480)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def plan(app, db, known):  # noqa: F811  (pytest fixture)
    unit, period, _ = known
    upload = app.config["UPLOAD_FOLDER"]
    plan = F.create_plan(db.session, unit, period, None, forum_date=dt.date(2023, 10, 12))
    # Three lowest: U8 2,50, U4 2,75, U7 2,75.
    by_code = {p.element_code: p for p in plan.priorities}
    a1 = actions.add_action(db.session, by_code["U8"], None, "Perbaikan ruang tunggu & kursi antrean", 2024, [1, 2],
                      "Subbag Umum")
    a2 = actions.add_action(db.session, by_code["U4"], None, "Sosialisasi tarif <b>resmi</b> di papan informasi", 2024,
                      [2], "Bidang Pelayanan")
    a3 = actions.add_action(db.session, by_code["U7"], None, "Pelatihan pelayanan prima", 2024, [3, 4], "Sekretariat")
    F.finalize_plan(db.session, plan, None)
    actions.record_realization(db.session, a1, None, status="sudah",
                         realization='Kursi diganti 40 unit. <img src="http://127.0.0.1:9/x">',
                         done_start=dt.date(2024, 2, 5), done_end=dt.date(2024, 3, 1), obstacles="Anggaran terbatas")
    actions.record_realization(db.session, a2, None, status="sudah", realization="Papan tarif dipasang di loket.",
                         done_start=dt.date(2024, 4, 15))
    actions.record_realization(db.session, a3, None, status="belum", pending_reason="Narasumber belum tersedia",
                         strategy="Kerja sama dengan BPSDM provinsi", target_date=dt.date(2025, 3, 31),
                         pending_pic="Sekretaris Dinas")
    photos.add_photo(db.session, a1, None, _jpeg((200, 40, 40)), "kursi.jpg", "Kursi ruang tunggu baru", upload)
    photos.add_photo(db.session, a1, None, _jpeg((40, 120, 200), (480, 640)), "loket.jpg", "Ruang tunggu <i>depan</i>",
                upload)
    db.session.commit()
    return unit, period, plan


def test_followup_report_chapters_and_figures(app, db, plan):
    unit, period, p = plan
    links = RestrictedLinks(app.static_folder, app.config["UPLOAD_FOLDER"])
    data = build("tindak-lanjut", db.session, unit, period, plan=p, today=dt.date(2024, 5, 2), links=links)
    text = flat(pdf_text(data))
    for heading in ("LAPORAN HASIL TINDAK LANJUT", "BAB I PENDAHULUAN", "BAB II DESKRIPSI RENCANA TINDAK LANJUT",
                    "BAB III REALISASI RENCANA TINDAK LANJUT", "BAB IV KESIMPULAN", "4.2 Strategi"):
        assert heading in text, heading
    assert "Forum Konsultasi Publik pada 12 Oktober 2023" in text
    # Chapter II: results table and the plan table with TW marks and penanggung jawab.
    assert "U8 Sarana dan prasarana 2,50 D Tidak Baik" in text and "79,17" in text
    assert "TW 1 TW 2 TW 3 TW 4" in text
    assert "U8 Sarana dan prasarana Perbaikan ruang tunggu & kursi antrean ✓ ✓ Subbag Umum" in text
    assert "Sosialisasi tarif <b>resmi</b> di papan informasi ✓ Bidang Pelayanan" in text
    # Chapter III: status, description, dates, obstacles, captions (typed markup printed as text).
    assert 'Kursi diganti 40 unit. <img src="http://127.0.0.1:9/x">' in text
    assert "5 Februari s.d. 1 Maret 2024" in text and "Anggaran terbatas" in text
    assert "Kursi ruang tunggu baru" in text and "Ruang tunggu <i>depan</i>" in text
    # Chapter IV: share done, not-done reason, strategy, target date, PJ; signature.
    assert "Dari 3 rencana tindak lanjut, 2 telah dilaksanakan: 66,67% dari rencana tindak lanjut" in text
    assert "Narasumber belum tersedia" in text and "Kerja sama dengan BPSDM provinsi" in text
    assert "31 Maret 2025" in text and "Sekretaris Dinas" in text
    assert "Dra. Siti Aminah, M.Si" in text and "NIP. 197001012000032001" in text and "Bandung, 2 Mei 2024" in text
    # Both photos embedded, read from the upload folder only; nothing else asked for.
    reader = PdfReader(io.BytesIO(data))
    images = sum(len(page.images) for page in reader.pages)
    assert images >= 2
    photo_uris = [u for u in links.resolved if u.startswith("/uploads/rtl/")]
    assert len(photo_uris) == 2
    assert links.refused == []


def test_results_report_names_the_plan(app, db, plan):
    unit, period, _ = plan
    text = flat(pdf_text(build("laporan", db.session, unit, period)))
    assert "4.5 Rencana tindak lanjut" in text
    assert "Pelatihan pelayanan prima" in text and "Subbag Umum" in text


def test_followup_download_and_cli(app, db, plan, runner, tmp_path):
    from tests.factories import make_user
    from tests.test_reports_web import as_user

    unit, period, p = plan
    make_user(db.session, "manajer", "manager", [unit])
    db.session.commit()
    client = as_user(app, "manajer")
    page = client.get(f"/admin/units/{unit.id}/laporan").get_data(as_text=True)
    assert f"RTL {period.name}" in page
    r = client.get(f"/admin/units/{unit.id}/laporan/unduh?kind=tindak-lanjut&plan_id={p.id}")
    assert r.status_code == 200 and "LAPORAN HASIL TINDAK LANJUT" in flat(pdf_text(r.data))
    r = client.get(f"/admin/units/{unit.id}/laporan/unduh?kind=tindak-lanjut&plan_id=999", follow_redirects=True)
    assert r.status_code == 200 and "Pilih rencana tindak lanjut" in r.get_data(as_text=True)
    out = tmp_path / "rtl.pdf"
    res = runner.invoke(args=["skm", "report", "tindak-lanjut", "--unit", unit.code, "--plan", str(p.id),
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "BAB IV KESIMPULAN" in flat(pdf_text(out.read_bytes()))
    # Without --plan: the only plan (issue 17); a period without a plan names the plans there are.
    out.unlink()
    res = runner.invoke(args=["skm", "report", "tindak-lanjut", "--unit", unit.code, "-o", str(out)])
    assert res.exit_code == 0 and "BAB IV KESIMPULAN" in flat(pdf_text(out.read_bytes()))
    res = runner.invoke(args=["skm", "report", "tindak-lanjut", "--unit", unit.code, "--period", "Triwulan II 2023",
                              "-o", str(out)])
    assert res.exit_code != 0 and f"{p.id} (RTL {period.name})" in res.output


def test_followup_png(app, db, plan, artifacts):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm not installed") if os.environ.get("CI") != "true" else pytest.fail("pdftoppm")
    unit, period, p = plan
    folder = os.path.join(artifacts, "reports")
    os.makedirs(folder, exist_ok=True)
    pdf = os.path.join(folder, "tindak-lanjut.pdf")
    with open(pdf, "wb") as fh:
        fh.write(build("tindak-lanjut", db.session, unit, period, plan=p, today=dt.date(2024, 5, 2)))
    pages = len(PdfReader(pdf).pages)
    assert pages >= 3
    # Page 3: chapter III, the realization with its documentation photos.
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "3", "-l", "3", "-singlefile", pdf,
                    os.path.join(folder, "tindak-lanjut")], check=True)
    assert os.path.getsize(os.path.join(folder, "tindak-lanjut.png")) > 5000


def test_plan_page_links_to_the_followup_pdf(app, db, plan):
    from tests.factories import make_user
    from tests.test_reports_web import as_user

    unit, period, p = plan
    make_user(db.session, "manajer", "manager", [unit])
    db.session.commit()
    client = as_user(app, "manajer")
    html = client.get(f"/admin/rtl/plan/{p.id}").get_data(as_text=True)
    link = f"/admin/units/{unit.id}/laporan/unduh?kind=tindak-lanjut&amp;plan_id={p.id}"
    assert link in html
    r = client.get(link.replace("&amp;", "&"))
    assert r.status_code == 200 and r.mimetype == "application/pdf"
