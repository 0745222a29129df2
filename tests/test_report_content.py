"""The results and follow-up reports carry what the published reports (seeds 002-004) carry:
chapter I parts the unit edits once, element definitions, media with counts, suggestions
grouped and counted, an analysis and a recommendation per weak element."""
from __future__ import annotations

import datetime as dt

from skm.reports.render import build
from skm.reports.texts import save_element_notes, save_unit_texts
from tests.factories import make_response, make_user
from tests.test_reports import flat, known, pdf_text  # noqa: F401  (fixture)
from tests.test_reports_followup import plan  # noqa: F401  (fixture)
from tests.test_reports_web import _csrf, as_user


def _laporan(app, db, unit, period) -> str:
    with app.test_request_context():
        return flat(pdf_text(build("laporan", db.session, unit, period)))


def test_results_report_carries_the_seed_parts_with_defaults(app, db, plan):  # noqa: F811
    unit, period, _ = plan
    for text in ("Mohon ditambah loket.", "mohon  DITAMBAH loket"):
        make_response(db.session, unit, [3] * 9, day=dt.date(2023, 8, 9), channel="kiosk", suggestion=text)
    db.session.commit()
    text = _laporan(app, db, unit, period)
    for heading in ("1.2 Pengertian umum", "1.3 Sasaran", "1.4 Ruang lingkup", "1.5 Manfaat",
                    "2.3 Media penyampaian saran dan masukan", "4.3 Analisis dan rekomendasi unsur terlemah",
                    "4.4 Saran dan masukan yang diterima", "Petugas survei"):
        assert heading in text, heading
    assert "Indeks Kepuasan Masyarakat (IKM) adalah data dan informasi" in text
    assert "Sikap petugas dalam memberikan pelayanan." in text  # U7's definition
    # Media actually used, with respondents and suggestions: paper 4 (1 suggestion), kiosk 2 (2).
    assert "Kuesioner kertas 4 1" in text and "Kios layar sentuh 2 2" in text
    assert "Formulir daring" not in text
    # The two spellings of one suggestion are one group of 2.
    assert "3 saran dan masukan diterima (2 isi berbeda)" in text
    assert "Mohon ditambah loket. 2" in text
    # U8 is the weakest; its recommendation comes from the RTL plan.
    assert "U8 Sarana dan prasarana (NRR 2,67, Kurang Baik)" in text
    assert "Perbaikan ruang tunggu & kursi antrean" in text.split("4.3 Analisis")[1].split("4.4 Saran")[0]


def test_unit_texts_and_notes_are_printed_and_reset_to_default(app, db, plan):  # noqa: F811
    unit, period, p = plan
    save_unit_texts(db.session, unit, {"sasaran": "Sasaran khusus <b>unit</b> kami\nSasaran kedua",
                                       "tl_intro": "Bab I tindak lanjut milik unit."})
    save_element_notes(db.session, unit, period, ["U8"], {"analisis-U8": "Ruang tunggu sempit.",
                                                         "rekomendasi-U8": "Tambah kursi\nPerluas ruang"})
    db.session.commit()
    text = _laporan(app, db, unit, period)
    assert "1. Sasaran khusus <b>unit</b> kami 2. Sasaran kedua" in text  # escaped, one item a line
    assert "Mendorong tumbuhnya inovasi" not in text
    assert "Analisis. Ruang tunggu sempit." in text and "1. Tambah kursi 2. Perluas ruang" in text
    with app.test_request_context():
        followup = flat(pdf_text(build("tindak-lanjut", db.session, unit, period, plan=p)))
    assert "Bab I tindak lanjut milik unit." in followup
    save_unit_texts(db.session, unit, {"sasaran": "  "})
    db.session.commit()
    assert "Mendorong tumbuhnya inovasi" in _laporan(app, db, unit, period)


def test_laporan_page_edits_texts_and_notes(app, db, plan):  # noqa: F811
    unit, period, _ = plan
    make_user(db.session, "manajer", "manager", [unit])
    db.session.commit()
    client = as_user(app, "manajer")
    page = client.get(f"/admin/units/{unit.id}/laporan?period_id={period.id}").get_data(as_text=True)
    assert 'name="manfaat"' in page and 'name="rekomendasi-U8"' in page
    assert "Perbaikan ruang tunggu &amp; kursi antrean</textarea>" in page  # prefilled from the plan
    r = client.post(f"/admin/units/{unit.id}/laporan/pendahuluan",
                    data={"csrf_token": _csrf(page), "manfaat": "Manfaat milik unit", "intro_text": ""})
    assert r.status_code == 302
    r = client.post(f"/admin/units/{unit.id}/laporan/analisis",
                    data={"csrf_token": _csrf(page), "period_id": period.id, "analisis-U8": "Analisis unit",
                          "rekomendasi-U8": "Rekomendasi unit"})
    assert r.status_code == 302
    r = client.post(f"/admin/units/{unit.id}/laporan/pendahuluan",
                    data={"csrf_token": _csrf(page), "manfaat": "x" * 20001})
    assert "terlalu panjang" in client.get(r.headers["Location"]).get_data(as_text=True)
    text = _laporan(app, db, unit, period)
    assert "1. Manfaat milik unit" in text and "Analisis unit" in text and "Rekomendasi unit" in text


def test_followup_report_carries_what_seeds_003_004_carry(app, db, plan):  # noqa: F811
    import io
    import re

    from pypdf import PdfReader

    unit, period, p = plan
    with app.test_request_context():
        data = build("tindak-lanjut", db.session, unit, period, plan=p)
    pages = [flat(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]
    text = " ".join(pages)
    assert "Unsur yang ditindaklanjuti: U8 Sarana dan prasarana (NRR 2,50); U4 Biaya/tarif (NRR 2,75)" in text
    captions = [int(n) for n in re.findall(r"Tabel (\d+)\. ", text)]
    assert captions == list(range(1, len(captions) + 1)) and len(captions) >= 6
    assert "Tabel 1. Ringkasan hasil SKM periode Triwulan III 2023" in text
    assert "Dokumentasi Gambar 1, Gambar 2 (Lampiran 1)" in text
    appendix = text.split("LAMPIRAN 1 DOKUMENTASI")[1]
    assert "Gambar 1. Kursi ruang tunggu baru" in appendix and "Gambar 2. Ruang tunggu <i>depan</i>" in appendix
    assert "telah menindaklanjuti hasil SKM pada unsur: U8 Sarana dan prasarana, U4 Biaya/tarif" in text
    assert "LAMPIRAN 2 KUESIONER SURVEI KEPUASAN MASYARAKAT" in text and "☐ 4. Sangat baik" in text
    assert [re.findall(r"Halaman (\d+) dari (\d+)", pg) for pg in pages] == [
        [(str(n), str(len(pages)))] for n in range(1, len(pages) + 1)]
