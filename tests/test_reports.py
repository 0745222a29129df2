"""Printed reports: figures, headings, names and suggestions in the PDFs; escaping; no fetches."""
from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import socket
import subprocess

import pytest
from pypdf import PdfReader

from skm.core.errors import DomainError
from skm.reports.pdf import REFUSED, RestrictedLinks
from skm.reports.render import build
from skm.survey.periods import quarter
from tests.factories import make_period, make_response, make_unit

# Four respondents, nine elements. By hand: totals 15 14 13 11 14 13 11 10 13,
# NRR 3,75 3,50 3,25 2,75 3,50 3,25 2,75 2,50 3,25; Σ NRR = 28,5;
# IKM unit = 28,5/9 = 3,1667; IKM = 79,1666… -> 79,17, mutu B, Baik.
RATINGS = [
    [4, 4, 4, 4, 4, 4, 4, 4, 4],
    [3, 3, 3, 3, 3, 3, 3, 3, 3],
    [4, 4, 4, 3, 3, 3, 2, 2, 2],
    [4, 3, 2, 1, 4, 3, 2, 1, 4],
]
PROFILES = [
    dict(gender="L", age=25, education="SMA"),
    dict(gender="P", age=35, education="S1"),
    dict(gender="L", age=45, education="S1"),
    dict(gender="P", age=19, education="SD"),
]
SUGGESTION = "Antrean terlalu panjang, mohon ditambah loket"
EVIL_IMG = '<img src="http://127.0.0.1:{port}/x">'
EVIL_LINK = '<a href="file:///etc/passwd">klik</a>'


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def known(db):
    unit = make_unit(db.session, code="DPM", name="Dinas Penanaman Modal", city="Bandung",
                     head_name="Dra. Siti Aminah, M.Si", head_position="Kepala Dinas",
                     head_rank="Pembina Utama Muda", head_nip="197001012000032001",
                     address="Jl. Merdeka No. 1")
    earlier = make_period(db.session, quarter(2023, 2))
    period = make_period(db.session, quarter(2023, 3), population=10)
    service = unit.services[0]
    for i, (ratings, profile) in enumerate(zip(RATINGS, PROFILES)):
        make_response(db.session, unit, ratings, day=dt.date(2023, 7, 3 + i), service=service,
                      suggestion=SUGGESTION if i == 0 else None, **profile)
    # The earlier quarter: every answer 3 -> IKM 75,00.
    make_response(db.session, unit, [3] * 9, day=dt.date(2023, 5, 2), gender="L")
    db.session.commit()
    return unit, period, earlier


def test_link_callback_resolves_only_static_and_uploads(app, tmp_path):
    static = tmp_path / "static"
    uploads = tmp_path / "uploads"
    (static / "img").mkdir(parents=True)
    uploads.mkdir()
    (static / "img" / "a.png").write_bytes(b"x")
    (uploads / "logo.png").write_bytes(b"x")
    secret = tmp_path / "secret.txt"
    secret.write_text("no")
    (uploads / "link.png").symlink_to(secret)
    links = RestrictedLinks(static, uploads)
    assert links("/static/img/a.png") == str((static / "img" / "a.png").resolve())
    assert links("/uploads/logo.png") == str((uploads / "logo.png").resolve())
    for bad in ["http://127.0.0.1:9/x", "https://example.org/a.png", "file:///etc/passwd", "/etc/passwd",
                "/static/../secret.txt", "/uploads/../secret.txt", "/uploads/link.png", "/static/img/missing.png",
                "static/img/a.png", "//example.org/a.png", "/static/", "/static//etc/passwd",
                "/uploads/x:y", "data:text/html,hi", "ftp://x/y"]:
        assert links(bad) == REFUSED, bad
    assert len(links.refused) == 15


