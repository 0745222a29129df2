"""Unit setup: settings form, logo upload, kiosk PIN, services, questionnaire versions, alert rule."""
from __future__ import annotations

import io
import os

from PIL import Image
from sqlalchemy import select
from werkzeug.security import check_password_hash

from skm.models import Questionnaire, Response
from tests.admin_fixtures import tiny_png
from tests.factories import login, make_response, make_unit, make_user

SETTINGS = {
    "name": "Dinas Uji Coba", "code": "DUC", "address": "Jl. Pahlawan 1", "phone": "0274-1", "city": "Sleman",
    "timezone": "WITA", "head_name": "Drs. Budi", "head_position": "Kepala Dinas", "head_rank": "Pembina (IV/a)",
    "head_nip": "197001011990031001", "idle_seconds": "90", "thanks_seconds": "6", "min_survey_seconds": "10",
    "kiosk_show_ikm": "1", "ask_gender": "1", "ask_age": "1", "age_bands": "17, 26, 36, 46", "rtl_priority_count": "4",
    "intro_text": "Latar belakang survei.",
}


def _setup(db, role="admin"):
    unit = make_unit(db.session)
    make_user(db.session, "admin", "admin")
    if role != "admin":
        make_user(db.session, role, role, [unit])
    db.session.commit()
    return unit


def test_settings_form_saves_every_field(db, client, no_csrf):
    unit = _setup(db)
    login(client)
    r = client.post(f"/admin/units/{unit.id}/settings", data=SETTINGS)
    assert r.status_code == 302
    db.session.expire_all()
    assert (unit.name, unit.code, unit.timezone, unit.city) == ("Dinas Uji Coba", "DUC", "WITA", "Sleman")
    assert (unit.head_name, unit.head_rank, unit.head_nip) == ("Drs. Budi", "Pembina (IV/a)", "197001011990031001")
    assert (unit.idle_seconds, unit.thanks_seconds, unit.min_survey_seconds) == (90, 6, 10)
    assert unit.kiosk_show_ikm and not unit.ask_suggestion_on_low
    assert unit.ask_gender and unit.ask_age and not unit.ask_education and not unit.ask_occupation
    assert unit.age_bands == "17,26,36,46" and unit.rtl_priority_count == 4
    assert unit.intro_text == "Latar belakang survei."


def test_bad_settings_change_nothing_and_say_why(db, client, no_csrf):
    unit = _setup(db)
    login(client)
    bad = dict(SETTINGS, name="", idle_seconds="abc", age_bands="30,20", timezone="UTC", head_nip="NIP-x")
    r = client.post(f"/admin/units/{unit.id}/settings", data=bad)
    text = r.get_data(as_text=True)
    assert r.status_code == 200
    for message in ("Nama unit wajib diisi", "harus bilangan bulat", "naik berurutan", "Zona waktu", "NIP"):
        assert message in text
    db.session.expire_all()
    assert unit.name == "Unit Uji" and unit.timezone == "WIB" and unit.age_bands == "17,24,30,41"


