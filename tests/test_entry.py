"""Fast paper entry: parsing, saving, running count, date default, undo and access."""
from __future__ import annotations

import datetime as dt
import re

from flask import g
from sqlalchemy import func, select

from skm.core.clock import utcnow
from skm.core.errors import DomainError
from skm.intake.entry import UNDO_MINUTES, forms_today, parse_entry, undo_last_form, undoable, unit_today
from skm.models import Answer, PeriodUnit, Response
from skm.survey.periods import quarter
from tests.factories import login, make_period, make_unit, make_user

ALL4 = {f"U{i}": "4" for i in range(1, 10)}


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _setup(db, role="operator"):
    unit = make_unit(db.session)
    user = make_user(db.session, "op", role, [unit])
    db.session.commit()
    return unit, user


def _form(unit, **over):
    data = {"tanggal": "01-08-2023", "jam": "1", "layanan": str(unit.services[0].id), "jenis_kelamin": "P",
            "usia": "41", "pendidikan": "SMA", "pekerjaan": "Wirausaha", "saran": "Antrean lama",
            **ALL4}
    data.update(over)
    return data


def _page(client, unit) -> str:
    # The db fixture keeps one app context for the whole test; Flask-WTF caches the CSRF
    # token in g, so drop it to get the token of the client's current session.
    g.pop("csrf_token", None)
    return client.get(f"/admin/units/{unit.id}/entry").get_data(as_text=True)


def _post(client, unit, data):
    g.pop("csrf_token", None)
    page = _page(client, unit)
    return client.post(f"/admin/units/{unit.id}/entry", data={**data, "csrf_token": _token(page)})


def _count(db):
    return db.session.scalar(select(func.count(Response.id)))


def test_saves_a_paper_form_with_every_field(db, client):
    unit, user = _setup(db)
    login(client, "op")
    r = _post(client, unit, _form(unit, U3="2", U9="0", pekerjaan="Ojek daring"))
    assert r.status_code == 302
    response = db.session.scalar(select(Response))
    assert response.channel == "paper" and response.created_by_id == user.id
    assert response.survey_date == dt.date(2023, 8, 1) and response.time_slot == "08.00-12.00"
    assert response.service_id == unit.services[0].id
    assert (response.gender, response.age, response.education) == ("P", 41, "SMA")
    assert (response.occupation, response.occupation_other) == ("LAINNYA", "Ojek daring")
    assert response.suggestion == "Antrean lama"
    ratings = {a.element.code: a.rating for a in response.answers}
    assert ratings["U3"] == 2 and "U9" not in ratings and len(ratings) == 8  # 0 = not answered
    page = _page(client, unit)
    assert "Formulir tersimpan" in page
    assert 'value="01-08-2023"' in page  # the date defaults to the last one entered
    assert re.search(r"sudah memasukkan <strong>1</strong> formulir", page)
    assert "Batalkan formulir terakhir" in page


def test_rejects_a_five_and_a_missing_rating_and_stores_nothing(db, client):
    unit, _ = _setup(db)
    login(client, "op")
    r = _post(client, unit, _form(unit, U4="5"))
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "U4: Nilai &#39;5&#39; tidak boleh; hanya 1, 2, 3 atau 4. Ketik 0 bila tidak dijawab." in page
    assert 'value="5"' in page and "aria-invalid" in page
    assert 'id="f-U4" value="5"' in page and "autofocus" in page.split('id="f-U4"')[1].split(">")[0]
    assert _count(db) == 0
    form = _form(unit)
    del form["U7"]
    page = _post(client, unit, form).get_data(as_text=True)
    assert "U7 belum diisi" in page
    assert 'value="Antrean lama"' not in page and "Antrean lama" in page  # saran kept in the textarea
    assert _count(db) == 0
    page = _post(client, unit, _form(unit, U1="x", U2="")).get_data(as_text=True)
    assert "U1: Nilai &#39;x&#39;" in page and "U2 belum diisi" in page
    assert _count(db) == 0


def test_other_field_errors_are_clear(db, client):
    unit, _ = _setup(db)
    login(client, "op")
    cases = {
        "tanggal": ("31-02-2023", "Tanggal:"),
        "jam": ("3", "ketik 1 (08.00–12.00) atau 2"),
        "jenis_kelamin": ("X", "Jenis kelamin harus L (Laki-laki) atau P (Perempuan)."),
        "usia": ("7", "Usia harus angka 15–99 tahun."),
        "pendidikan": ("SMK3", "Pendidikan harus TS (tidak sekolah), SD, SMP, SMA, DIII, S1, S2 atau S3."),
        "layanan": ("99999", "Layanan &#39;99999&#39; tidak dikenal di unit ini; pilih dari daftar layanan."),
    }
    for field, (value, message) in cases.items():
        page = _post(client, unit, _form(unit, **{field: value})).get_data(as_text=True)
        assert message in page, field
    tomorrow = (unit_today(unit) + dt.timedelta(days=1)).strftime("%d-%m-%Y")
    assert "masa depan" in _post(client, unit, _form(unit, tanggal=tomorrow)).get_data(as_text=True)
    all_zero = {f"U{i}": "0" for i in range(1, 10)}
    assert "Paling sedikit satu unsur" in _post(client, unit, _form(unit, **all_zero)).get_data(as_text=True)
    assert _count(db) == 0


