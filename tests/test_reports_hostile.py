"""Every user-editable text reaches the PDFs as text, never as markup (issue 13, finding 1).

Before the fix an element name like `Biaya <Rp 10.000` made the data sheet (ReportLab
Paragraph markup) fail, and `<img src="/absolute/path">` embedded a file from disk --
another unit's RTL photo -- into the PDF.
"""
from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image
from pypdf import PdfReader

from skm.followup import actions, photos
from skm.followup import plans as F
from skm.reports.pdf import RestrictedLinks
from skm.reports.render import PDF_KINDS, build
from skm.survey.periods import quarter
from tests.factories import make_period, make_response, make_unit

# The "other unit's" photo: a size no document of ours has, so it is recognisable.
SECRET_SIZE = (123, 77)


def _image(size, color=(200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return buf.getvalue()


def hostile(tag: str, path: str = "/etc/passwd") -> str:
    return f'{tag} Biaya <Rp 10.000> & <img src="{path}"> <b>x</b> &amp;'


def squash(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def world(app, db):
    upload = app.config["UPLOAD_FOLDER"]
    s = db.session
    # Another unit with a documentation photo on disk: the file a name must never embed.
    other = make_unit(s, code="LAIN", name="Unit Lain")
    other_period = make_period(s, quarter(2023, 2))
    make_response(s, other, [1] * 9, day=dt.date(2023, 5, 2))
    other_plan = F.create_plan(s, other, other_period, None, codes=["U1"])
    act = actions.add_action(s, other_plan.priorities[0], None, "Program", 2024, [1], "PJ")
    F.finalize_plan(s, other_plan, None)
    secret = photos.add_photo(s, act, None, _image(SECRET_SIZE, (1, 2, 3)), "r.jpg", "rahasia", upload)
    secret_path = photos.photo_path(upload, secret)
    H = lambda tag: hostile(tag, secret_path)  # noqa: E731  (long fields carry the absolute path)

    texts = {
        "UNAME": H("UNAME"), "ADDR": H("ADDR"), "CITY": hostile("CITY"), "HNAME": H("HNAME"),
        "HPOS": H("HPOS"), "HRANK": H("HRANK"), "INTRO": H("INTRO") + "\n\n" + H("INTRO2"),
        "SERV": H("SERV"), "ENAME": H("ENAME"), "QUEST": H("QUEST"), "LAB1": hostile("LAB1"),
        "LAB4": hostile("LAB4"), "SARAN": H("SARAN"), "OCC": H("OCC"), "PROG": H("PROG"), "REAL": H("REAL"),
        "OBST": H("OBST"), "CAPT": H("CAPT"), "PIC": H("PIC"), "WHY": H("WHY"), "STRAT": H("STRAT"),
        "PPIC": H("PPIC"),
    }
    nip = "<b>19</b>&amp;<img src=x>"
    unit = make_unit(s, code="DPM", name=texts["UNAME"], services=(texts["SERV"], "Layanan B"),
                     address=texts["ADDR"], city=texts["CITY"], head_name=texts["HNAME"],
                     head_position=texts["HPOS"], head_rank=texts["HRANK"], head_nip=nip,
                     intro_text=texts["INTRO"])
    elements = unit.current_questionnaire.elements
    # U4 is rated lowest below, so it is in the plan and its name is copied there.
    low = elements[3]
    low.name, low.question, low.label1, low.label4 = texts["ENAME"], texts["QUEST"], texts["LAB1"], texts["LAB4"]
    s.flush()
    period = make_period(s, quarter(2023, 3), population=10)
    service = next(sv for sv in unit.services if sv.name == texts["SERV"])
    for i in range(4):
        ratings = [4, 4, 4, 1, 4, 4, 3, 3, 3]
        make_response(s, unit, ratings, day=dt.date(2023, 7, 3 + i), service=service, gender="L", age=30,
                      education="S1", occupation="LAINNYA", occupation_other=texts["OCC"],
                      suggestion=texts["SARAN"] if i == 0 else None)
    plan = F.create_plan(s, unit, period, None, codes=["U4", "U7"])
    by_code = {p.element_code: p for p in plan.priorities}
    done = actions.add_action(s, by_code["U4"], None, texts["PROG"], 2024, [1, 2], texts["PIC"])
    pending = actions.add_action(s, by_code["U7"], None, "Pelatihan", 2024, [3], "Sekretariat")
    F.finalize_plan(s, plan, None)
    actions.record_realization(s, done, None, status="sudah", realization=texts["REAL"],
                               done_start=dt.date(2024, 2, 5), obstacles=texts["OBST"])
    actions.record_realization(s, pending, None, status="belum", pending_reason=texts["WHY"],
                               strategy=texts["STRAT"], target_date=dt.date(2025, 3, 31), pending_pic=texts["PPIC"])
    own = photos.add_photo(s, done, None, _image((640, 480)), "kursi.jpg", texts["CAPT"], upload)
    s.commit()
    return unit, period, plan, texts, nip, own


# Which texts each document prints (the signature block: city, position, name, rank, NIP).
SIGNATURE = ["CITY", "HPOS", "HNAME", "HRANK"]
EXPECTED = {
    "laporan": ["UNAME", "ADDR", "INTRO", "ENAME", "SARAN", "SERV"] + SIGNATURE,
    "pengolahan": ["UNAME", "ENAME"],
    "poster": ["UNAME"],
    "poster-a3": ["UNAME"],
    "kuesioner": ["UNAME", "ADDR", "SERV", "ENAME", "QUEST", "LAB1", "LAB4"],
    "tindak-lanjut": ["UNAME", "ADDR", "ENAME", "PROG", "PIC", "REAL", "OBST", "CAPT", "WHY", "STRAT", "PPIC"]
    + SIGNATURE,
}


@pytest.mark.parametrize("kind", PDF_KINDS)
def test_hostile_text_everywhere_prints_literally_and_embeds_nothing(app, db, world, kind):
    unit, period, plan, texts, nip, own = world
    links = RestrictedLinks(app.static_folder, app.config["UPLOAD_FOLDER"])
    with app.test_request_context():
        data = build(kind, db.session, unit, period, plan=plan, today=dt.date(2024, 5, 2), links=links)
    reader = PdfReader(io.BytesIO(data))
    text = squash("\n".join(page.extract_text() for page in reader.pages))
    for tag in EXPECTED[kind]:
        assert squash(texts[tag]) in text, (kind, tag)
    if "HRANK" in EXPECTED[kind]:
        assert squash(nip) in text
    # Only our own static files and this plan's own photo were read; the other unit's
    # photo (named by absolute path in the texts) never was.
    asked = links.resolved + links.refused
    assert links.refused == [], links.refused
    allowed_upload = f"/uploads/rtl/{unit.id}/{own.file_name}"
    assert all(u.startswith("/static/") or u == allowed_upload for u in asked), asked
    sizes = [img.image.size for page in reader.pages for img in page.images]
    assert SECRET_SIZE not in sizes
    if kind == "tindak-lanjut":
        assert allowed_upload in links.resolved and (640, 480) in sizes
    else:
        assert not any(u.startswith("/uploads/") for u in asked)