def test_logo_is_sniffed_reencoded_to_png_and_served_through_a_route(app, db, client, no_csrf):
    unit = _setup(db)
    login(client)
    jpeg = tiny_png((40, 30), fmt="JPEG")
    r = client.post(f"/admin/units/{unit.id}/logo", data={"logo": (io.BytesIO(jpeg), "logo.jpg")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    db.session.expire_all()
    path = os.path.join(app.config["UPLOAD_FOLDER"], "logos", unit.logo_path)
    assert unit.logo_path.endswith(".png") and os.path.isfile(path)
    with Image.open(path) as stored:
        assert stored.format == "PNG" and stored.size == (40, 30)
    served = client.get(f"/admin/units/{unit.id}/logo.png")
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.data[:8] == b"\x89PNG\r\n\x1a\n"
    # not served as a static file
    assert client.get(f"/static/uploads/logos/{unit.logo_path}").status_code == 404


def test_bad_logos_are_refused(app, db, client, no_csrf):
    unit = _setup(db)
    login(client)
    for data, name, message in [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.png", "bukan gambar"),
        (b"%PDF-1.4 not an image", "logo.png", "bukan gambar"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "broken.png", "bukan gambar"),
        (b"", "empty.png", "Pilih berkas"),
        (b"\x00" * (2 * 1024 * 1024 + 10), "big.png", "terlalu besar"),
    ]:
        r = client.post(f"/admin/units/{unit.id}/logo", data={"logo": (io.BytesIO(data), name)},
                        content_type="multipart/form-data", follow_redirects=True)
        assert r.status_code == 200
        assert message in r.get_data(as_text=True), name
    db.session.expire_all()
    assert unit.logo_path is None


def test_operator_sets_kiosk_pin_stored_hashed(db, client, no_csrf):
    unit = _setup(db, role="operator")
    login(client, "operator")
    assert "harus 4–8 angka" in client.post(f"/admin/units/{unit.id}/pin", data={"pin": "12a4", "confirm": "12a4"}).get_data(as_text=True)
    assert "tidak sama" in client.post(f"/admin/units/{unit.id}/pin", data={"pin": "1234", "confirm": "4321"}).get_data(as_text=True)
    assert client.post(f"/admin/units/{unit.id}/pin", data={"pin": "482913", "confirm": "482913"}).status_code == 302
    db.session.expire_all()
    assert "482913" not in unit.kiosk_pin_hash
    assert check_password_hash(unit.kiosk_pin_hash, "482913")
    # no settings for operators
    assert client.get(f"/admin/units/{unit.id}/settings").status_code == 403


def test_services_are_added_and_retired_without_losing_history(db, client, no_csrf):
    unit = _setup(db)
    service = unit.services[0]
    make_response(db.session, unit, [4] * 9, service=service)
    db.session.commit()
    login(client)
    assert client.post(f"/admin/units/{unit.id}/services", data={"name": "  Cetak   KTP "}).status_code == 302
    assert "sudah ada" in client.post(f"/admin/units/{unit.id}/services", data={"name": "cetak ktp"}).get_data(as_text=True)
    assert "wajib diisi" in client.post(f"/admin/units/{unit.id}/services", data={"name": " "}).get_data(as_text=True)
    client.post(f"/admin/units/{unit.id}/services/{service.id}/retire", data={"retired": "1"})
    db.session.expire_all()
    assert service.retired_at is not None
    assert db.session.scalar(select(Response).where(Response.service_id == service.id)) is not None
    names = [s.name for s in unit.services]
    assert "Cetak KTP" in names
    client.post(f"/admin/units/{unit.id}/services/{service.id}/retire", data={"retired": "0"})
    db.session.expire_all()
    assert service.retired_at is None


def _editor(unit, changes=None, extra=None, remove=()):
    data = {}
    rows = [
        {"code": e.code, "name": e.name, "question": e.question, "label1": e.label1, "label2": e.label2,
         "label3": e.label3, "label4": e.label4, "position": str(e.position)}
        for e in unit.current_questionnaire.elements
    ]
    for code, fields in (changes or {}).items():
        next(r for r in rows if r["code"] == code).update(fields)
    if extra:
        rows.append(extra)
    for i, row in enumerate(rows):
        for k, v in row.items():
            data[f"{k}-{i}"] = v
        if row["code"] in remove:
            data[f"remove-{i}"] = "1"
    data["rows"] = str(len(rows))
    return data


def test_questionnaire_edit_makes_a_new_version_and_old_answers_keep_theirs(db, client, no_csrf):
    unit = _setup(db)
    old = make_response(db.session, unit, [3] * 9)
    db.session.commit()
    login(client)
    data = _editor(unit, changes={"U8": {"position": "9"}, "U9": {"position": "8"},
                                  "U1": {"question": "Apakah persyaratan jelas?"}},
                   extra={"code": "U10", "name": "Kemudahan aplikasi", "question": "Mudahkah aplikasinya?",
                          "label1": "Sulit", "label2": "Agak sulit", "label3": "Mudah", "label4": "Sangat mudah",
                          "position": "10"},
                   remove=("U4",))
    r = client.post(f"/admin/units/{unit.id}/questionnaire", data=data)
    assert r.status_code == 302
    db.session.expire_all()
    current = unit.current_questionnaire
    assert current.version == 2
    assert [e.code for e in current.elements] == ["U1", "U2", "U3", "U5", "U6", "U7", "U9", "U8", "U10"]
    assert current.elements[0].question == "Apakah persyaratan jelas?"
    assert db.session.get(Response, old.id).questionnaire.version == 1
    assert len(db.session.scalars(select(Questionnaire).where(Questionnaire.unit_id == unit.id)).all()) == 2
    # saving without a change makes no version; a bad row changes nothing
    same = client.post(f"/admin/units/{unit.id}/questionnaire", data=_editor(unit))
    assert "Tidak ada perubahan" in same.get_data(as_text=True)
    bad = client.post(f"/admin/units/{unit.id}/questionnaire", data=_editor(unit, changes={"U2": {"label3": ""}}))
    assert "label jawaban wajib diisi" in bad.get_data(as_text=True)
    dup = client.post(f"/admin/units/{unit.id}/questionnaire", data=_editor(unit, changes={"U2": {"code": "U1"}}))
    assert "tidak boleh sama" in dup.get_data(as_text=True)
    db.session.expire_all()
    assert unit.current_questionnaire.version == 2


def test_alert_rule_form(db, client, no_csrf):
    unit = _setup(db)
    login(client)
    r = client.post(f"/admin/units/{unit.id}/alert-rule", data={"enabled": "1", "window_minutes": "30",
                                                                 "min_responses": "5", "share_percent": "60", "max_rating": "2"})
    assert r.status_code == 302
    from skm.scoring.analytics import alert_rule

    rule = alert_rule(db.session, unit)
    assert (rule.window_minutes, rule.min_responses, rule.share_percent) == (30, 5, 60)
    bad = client.post(f"/admin/units/{unit.id}/alert-rule", data={"window_minutes": "0", "min_responses": "x",
                                                                   "share_percent": "150", "max_rating": "2"})
    assert bad.status_code == 200 and "harus antara" in bad.get_data(as_text=True)


def test_new_unit_starts_with_nine_standard_elements(db, client, no_csrf):
    make_user(db.session)
    db.session.commit()
    login(client)
    r = client.post("/admin/units", data={"code": "kel01", "name": "Kelurahan Satu", "timezone": "WIT"})
    assert r.status_code == 302
    from skm.survey.units import unit_by_code

    unit = unit_by_code(db.session, "KEL01")
    assert unit.timezone == "WIT" and len(unit.current_questionnaire.elements) == 9
    assert "sudah ada" in client.post("/admin/units", data={"code": "KEL01", "name": "x"}).get_data(as_text=True)