def test_results_report_figures_headings_names(app, db, known):
    unit, period, _ = known
    with app.test_request_context():
        data = build("laporan", db.session, unit, period, today=dt.date(2023, 10, 5))
    text = flat(pdf_text(data))
    for heading in ("LAPORAN HASIL", "BAB I PENDAHULUAN", "BAB II PENGUMPULAN DATA", "BAB III HASIL",
                    "BAB IV ANALISIS", "BAB V PENUTUP", "LAMPIRAN 1 SARAN DAN MASUKAN RESPONDEN",
                    "LAMPIRAN 2 – Pengolahan Data SKM per Responden dan per Unsur"):
        assert heading in text, heading
    # Default chapter I, the unit's name, the IKM and grade, every NRR.
    assert "Peraturan Menteri Pendayagunaan Aparatur Negara" in text
    assert "Dinas Penanaman Modal" in text
    assert "79,17" in text and "3,1667" in text and "Mutu B" in text
    for nrr in ("3,75", "3,50", "3,25", "2,75", "2,50"):
        assert nrr in text
    # Lowest elements named, kinerja grouping, sample size check against Krejcie–Morgan (N 10 -> 10).
    assert "U8 Sarana dan prasarana (2,50, Tidak Baik); U4 Biaya/tarif dan U7 Perilaku pelaksana sama-sama " \
           "bernilai 2,75 (Kurang Baik)." in text
    assert "Unsur dengan nilai tertinggi: U1 Persyaratan (3,75)." in text
    assert "minimal menurut tabel Krejcie dan Morgan adalah 10 responden" in text
    assert "kurang 6 responden" in text
    # Profile percentages, trend against the earlier quarter, signature block.
    assert "Laki-laki 2 50,00%" in text and "Perempuan 2 50,00%" in text
    assert "Triwulan II 2023 1 75,00" in text and "+4,17" in text
    assert "Bandung, 5 Oktober 2023" in text
    assert "Dra. Siti Aminah, M.Si" in text and "NIP. 197001012000032001" in text and "Pembina Utama Muda" in text
    assert SUGGESTION in text


def test_intro_text_is_the_units_own_and_escaped(app, db, known):
    unit, period, _ = known
    unit.intro_text = "Latar belakang kami.\n\nDasar hukum: <b>UU 25/2009</b> & Permenpan 14/2017."
    db.session.commit()
    with app.test_request_context():
        text = flat(pdf_text(build("laporan", db.session, unit, period)))
    assert "Latar belakang kami." in text
    assert "Dasar hukum: <b>UU 25/2009</b> & Permenpan 14/2017." in text
    assert "Peraturan Menteri Pendayagunaan Aparatur Negara" not in text


def test_report_numbers_equal_cli_results(app, db, known, runner):
    import json

    unit, period, _ = known
    out = runner.invoke(args=["skm", "results", "--unit", "DPM", "--period", period.name, "--json"])
    figures = json.loads(out.output)
    with app.test_request_context():
        text = flat(pdf_text(build("laporan", db.session, unit, period)))
    assert figures["ikm_display"] in text
    for e in figures["elements"]:
        assert f"{e['code']} {e['name']} {e['nrr_display']} {e['grade']} {e['kinerja']}" in text


def test_hostile_suggestion_prints_as_text_and_fetches_nothing(app, db, known):
    unit, period, _ = known
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    evil = EVIL_IMG.format(port=port) + " " + EVIL_LINK
    make_response(db.session, unit, [4] * 9, day=dt.date(2023, 8, 1), suggestion=evil)
    db.session.commit()
    links = RestrictedLinks(app.static_folder, app.config["UPLOAD_FOLDER"])
    try:
        with app.test_request_context():
            data = build("laporan", db.session, unit, period, links=links)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected to the port the suggestion names
    finally:
        listener.close()
    text = flat(pdf_text(data))
    assert f'<img src="http://127.0.0.1:{port}/x">' in text
    assert '<a href="file:///etc/passwd">klik</a>' in text
    assert "root:" not in text
    # The renderer only ever asked for our own font and bar image.
    asked = links.resolved + links.refused
    assert asked and all(u.startswith("/static/") for u in asked), asked
    assert links.refused == []


