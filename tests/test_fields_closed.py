"""One validator per respondent field in every channel, control characters in free text, and a
closed period frozen in every channel (kiosk, paper entry, import via web and CLI, the
dashboard's exclude/include). Runs on SQLite and, with DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from flask import g
from sqlalchemy import func, select

from skm.core.clock import unit_now
from skm.core.errors import DomainError
from skm.intake.entry import save_paper_form, undo_last_form
from skm.intake.importer import commit_import, preview_import
from skm.kiosk import devices as D
from skm.models import ImportBatch, KioskSurvey, PeriodUnitLog, Response
from skm.survey import fields
from skm.survey.period_admin import PeriodClosed, close_period, reopen_period
from skm.survey.periods import quarter
from skm.survey.responses import ResponseData, record_response, set_excluded
from tests.factories import login, make_period, make_response, make_unit, make_user
from tests.kiosk_helpers import pair_tablet

HEADER = "tanggal,jam,layanan,jenis_kelamin,usia,pendidikan,pekerjaan,saran," + ",".join(f"U{i}" for i in range(1, 10))
NUL_SARAN = "Antrean\x00 lama\x01\r\nKursi\x7f kurang"
CLEAN_SARAN = "Antrean lama\nKursi kurang"


def _count(db, model=Response):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _today_quarter(unit):
    today = unit_now(unit).date()
    return quarter(today.year, (today.month - 1) // 3 + 1)


# --- the validators ----------------------------------------------------------------

@pytest.mark.parametrize("validator, value, expected", [
    (fields.clean_gender, " laki-laki ", "L"),
    (fields.clean_gender, "P\x00", "P"),
    (fields.clean_gender, "", None),
    (fields.clean_age, "34", 34),
    (fields.clean_age, 41.0, 41),
    (fields.clean_age, "15", 15),
    (fields.clean_age, "99", 99),
    (fields.clean_age, "3\x004", 34),
    (fields.clean_education, "slta", "SMA"),
    (fields.clean_education, "DIII", "DIII"),
    (fields.clean_occupation, "Lainnya: ojek\x00 online", ("LAINNYA", "ojek online")),
    (fields.clean_occupation, "Pegawai swasta", ("SWASTA", None)),
    (fields.clean_occupation, "Petani", ("LAINNYA", "Petani")),
    (fields.clean_suggestion, NUL_SARAN, CLEAN_SARAN),
    (fields.clean_suggestion, " \x00 ", None),
])
def test_validators_return_the_clean_value(validator, value, expected):
    assert validator(value) == expected


@pytest.mark.parametrize("call, field, message", [
    (lambda: fields.clean_gender("X"), "jenis_kelamin", "Jenis kelamin harus L (Laki-laki) atau P (Perempuan)."),
    (lambda: fields.clean_gender("", required=True), "jenis_kelamin", "Jenis kelamin harus L"),
    (lambda: fields.clean_age("14"), "usia", "Usia harus angka 15–99 tahun."),
    (lambda: fields.clean_age("100"), "usia", "Usia harus angka 15–99 tahun."),
    (lambda: fields.clean_age(True), "usia", "Usia harus angka"),
    (lambda: fields.clean_education("TK"), "pendidikan", "Pendidikan harus TS (tidak sekolah)"),
    (lambda: fields.clean_occupation("PETANI", ""), "pekerjaan", "Pilih salah satu pekerjaan"),
    (lambda: fields.clean_occupation("LAINNYA", "x" * 201), "pekerjaan", "maksimal 200 karakter"),
    (lambda: fields.clean_rating("U3", "5"), "U3", "Nilai '5' tidak boleh; hanya 1, 2, 3 atau 4."),
    (lambda: fields.clean_rating("U3", 0), "U3", "Nilai '0' tidak boleh"),
    (lambda: fields.clean_rating("U3", 2.5), "U3", "tidak boleh"),
    (lambda: fields.clean_rating("U3", "", required=True), "U3", "Unsur U3 belum dijawab."),
    (lambda: fields.clean_ratings(["U1", "U2"], {"U1": None, "U2": None}), "U1", "Paling sedikit satu unsur"),
    (lambda: fields.clean_ratings(["U1"], {"U9": 3}), "U9", "Unsur U9 tidak ada di kuesioner."),
    (lambda: fields.clean_suggestion("x" * 5001), "saran", "Saran terlalu panjang (maksimal 5.000 karakter)."),
])
def test_validators_refuse_with_one_message(call, field, message):
    with pytest.raises(fields.FieldError) as exc:
        call()
    assert exc.value.field == field and message in str(exc.value)


def test_service_by_id_or_name_only_of_this_unit(db):
    unit = make_unit(db.session)
    other = make_unit(db.session, code="LAIN", services=("Layanan Lain",))
    a = unit.services[0]
    assert fields.clean_service(unit, a.id) == a.id
    assert fields.clean_service(unit, str(a.id)) == a.id
    assert fields.clean_service(unit, "  layanan   a ") == a.id
    assert fields.clean_service(unit, "") is None
    with pytest.raises(fields.FieldError, match="tidak dikenal di unit ini"):
        fields.clean_service(unit, other.services[0].id)


def test_record_response_cleans_and_refuses_through_the_same_validators(db):
    unit = make_unit(db.session)
    data = ResponseData(survey_date=dt.date(2023, 8, 1), ratings={"U1": 4}, suggestion=NUL_SARAN,
                        occupation="LAINNYA", occupation_other="ojek\x00\nonline")
    response = record_response(db.session, unit, data, "paper")
    db.session.commit()
    db.session.expire_all()
    assert response.suggestion == CLEAN_SARAN and response.occupation_other == "ojek online"
    for bad in (dict(age=12), dict(gender="X"), dict(ratings={"U1": 5})):
        with pytest.raises(DomainError):
            record_response(db.session, unit, ResponseData(survey_date=dt.date(2023, 8, 1),
                                                           **{"ratings": {"U1": 4}, **bad}), "paper")
        db.session.rollback()
    assert _count(db) == 1


# --- a NUL byte in saran, in every channel --------------------------------------------

def test_nul_in_saran_through_the_kiosk_is_stored_clean(app, db):
    unit = make_unit(db.session)
    db.session.commit()
    tablet = pair_tablet(app, db, unit)
    tablet.start()
    tablet.fill_all(unit, [4] * 9, service_id=unit.services[0].id)
    r = tablet.send(saran=NUL_SARAN)
    assert r.status_code == 200 and tablet.kind == "thanks"
    assert r.headers["X-Kiosk-Ack"] == tablet.token
    stored = db.session.scalars(select(Response)).all()
    assert [x.suggestion for x in stored] == [CLEAN_SARAN]
    # the same send again (the tablet retrying) is acknowledged, still one response
    assert tablet.send(saran=NUL_SARAN).headers["X-Kiosk-Ack"] == r.headers["X-Kiosk-Ack"]
    assert _count(db) == 1


def test_nul_in_kiosk_occupation_text_is_stored_clean(app, db):
    unit = make_unit(db.session)
    db.session.commit()
    tablet = pair_tablet(app, db, unit)
    tablet.start()
    tablet.answer("service", unit.services[0].id)
    tablet.answer("gender", "P")
    tablet.answer("age", "30")
    tablet.answer("education", "S1")
    tablet.answer("occupation", "LAINNYA")
    tablet.answer("occupation", "LAINNYA", other="Ojek\x00\tonline")
    for i in range(1, 10):
        tablet.answer(f"el-U{i}", "3")
    tablet.send()
    assert tablet.kind == "thanks"
    response = db.session.scalar(select(Response))
    assert (response.occupation, response.occupation_other) == ("LAINNYA", "Ojek online")


def test_nul_in_saran_through_paper_entry_is_stored_clean(db, client):
    unit = make_unit(db.session)
    make_user(db.session, "op", "operator", [unit])
    db.session.commit()
    login(client, "op")
    g.pop("csrf_token", None)
    page = client.get(f"/admin/units/{unit.id}/entry").get_data(as_text=True)
    form = {"csrf_token": _token(page), "tanggal": "01-08-2023", "jam": "1", "layanan": str(unit.services[0].id),
            "jenis_kelamin": "P", "usia": "41", "pendidikan": "SMA", "pekerjaan": "Lainnya: ojek\x00",
            "saran": NUL_SARAN, **{f"U{i}": "4" for i in range(1, 10)}}
    r = client.post(f"/admin/units/{unit.id}/entry", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)
    response = db.session.scalar(select(Response))
    assert response.suggestion == CLEAN_SARAN and response.occupation_other == "ojek"


def _csv(day: str = "2023-08-01", saran: str = NUL_SARAN, n: int = 3) -> bytes:
    lines = [HEADER] + [f'{day},09:30,Layanan A,P,34,S1,Swasta,"{saran}",' + ",".join(["4"] * 9)
                        for _ in range(n)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def import_admin(db, client):
    unit = make_unit(db.session)
    make_user(db.session)
    db.session.commit()
    login(client)
    return unit


def _upload(client, unit, name, content):
    g.pop("csrf_token", None)
    page = client.get(f"/admin/units/{unit.id}/data").get_data(as_text=True)
    data = {"csrf_token": _token(page), "kanal": "paper", "berkas": (io.BytesIO(content), name)}
    return client.post(f"/admin/units/{unit.id}/data/impor", data=data, content_type="multipart/form-data")


def _commit(client, unit, preview_page):
    token = re.search(r'name="token" value="([0-9a-f]+)"', preview_page).group(1)
    return client.post(f"/admin/units/{unit.id}/data/impor/simpan",
                       data={"csrf_token": _token(preview_page), "token": token})


def test_nul_in_saran_through_the_web_import_is_stored_clean(db, client, import_admin):
    unit = import_admin
    r = _upload(client, unit, "kertas.csv", _csv())
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="row-count">3<' in page, page
    assert _commit(client, unit, page).status_code == 302
    assert {x.suggestion for x in db.session.scalars(select(Response))} == {CLEAN_SARAN}
    assert _count(db) == 3


def test_nul_in_saran_through_the_cli_import_is_stored_clean(db, runner, tmp_path):
    make_unit(db.session)
    db.session.commit()
    path = tmp_path / "kertas.csv"
    path.write_bytes(_csv())
    result = runner.invoke(args=["skm", "import", str(path), "--unit", "UJI"])
    assert result.exit_code == 0, result.output
    assert {x.suggestion for x in db.session.scalars(select(Response))} == {CLEAN_SARAN}


def test_a_utf16_or_binary_csv_is_still_refused(db):
    unit = make_unit(db.session)
    from skm.intake.tables import ImportRejected

    with pytest.raises(ImportRejected, match="bukan CSV teks"):
        preview_import(db.session, unit, "a.csv", HEADER.encode("utf-16-le"))


# --- a closed period is frozen -----------------------------------------------------

def _close(db, unit, span=None):
    period = make_period(db.session, span or quarter(2023, 3))
    manager = make_user(db.session, "manajer", "manager", [unit])
    close_period(db.session, period, unit, manager)
    db.session.commit()
    return period


def test_kiosk_starts_no_survey_in_a_closed_period_and_tells_the_staff(app, db):
    unit = make_unit(db.session)
    D.set_kiosk_pin(db.session, unit, "2468")
    db.session.commit()
    tablet = pair_tablet(app, db, unit)
    assert tablet.kind == "welcome"
    period = _close(db, unit, _today_quarter(unit))
    tablet.home()
    assert tablet.kind == "closed" and "Survei untuk periode ini sudah ditutup. Terima kasih." in tablet.html
    assert "Sentuh untuk memulai" not in tablet.html
    r = tablet.start()
    assert r.status_code == 200 and r.headers["X-Kiosk"] == "closed" and tablet.kind == "closed"
    assert _count(db, KioskSurvey) == 0
    tablet.post("/kiosk/staff/pin", {"pin": "2468"})
    assert "Menu petugas" in tablet.html
    assert f"Periode {period.name} sudah ditutup untuk unit ini" in tablet.html
    # another unit's closed period does not stop this tablet
    admin = make_user(db.session)
    reopen_period(db.session, period, unit, admin, "salah tutup")
    other = make_unit(db.session, code="LAIN")
    close_period(db.session, period, other, admin)
    db.session.commit()
    tablet.home()
    assert tablet.kind == "welcome"
    tablet.start()
    assert tablet.kind not in ("welcome", "closed") and _count(db, KioskSurvey) == 1


def test_survey_in_progress_is_refused_at_send_once_and_for_all(app, db):
    unit = make_unit(db.session)
    db.session.commit()
    tablet = pair_tablet(app, db, unit)
    tablet.start()
    token = tablet.token
    tablet.fill_all(unit, [3] * 9, service_id=unit.services[0].id)
    _close(db, unit, _today_quarter(unit))
    for _ in range(2):  # the tablet repeating the same send gets the same acknowledged refusal
        r = tablet.send(saran="bagus", token=token)
        assert r.status_code == 200 and r.headers["X-Kiosk"] == "closed"
        assert r.headers["X-Kiosk-Ack"] == token  # acknowledged: kiosk.js stops retrying
        assert "jawaban Saudara tidak disimpan" in tablet.html and "Terkirim" not in tablet.html
    assert _count(db) == 0
    survey = db.session.scalar(select(KioskSurvey).where(KioskSurvey.token == token))
    assert survey.status == "abandoned" and not survey.answers.get("values")


def test_paper_entry_and_undo_refused_in_a_closed_period(db):
    unit = make_unit(db.session)
    user = make_user(db.session, "op", "operator", [unit])
    data = ResponseData(survey_date=dt.date(2023, 8, 1), ratings={"U1": 4})
    saved = save_paper_form(db.session, unit, data, user.id)
    db.session.commit()
    period = _close(db, unit)
    with pytest.raises(PeriodClosed, match=f"Periode {period.name} sudah ditutup"):
        save_paper_form(db.session, unit, ResponseData(survey_date=dt.date(2023, 9, 30), ratings={"U1": 4}), user.id)
    db.session.rollback()
    with pytest.raises(DomainError, match="tidak dapat dibatalkan"):
        undo_last_form(db.session, unit, user.id, saved.id)
    db.session.rollback()
    assert _count(db) == 1
    # the day after the period is open
    save_paper_form(db.session, unit, ResponseData(survey_date=dt.date(2023, 10, 1), ratings={"U1": 4}), user.id)
    assert _count(db) == 2


def test_web_import_into_a_closed_period_is_refused_even_after_preview(db, client, import_admin):
    unit = import_admin
    page = _upload(client, unit, "kertas.csv", _csv(saran="ok")).get_data(as_text=True)
    assert 'id="row-count">3<' in page
    period = _close(db, unit)  # closed between preview and commit
    r = _commit(client, unit, page)
    text = client.get(r.headers["Location"]).get_data(as_text=True) if r.status_code == 302 else r.get_data(as_text=True)
    assert f"periode {period.name} sudah ditutup" in text
    assert _count(db) == 0 and _count(db, ImportBatch) == 0
    page = _upload(client, unit, "lagi.csv", _csv(saran="ok")).get_data(as_text=True)
    assert f"baris 2, kolom tanggal: periode {period.name} sudah ditutup" in page
    assert _count(db) == 0


def test_cli_import_into_a_closed_period_is_refused(db, runner, tmp_path):
    unit = make_unit(db.session)
    period = _close(db, unit)
    path = tmp_path / "kertas.csv"
    path.write_bytes(_csv(saran="ok"))
    result = runner.invoke(args=["skm", "import", str(path), "--unit", "UJI"])
    assert result.exit_code == 1
    assert f"baris 2, kolom tanggal: periode {period.name} sudah ditutup" in result.output
    assert _count(db) == 0
    domain = preview_import(db.session, unit, "a.csv", _csv(day="2023-10-02", saran="ok"))
    commit_import(db.session, unit, domain)  # outside the closed period it imports
    assert _count(db) == 3


def test_dashboard_exclude_and_include_refused_in_a_closed_period(db, client, no_csrf):
    unit = make_unit(db.session)
    make_user(db.session, "admin", "admin")
    responses = [make_response(db.session, unit, [3] * 9, day=dt.date(2023, 8, 1 + i)) for i in range(3)]
    for r in responses:
        r.flagged, r.flag_reason = True, "terlalu cepat"
    responses[2].excluded = True
    db.session.commit()
    period = _close(db, unit)
    login(client, "admin")
    url = f"/admin/units/{unit.id}/results/flagged?period={period.id}"
    assert "tidak dapat dikecualikan atau dihitung kembali" in client.get(url).get_data(as_text=True)
    for action, ids in (("exclude", responses[:2]), ("include", responses[2:])):
        r = client.post(url, data={"response": [str(x.id) for x in ids], "action": action}, follow_redirects=True)
        assert r.status_code == 200
        assert f"Periode {period.name} sudah ditutup; jawaban di dalamnya tidak dapat dikecualikan" in r.get_data(
            as_text=True)
    db.session.expire_all()
    assert [x.excluded for x in db.session.scalars(select(Response).order_by(Response.id))] == [False, False, True]
    # one response in a closed period among open ones refuses the whole request
    later = make_response(db.session, unit, [3] * 9, day=dt.date(2023, 10, 2))
    with pytest.raises(PeriodClosed):
        set_excluded(db.session, [later.id, responses[0].id], True)
    db.session.rollback()
    assert set_excluded(db.session, [later.id], True) == 1


def test_reopening_is_logged_like_closing_and_unfreezes(db):
    unit = make_unit(db.session)
    admin = make_user(db.session)
    period = _close(db, unit)
    with pytest.raises(PeriodClosed):
        make_response(db.session, unit, [4] * 9)
    db.session.rollback()
    reopen_period(db.session, period, unit, admin, "koreksi data")
    db.session.commit()
    log = db.session.scalars(select(PeriodUnitLog).order_by(PeriodUnitLog.id)).all()
    assert [(e.action, e.period_id, e.unit_id) for e in log] == [("close", period.id, unit.id),
                                                               ("reopen", period.id, unit.id)]
    assert log[1].user_id == admin.id and log[1].note == "koreksi data" and log[1].at >= log[0].at
    make_response(db.session, unit, [4] * 9)
    assert _count(db) == 1