def test_closed_period_refuses_paper_forms(db, client):
    unit, user = _setup(db)
    period = make_period(db.session, quarter(2023, 3))
    db.session.add(PeriodUnit(period_id=period.id, unit_id=unit.id, closed_at=utcnow()))
    db.session.commit()
    login(client, "op")
    page = _post(client, unit, _form(unit)).get_data(as_text=True)
    assert "sudah ditutup" in page and _count(db) == 0


def test_undo_removes_exactly_the_last_form(db, client):
    unit, user = _setup(db)
    login(client, "op")
    _post(client, unit, _form(unit, saran="pertama"))
    _post(client, unit, _form(unit, saran="kedua", U1="1"))
    assert _count(db) == 2
    page = _page(client, unit)
    r = client.post(f"/admin/units/{unit.id}/entry/undo", data={"csrf_token": _token(page)})
    assert r.status_code == 302
    db.session.expire_all()
    remaining = db.session.scalars(select(Response)).all()
    assert [x.suggestion for x in remaining] == ["pertama"]
    assert db.session.scalar(select(func.count(Answer.id))) == 9  # the undone form's answers went too
    page = _page(client, unit)
    assert "dibatalkan dan dihapus" in page
    assert re.search(r"sudah memasukkan <strong>1</strong> formulir", page)
    # One level only: a second undo does not reach the earlier form.
    client.post(f"/admin/units/{unit.id}/entry/undo", data={"csrf_token": _token(page)})
    db.session.expire_all()
    assert _count(db) == 1
    assert "Tidak ada formulir yang dapat dibatalkan" in client.get(f"/admin/units/{unit.id}/entry").get_data(as_text=True)


def test_undo_only_own_recent_form(db):
    unit = make_unit(db.session)
    op = make_user(db.session, "op", "operator", [unit])
    other = make_user(db.session, "op2", "operator", [unit])
    result = parse_entry(db.session, unit, {"tanggal": "2023-08-01", **ALL4})
    from skm.intake.entry import save_paper_form

    response = save_paper_form(db.session, unit, result.data, op.id)
    now = utcnow()
    assert undoable(db.session, unit, op.id, response.id, now) is response
    assert undoable(db.session, unit, other.id, response.id, now) is None
    later = now + dt.timedelta(minutes=UNDO_MINUTES, seconds=1)
    assert undoable(db.session, unit, op.id, response.id, later) is None
    try:
        undo_last_form(db.session, unit, other.id, response.id, now)
        raise AssertionError("undo by another user must fail")
    except DomainError as exc:
        assert "hanya formulir terakhir Anda" in str(exc)
    assert db.session.get(Response, response.id) is not None
    assert forms_today(db.session, unit, op.id) == 1 and forms_today(db.session, unit, other.id) == 0


def test_running_count_uses_the_units_day(db):
    unit = make_unit(db.session, timezone="WIT")  # UTC+9
    op = make_user(db.session, "op", "operator", [unit])
    from skm.intake.entry import save_paper_form

    result = parse_entry(db.session, unit, {"tanggal": "2023-08-01", **ALL4})
    response = save_paper_form(db.session, unit, result.data, op.id)
    # Saved at 16:00 UTC = 01:00 WIT the next day.
    response.submitted_at = dt.datetime(2024, 3, 4, 16, 0)
    db.session.flush()
    assert forms_today(db.session, unit, op.id, now=dt.datetime(2024, 3, 5, 2, 0)) == 1  # 11:00 WIT, same day
    assert forms_today(db.session, unit, op.id, now=dt.datetime(2024, 3, 5, 15, 30)) == 0  # 00:30 WIT next day


def test_entry_access_control(db, client):
    unit = make_unit(db.session)
    other = make_unit(db.session, "LAIN", "Unit Lain")
    make_user(db.session, "op", "operator", [unit])
    db.session.commit()
    assert client.get(f"/admin/units/{unit.id}/entry").status_code == 302  # login first
    login(client, "op")
    assert client.get(f"/admin/units/{unit.id}/entry").status_code == 200
    assert client.get(f"/admin/units/{other.id}/entry").status_code == 403
    assert client.get("/admin/units/999/entry").status_code == 404
    page = _page(client, unit)
    assert client.post(f"/admin/units/{other.id}/entry", data={**_form(other), "csrf_token": _token(page)}).status_code == 403
    assert client.post(f"/admin/units/{unit.id}/entry", data=_form(unit)).status_code == 400  # no CSRF token
    assert client.get("/admin/entry/").status_code == 302  # one unit: straight to its form
    assert _count(db) == 0
    # No inline script: the page only loads entry.js.
    assert "<script>" not in page and "onclick" not in page and re.search(r"/static/js/entry\.[0-9a-f]{12}\.js", page)
    g.pop("_login_user", None)


def test_a_resent_form_is_stored_once(db, client):
    unit, _ = _setup(db)
    login(client, "op")
    page = _page(client, unit)
    form_id = re.search(r'name="form_id" value="([0-9a-f]+)"', page).group(1)
    data = {**_form(unit), "csrf_token": _token(page), "form_id": form_id}
    assert client.post(f"/admin/units/{unit.id}/entry", data=data).status_code == 302
    assert client.post(f"/admin/units/{unit.id}/entry", data=data).status_code == 302  # double Enter, browser retry
    assert _count(db) == 1
    assert "tidak disimpan dua kali" in _page(client, unit)
