"""Issue 15: QR codes of the public survey, printable cards, one-time ticket slips (admin
page and `skm tickets`), channels and the "terverifikasi" filter on the dashboard, and the
channels in the results report. Runs on SQLite and, with DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from skm.core.clock import utcnow
from skm.models import Response, SurveyTicket
from skm.online.tickets import issue_tickets
from tests.factories import PASSWORD, login, make_period, make_response, make_unit, make_user

BASE = "https://skm.contoh.go.id"


def zbar(path) -> list[str]:
    """Every QR zbarimg finds in the image, as text."""
    assert shutil.which("zbarimg"), "zbarimg (zbar-tools) is required"
    done = subprocess.run(["zbarimg", "-q", "--raw", str(path)], capture_output=True, text=True, timeout=60)
    return [line for line in done.stdout.splitlines() if line]


def pdf_pngs(pdf: bytes, tmp_path, dpi: int = 110) -> list:
    assert shutil.which("pdftoppm"), "pdftoppm (poppler-utils) is required"
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(source), str(tmp_path / "page")], check=True, timeout=120)
    return sorted(tmp_path.glob("page*.png"))


def pdf_text(pdf: bytes) -> tuple[list, str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return list(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def unit(db):
    unit = make_unit(db.session, "DINKES", "Dinas Kesehatan")
    db.session.commit()
    return unit


# --- QR images -----------------------------------------------------------------

def test_qr_png_decodes_to_the_request_url_when_no_base_is_set(db, client, unit, tmp_path):
    response = client.get("/survei/dinkes/qr.png", base_url="http://10.0.0.5:8000")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "max-age" in response.headers["Cache-Control"] and "public" in response.headers["Cache-Control"]
    path = tmp_path / "qr.png"
    path.write_bytes(response.data)
    assert zbar(path) == ["http://10.0.0.5:8000/survei/DINKES"]


def test_qr_png_uses_the_public_base_url_and_the_service(app, db, client, unit, tmp_path):
    app.config["PUBLIC_BASE_URL"] = BASE + "/"
    service = unit.services[1]
    response = client.get(f"/survei/DINKES/qr.png?layanan={service.id}")
    assert response.status_code == 200
    path = tmp_path / "qr.png"
    path.write_bytes(response.data)
    assert zbar(path) == [f"{BASE}/survei/DINKES?layanan={service.id}"]


def test_qr_svg_is_xml_with_the_code_as_a_path(app, db, client, unit):
    app.config["PUBLIC_BASE_URL"] = BASE
    response = client.get("/survei/DINKES/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    paths = root.findall("{http://www.w3.org/2000/svg}path")
    assert paths and len(paths[-1].get("d")) > 200


def test_unknown_unit_service_or_switched_off_survey_is_an_indonesian_404(db, client, unit):
    other = make_unit(db.session, "LAIN", "Unit Lain")
    db.session.commit()
    for url in ("/survei/NOPE/qr.png", f"/survei/DINKES/qr.svg?layanan={other.services[0].id}",
                "/survei/DINKES/qr.png?layanan=abc", "/survei/DINKES/qr.png?layanan=99999999"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "tidak ditemukan" in response.get_data(as_text=True)
    unit.online_enabled = False
    db.session.commit()
    assert client.get("/survei/DINKES/qr.png").status_code == 404


# --- cards and slips (admin page) ------------------------------------------------

@pytest.fixture
def staff(db, unit, no_csrf):
    make_user(db.session, "petugas", "operator", [unit])
    db.session.commit()


def test_cards_a4_and_a5_have_the_page_size_text_and_qr(app, db, client, unit, staff, tmp_path):
    app.config["PUBLIC_BASE_URL"] = BASE
    login(client, "petugas", PASSWORD)
    service = unit.services[0]
    sizes = {"a4": (595, 842), "a5": (420, 595)}
    for size, (width, height) in sizes.items():
        response = client.get(f"/admin/units/{unit.id}/survei-daring/kartu-{size}.pdf?layanan={service.id}")
        assert response.status_code == 200 and response.mimetype == "application/pdf", size
        pages, text = pdf_text(response.data)
        assert len(pages) == 1
        assert (round(float(pages[0].mediabox.width)), round(float(pages[0].mediabox.height))) == (width, height)
        flat = " ".join(text.split())
        assert "Scan untuk menilai layanan kami" in flat and "Dinas Kesehatan" in flat and service.name in flat
        folder = tmp_path / size
        folder.mkdir()
        assert zbar(pdf_pngs(response.data, folder)[0]) == [f"{BASE}/survei/DINKES?layanan={service.id}"]
    bad = client.get(f"/admin/units/{unit.id}/survei-daring/kartu-a4.pdf?layanan=12x")
    assert bad.status_code == 404


def test_print_a_batch_of_slips_each_qr_decodes(app, db, client, unit, staff, tmp_path):
    app.config["PUBLIC_BASE_URL"] = BASE
    login(client, "petugas", PASSWORD)
    service = unit.services[0]
    response = client.post(f"/admin/units/{unit.id}/survei-daring/tiket", data={"count": "3", "service": str(service.id)})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 tiket dibuat" in page and "3 tiket: 0 terpakai, 3 belum terpakai" in page
    tickets = db.session.scalars(select(SurveyTicket).order_by(SurveyTicket.id)).all()
    assert len(tickets) == 3 and {t.service_id for t in tickets} == {service.id}
    link = re.search(r'href="([^"]+\.pdf)"><strong>Unduh slip', page).group(1)
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    pages, text = pdf_text(pdf.data)
    assert len(pages) == 1
    for t in tickets:
        assert f"{t.code[:4]}-{t.code[4:]}" in text
    assert text.count("Berlaku untuk satu kali pengisian") == 3 and service.name in text
    found = zbar(pdf_pngs(pdf.data, tmp_path)[0])
    assert sorted(found) == sorted(f"{BASE}/t/{t.code}" for t in tickets)


@pytest.mark.parametrize("count", ["0", "1001", "abc", "", "-5", "٣"])
def test_bad_batch_count_rerenders_with_a_message_and_stores_nothing(db, client, unit, staff, count):
    login(client, "petugas", PASSWORD)
    response = client.post(f"/admin/units/{unit.id}/survei-daring/tiket", data={"count": count})
    assert response.status_code == 200
    assert "Jumlah tiket harus bilangan bulat 1 sampai 1000." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SurveyTicket.id))) == 0


def test_front_desk_issues_one_ticket_and_prints_its_slip(app, db, client, unit, staff, tmp_path):
    app.config["PUBLIC_BASE_URL"] = BASE
    login(client, "petugas", PASSWORD)
    other = make_unit(db.session, "LAIN", "Unit Lain")
    db.session.commit()
    refused = client.post(f"/admin/units/{unit.id}/survei-daring/loket", data={"service": str(other.services[0].id)})
    assert refused.status_code == 200 and "Pilih layanan dari daftar." in refused.get_data(as_text=True)
    response = client.post(f"/admin/units/{unit.id}/survei-daring/loket", data={"service": ""})
    assert response.status_code == 302
    ticket = db.session.scalar(select(SurveyTicket))
    assert ticket.batch == "" and ticket.service_id is None and ticket.unit_id == unit.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{ticket.code[:4]}-{ticket.code[4:]}" in page and "<svg" in page and "Cetak slip" in page
    slip = client.get(f"/admin/units/{unit.id}/survei-daring/tiket/{ticket.id}/slip.pdf")
    pages, text = pdf_text(slip.data)
    assert len(pages) == 1 and float(pages[0].mediabox.width) < 300  # one slip, its own size
    assert zbar(pdf_pngs(slip.data, tmp_path, dpi=200)[0]) == [f"{BASE}/t/{ticket.code}"]
    # Spent and unspent counts on the unit's page.
    ticket.spent_at = utcnow()
    db.session.commit()
    listing = client.get(f"/admin/units/{unit.id}/survei-daring").get_data(as_text=True)
    assert "1 tiket: 1 terpakai, 0 belum terpakai" in listing and "Terpakai" in listing


def test_roles_and_units_of_the_online_pages(db, client, unit, no_csrf):
    other = make_unit(db.session, "LAIN", "Unit Lain")
    make_user(db.session, "manajer", "manager", [unit])
    make_user(db.session, "luar", "operator", [other])
    ticket = issue_tickets(db.session, unit, None, 1)[0]
    db.session.commit()
    urls = [f"/admin/units/{unit.id}/survei-daring", f"/admin/units/{unit.id}/survei-daring/kartu-a5.pdf",
            f"/admin/units/{unit.id}/survei-daring/tiket/{ticket.id}"]
    for url in urls:
        assert client.get(url).status_code == 302  # to the login page
    login(client, "luar", PASSWORD)
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert client.post(f"/admin/units/{unit.id}/survei-daring/loket", data={}).status_code == 403
    assert client.get(f"/admin/units/{other.id}/survei-daring/tiket/{ticket.id}").status_code == 404
    client.post("/admin/logout")
    login(client, "manajer", PASSWORD)
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert client.get(f"/admin/units/{unit.id}/survei-daring").headers["Cache-Control"] == "no-store"


# --- CLI -------------------------------------------------------------------------

def test_cli_tickets_writes_the_slips_and_the_tickets(app, db, runner, unit, tmp_path):
    out = tmp_path / "slips.pdf"
    args = ["skm", "tickets", "--unit", "dinkes", "--service", "layanan b", "--count", "10", "-o", str(out)]
    no_base = runner.invoke(args=args)
    assert no_base.exit_code == 1 and "SKM_PUBLIC_BASE_URL" in no_base.output and not out.exists()
    app.config["PUBLIC_BASE_URL"] = BASE
    done = runner.invoke(args=args)
    assert done.exit_code == 0, done.output
    tickets = db.session.scalars(select(SurveyTicket)).all()
    assert len(tickets) == 10 and {t.service.name for t in tickets} == {"Layanan B"}
    assert len({t.batch for t in tickets}) == 1 and tickets[0].batch
    pages, text = pdf_text(out.read_bytes())
    assert len(pages) == 2 and all(f"{t.code[:4]}-{t.code[4:]}" in text for t in tickets)
    for args, message in ((["--unit", "NOPE", "--count", "2"], "Unit dengan kode NOPE tidak ditemukan."),
                          (["--unit", "DINKES", "--count", "dua"], "Jumlah tiket harus bilangan bulat 1 sampai 1000."),
                          (["--unit", "DINKES", "--count", "2000"], "Jumlah tiket harus bilangan bulat 1 sampai 1000."),
                          (["--unit", "DINKES", "--service", "Tidak Ada", "--count", "2"], "tidak ditemukan di unit DINKES")):
        result = runner.invoke(args=["skm", "tickets", *args, "-o", str(tmp_path / "x.pdf")])
        assert result.exit_code == 1 and message in result.output, result.output
    assert db.session.scalar(select(func.count(SurveyTicket.id))) == 10


# --- channels in the dashboard and the report ---------------------------------------

@pytest.fixture
def mixed(db, unit, no_csrf):
    """Kiosk 2, paper 3, online 2 of which 1 ticketed (ratings differ per channel)."""
    period = make_period(db.session)
    make_user(db.session, "manajer", "manager", [unit])
    for _ in range(2):
        make_response(db.session, unit, [4] * 9, channel="kiosk")
    for _ in range(3):
        make_response(db.session, unit, [2] * 9, channel="paper")
    make_response(db.session, unit, [3] * 9, channel="online")
    ticketed = make_response(db.session, unit, [1] * 9, channel="online", suggestion="Antrean terlalu lama")
    ticket = issue_tickets(db.session, unit, None, 1)[0]
    ticketed.ticket_id = ticket.id
    ticket.spent_at = utcnow()
    db.session.commit()
    return period


def _cell(html: str, cell_id: str) -> str:
    return re.search(rf'id="{cell_id}">([^<]*)<', html).group(1)


def test_dashboard_shows_responses_per_channel_and_filters(db, client, unit, mixed):
    login(client, "manajer", PASSWORD)
    base = f"/admin/units/{unit.id}/results?period={mixed.id}"
    page = client.get(base).get_data(as_text=True)
    assert _cell(page, "channel-kiosk") == "2" and _cell(page, "channel-paper") == "3"
    assert _cell(page, "channel-online") == "2" and _cell(page, "channel-import") == "0"
    assert "Formulir daring" in page and "Kios layar sentuh" in page
    assert re.search(r'id="channel-verified">[^<]*<strong>1</strong>', page)
    assert _cell(page, "card-respondents") == "7"

    online = client.get(base + "&media=online").get_data(as_text=True)
    assert _cell(online, "card-respondents") == "2" and _cell(online, "card-ikm") == "50,00"
    verified = client.get(base + "&media=online&terverifikasi=1").get_data(as_text=True)
    assert _cell(verified, "card-respondents") == "1" and _cell(verified, "card-ikm") == "25,00"
    assert "terverifikasi" in verified
    # The filter follows the tabs: the data sheet lists the one ticketed response.
    sheet = client.get(f"/admin/units/{unit.id}/results/sheet?period={mixed.id}&terverifikasi=1").get_data(as_text=True)
    assert "(1 responden)" in sheet

    for query, message in (("&media=sms", "Media “sms” tidak dikenal"), ("&terverifikasi=ya", "Filter terverifikasi")):
        response = client.get(base + query)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert message in html and _cell(html, "card-respondents") == "7"  # nothing filtered


def test_results_report_media_paragraph_counts_each_channel(app, db, unit, mixed):
    from skm.reports.data import results_report

    data = results_report(db.session, unit, mixed)
    media = {m["channel"]: m for m in data["media"]}
    assert {k: m["respondents"] for k, m in media.items()} == {"kiosk": "2", "paper": "3", "online": "2"}
    assert media["online"]["verified"] == "1" and media["online"]["suggestions"] == "1"
    from skm.reports.render import build

    _, text = pdf_text(build("laporan", db.session, unit, mixed))
    flat = " ".join(text.split())
    assert "Formulir daring" in flat and "1 terverifikasi dengan tiket" in flat
    assert re.search(r"Jumlah 7", flat)


def test_ticketed_count_in_scope(db, unit, mixed):
    from skm.scoring.results import Scope, channel_counts

    scope = Scope(unit.id, mixed.start_date, mixed.end_date, verified_only=True)
    assert channel_counts(db.session, scope) == {"kiosk": 0, "paper": 0, "import": 0, "online": 1}
    assert db.session.scalar(select(func.count(Response.id)).where(Response.ticket_id.is_not(None))) == 1


# --- kiosk screens and lobby poster (HTML) -----------------------------------------

def test_kiosk_welcome_shows_the_tablets_survey_qr_only_while_online_is_on(app, db, unit):
    from tests.kiosk_helpers import pair_tablet

    service = unit.services[0]
    bound = pair_tablet(app, db, unit, service_id=service.id)
    html = bound.home().get_data(as_text=True)
    assert f'src="/survei/DINKES/qr.svg?layanan={service.id}"' in html and "Isi juga dari ponsel Saudara" in html
    free = pair_tablet(app, db, unit)
    assert 'src="/survei/DINKES/qr.svg"' in free.home(htmx=False).get_data(as_text=True)
    unit.online_enabled = False
    db.session.commit()
    assert "qr.svg" not in free.home().get_data(as_text=True)


def test_lobby_poster_shows_the_qr_only_while_online_is_on(db, client, unit):
    unit.kiosk_show_ikm = True
    db.session.commit()
    assert 'src="/survei/DINKES/qr.svg"' in client.get("/papan/dinkes").get_data(as_text=True)
    unit.online_enabled = False
    db.session.commit()
    assert "qr.svg" not in client.get("/papan/DINKES").get_data(as_text=True)