def test_data_sheet_landscape_header_on_every_page(app, db, known):
    unit, period, _ = known
    for i in range(116):  # 120 respondents: several pages
        make_response(db.session, unit, [(i + k) % 4 + 1 for k in range(9)], day=dt.date(2023, 9, 1 + i % 28))
    db.session.commit()
    with app.test_request_context():
        data = build("pengolahan", db.session, unit, period)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 3
    for page in reader.pages:
        box = page.mediabox
        assert box.width > box.height  # landscape
        text = flat(page.extract_text())
        assert "No Tanggal U1 U2 U3 U4 U5 U6 U7 U8 U9 Jumlah" in text
        assert "Pengolahan Data SKM" in text
    text = flat(pdf_text(data))
    assert "120 03/07/2023" not in text  # numbering is by date order
    assert " 120 " in text and "NRR per unsur" in text and "NRR tertimbang" in text
    assert "Σ NRR tertimbang" in text and "IKM = Σ × 25" in text


def test_data_sheet_known_figures(app, db, known):
    unit, period, _ = known
    with app.test_request_context():
        text = flat(pdf_text(build("pengolahan", db.session, unit, period)))
    assert "1 03/07/2023 4 4 4 4 4 4 4 4 4 36" in text
    assert "4 06/07/2023 4 3 2 1 4 3 2 1 4 24" in text
    assert "Jumlah nilai per unsur 15 14 13 11 14 13 11 10 13" in text
    assert "NRR per unsur 3,75 3,50 3,25 2,75 3,50 3,25 2,75 2,50 3,25" in text
    assert "NRR tertimbang 0,417 0,389 0,361 0,306 0,389 0,361 0,306 0,278 0,361" in text
    assert "3,1667" in text and "79,17 Mutu B (Baik)" in text


@pytest.mark.parametrize("kind,width_pt", [("poster", 595), ("poster-a3", 842)])
def test_poster_pdf(app, db, known, kind, width_pt):
    unit, period, _ = known
    with app.test_request_context():
        data = build(kind, db.session, unit, period)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    assert round(float(reader.pages[0].mediabox.width)) == width_pt
    text = flat(pdf_text(data))
    for expected in ("Dinas Penanaman Modal", "Triwulan III 2023", "79,17", "Mutu B · Baik",
                     "Jumlah responden: 4 orang", "Laki-laki 2 50,0%", "S1 2 50,0%", "SD 1 25,0%",
                     "Terima kasih atas penilaian yang telah Anda berikan"):
        assert expected in text, expected


def test_questionnaire_pdf(app, db, known):
    unit, _, _ = known
    with app.test_request_context():
        text = flat(pdf_text(build("kuesioner", db.session, unit, None)))
    for expected in ("KUESIONER SURVEI KEPUASAN MASYARAKAT", "Dinas Penanaman Modal", "Tanggal survei",
                     "08.00-12.00", "13.00-17.00", "Layanan A", "Layanan B", "Laki-laki", "Perempuan",
                     "Usia", "Tidak sekolah/Non pendidikan", "Wirausaha", "SARAN DAN MASUKAN",
                     "1. Persyaratan", "9. Penanganan pengaduan, saran dan masukan",
                     "kesesuaian persyaratan pelayanan dengan jenis pelayanannya", "4. Sangat sesuai",
                     "2. Ada tetapi tidak berfungsi", "4. Dikelola dengan baik", "1. Sangat mahal", "4. Gratis"):
        assert expected in text, expected


@pytest.mark.parametrize("kind", ["poster", "pengolahan", "kuesioner", "laporan"])
def test_text_drawn_in_embedded_font(app, db, known, kind):
    unit, period, _ = known
    with app.test_request_context():
        data = build(kind, db.session, unit, period)
    assert b"FontFile2" in data  # TrueType embedded
    used = set()

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip() and font_dict:
            used.add(str(font_dict.get("/BaseFont")))

    for page in PdfReader(io.BytesIO(data)).pages:
        page.extract_text(visitor_text=visit)
    # Every visible character is drawn in embedded DejaVu (ReportLab lists an unused
    # Helvetica resource on every canvas; no text uses it).
    assert used and all("DejaVuSans" in name for name in used), used


def test_pngs_of_every_document_kind(app, db, known, artifacts):
    """One PNG per document kind in tests/artifacts/reports/ (README: Printed reports)."""
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm not installed") if os.environ.get("CI") != "true" else pytest.fail("pdftoppm")
    unit, period, _ = known
    folder = os.path.join(artifacts, "reports")
    os.makedirs(folder, exist_ok=True)
    pages = {"laporan": 5, "pengolahan": 1, "poster": 1, "poster-a3": 1, "kuesioner": 1}
    for kind, page in pages.items():
        with app.test_request_context():
            data = build(kind, db.session, unit, period, today=dt.date(2023, 10, 5))
        pdf = os.path.join(folder, f"{kind}.pdf")
        with open(pdf, "wb") as fh:
            fh.write(data)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page), "-singlefile", pdf,
                        os.path.join(folder, kind)], check=True)
        assert os.path.getsize(os.path.join(folder, f"{kind}.png")) > 5000


def test_many_suggestions_and_long_words_flow_across_pages(app, db, known):
    unit, period, _ = known
    long_word = "Pelayanan" + "sangatmemuaskan" * 20
    for i in range(150):
        make_response(db.session, unit, [3] * 9, day=dt.date(2023, 8, 1 + i % 28),
                      suggestion=long_word if i == 0 else f"Saran ke-{i}: mohon loket ditambah & antrean dipercepat.")
    db.session.commit()
    with app.test_request_context():
        data = build("laporan", db.session, unit, period)
    reader = PdfReader(io.BytesIO(data))
    appendix = [flat(p.extract_text()) for p in reader.pages if "LAMPIRAN 1 SARAN DAN MASUKAN" in p.extract_text()]
    assert len(appendix) >= 3  # several pages, each titled by its running footer
    text = flat(" ".join(appendix))
    assert "151 saran" in text
    assert "Saran ke-149: mohon loket ditambah & antrean dipercepat." in text
    # The long word is broken inside the text column, never cut off.
    assert "".join(text.split()).count("sangatmemuaskan") == 20
    assert SUGGESTION in text


def test_unit_logo_from_upload_folder(app, db, known):
    from PIL import Image

    from skm.survey.unit_settings import store_logo

    unit, period, _ = known
    buf = io.BytesIO()
    Image.new("RGB", (120, 120), (20, 90, 40)).save(buf, "PNG")
    name = store_logo(db.session, unit, buf.getvalue(), app.config["UPLOAD_FOLDER"])
    db.session.commit()
    for kind in ("poster", "laporan", "kuesioner"):
        links = RestrictedLinks(app.static_folder, app.config["UPLOAD_FOLDER"])
        with app.test_request_context():
            data = build(kind, db.session, unit, period, links=links)
        assert f"/uploads/logos/{name}" in links.resolved, kind
        assert len(PdfReader(io.BytesIO(data)).pages[0].images) == 1, kind
    # A logo name that points outside the upload folder is refused, not read.
    unit.logo_path = "../../../../etc/passwd"
    db.session.commit()
    links = RestrictedLinks(app.static_folder, app.config["UPLOAD_FOLDER"])
    with app.test_request_context():
        build("poster", db.session, unit, period, links=links)
    assert links.refused == ["/uploads/logos/../../../../etc/passwd"]


@pytest.mark.parametrize("kind", ["laporan", "pengolahan", "poster", "poster-a3"])
def test_period_without_responses_is_refused(app, db, known, kind):
    # Issue 11: no signed report of nothing ("kuesioner berisi 0 unsur", "Bobot = 1/0").
    unit, _, _ = known
    empty = make_period(db.session, quarter(2024, 1))
    db.session.commit()
    with app.test_request_context(), pytest.raises(DomainError, match="Belum ada responden pada periode Triwulan I 2024"):
        build(kind, db.session, unit, empty)


def test_resource_policy_blocks_even_a_callback_that_lets_a_url_through(app):
    """Defence in depth: xhtml2pdf's own ResourceAccessPolicy (no network, reads only in
    static/ and uploads/) stops what a faulty link callback would let through."""
    from skm.reports.pdf import html_to_pdf

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]

    class Leaky(RestrictedLinks):
        def __call__(self, uri, rel=None):
            return uri  # lets anything through

    leaky = Leaky(app.static_folder, app.config["UPLOAD_FOLDER"])
    html = (f'<html><body><p>x</p><img src="http://127.0.0.1:{port}/x.png" width="10" height="10">'
            '<img src="/etc/passwd" width="10" height="10"></body></html>')
    try:
        data = html_to_pdf(html, app.static_folder, app.config["UPLOAD_FOLDER"], links=leaky)
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
    assert data.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(data)).pages[0].images) == 0
