"""Admin screens for kiosk tablets, the set-kiosk-pin command and the completion figure."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from skm.core.clock import unit_now
from skm.kiosk import flow as F
from skm.models import Device, Unit
from tests.factories import login, make_unit, make_user
from tests.kiosk_helpers import _Client, pair_tablet


@pytest.fixture
def client(app):
    return _Client(app.test_client())


def _csrf(html):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_admin_creates_lists_and_revokes_devices(app, db, client):
    unit = make_unit(db.session)
    make_user(db.session)
    db.session.commit()
    login(client)
    page = client.get(f"/admin/units/{unit.id}/devices").get_data(as_text=True)
    assert "Belum ada tablet" in page
    created = client.post(f"/admin/units/{unit.id}/devices",
                          data={"name": "Lobi lantai 1", "service_id": str(unit.services[0].id), "csrf_token": _csrf(page)})
    assert created.status_code == 303
    html = client.get(created.headers["Location"]).get_data(as_text=True)
    code = re.search(r'class="pairing-code">([A-Z0-9]+)<', html).group(1)
    assert f"/kiosk/pair/{code}" in html and "Menunggu pemasangan" in html
    device = db.session.scalar(select(Device).where(Device.name == "Lobi lantai 1"))
    assert device.service_id == unit.services[0].id and device.credential_hash is None
    # The tablet pairs with that code and sends one survey.
    tablet = pair_tablet(app, db, unit)
    tablet.client._client.get(f"/kiosk/pair/{code}")
    tablet.post("/kiosk/pair", {"code": code}, htmx=False)
    tablet.home()
    tablet.start()
    assert tablet.kind == "gender"  # bound to the service
    tablet.fill_all(unit, [4] * 9)
    tablet.send()
    page = client.get(f"/admin/units/{unit.id}/devices").get_data(as_text=True)
    row = re.search(r"<tr>\s*<td>Lobi lantai 1</td>(.*?)</tr>", page, re.S).group(1)
    assert "Aktif" in row and '<td class="num">1</td>' in row
    # Revoke.
    response = client.post(f"/admin/units/{unit.id}/devices/{device.id}/revoke", data={"csrf_token": _csrf(page)})
    assert response.status_code == 302
    db.session.refresh(device)
    assert device.revoked_at is not None
    assert tablet.start().status_code == 403
    assert "Dicabut" in client.get(f"/admin/units/{unit.id}/devices").get_data(as_text=True)


def test_bad_input_and_other_units_service_refused(app, db, client):
    unit = make_unit(db.session)
    other = make_unit(db.session, code="LAIN", name="Unit Lain", services=("X",))
    make_user(db.session)
    db.session.commit()
    login(client)
    page = client.get(f"/admin/units/{unit.id}/devices").get_data(as_text=True)
    response = client.post(f"/admin/units/{unit.id}/devices",
                           data={"name": "A", "service_id": str(other.services[0].id), "csrf_token": _csrf(page)})
    assert response.status_code == 200 and "Layanan tidak ditemukan di unit ini" in response.get_data(as_text=True)
    response = client.post(f"/admin/units/{unit.id}/devices",
                           data={"name": "x" * 101, "service_id": "0", "csrf_token": _csrf(page)})
    assert "Maksimal 100 karakter" in response.get_data(as_text=True)
    assert db.session.scalars(select(Device)).all() == []
    assert client.get("/admin/units/999/devices").status_code == 404


def test_device_screens_are_admin_only(app, db, client):
    unit = make_unit(db.session)
    make_user(db.session, "manajer", "manager", units=[unit])
    db.session.commit()
    assert client.get(f"/admin/units/{unit.id}/devices").status_code == 302  # login first
    login(client, "manajer")
    assert client.get(f"/admin/units/{unit.id}/devices").status_code == 403
    assert client.get("/admin/devices/").status_code == 403


def test_set_kiosk_pin_command(app, db, runner):
    unit = make_unit(db.session)
    db.session.commit()
    result = runner.invoke(args=["skm", "set-kiosk-pin", "uji", "--pin-stdin"], input="482913\n")
    assert result.exit_code == 0, result.output
    assert "PIN kiosk unit UJI disimpan" in result.output
    db.session.expire_all()
    assert check_password_hash(db.session.get(Unit, unit.id).kiosk_pin_hash, "482913")
    bad = runner.invoke(args=["skm", "set-kiosk-pin", "UJI", "--pin-stdin"], input="12\n")
    assert bad.exit_code != 0 and "4–8 angka" in bad.output
    missing = runner.invoke(args=["skm", "set-kiosk-pin", "TIDAKADA", "--pin-stdin"], input="1234\n")
    assert missing.exit_code != 0 and "tidak ditemukan" in missing.output


def test_kiosk_completion_counts_by_unit_and_date(app, db):
    unit = make_unit(db.session, min_survey_seconds=0)
    app.config["KIOSK_COOLDOWN_SECONDS"] = 0  # back-to-back surveys on one tablet
    tablet = pair_tablet(app, db, unit)
    for finish in (True, False, True):
        tablet.start()
        tablet.fill_all(unit, [3] * 9, service_id=unit.services[0].id)
        if finish:
            tablet.send()
    tablet.start()  # the last unfinished one is abandoned by this new start, which stays open
    today = unit_now(unit).date()
    assert F.kiosk_completion(db.session, unit.id, today, today) == (2, 4)
    import datetime as dt
    assert F.kiosk_completion(db.session, unit.id, today + dt.timedelta(days=1), today + dt.timedelta(days=9)) == (0, 0)


def test_pair_device_command_prints_a_one_time_code_and_link(app, db, runner):
    unit = make_unit(db.session)
    db.session.commit()
    app.config["SKM_BASE_URL"] = "https://skm.contoh.go.id"
    result = runner.invoke(args=["skm", "pair-device", "uji", "--service", "layanan b", "--name", "Lobi"])
    assert result.exit_code == 0, result.output
    code, link = result.stdout.splitlines()[:2]
    assert link == f"https://skm.contoh.go.id/kiosk/pair/{code}"
    db.session.expire_all()
    device = db.session.scalar(select(Device).where(Device.pairing_code == code))
    assert device.unit_id == unit.id and device.service.name == "Layanan B" and device.name == "Lobi"
    # The link pairs a tablet once.
    from tests.kiosk_helpers import CSRF_RE
    tablet = app.test_client()
    page = tablet.get(f"/kiosk/pair/{code}").get_data(as_text=True)
    assert tablet.post("/kiosk/pair", data={"code": code, "csrf_token": CSRF_RE.search(page).group(1)}).status_code == 303
    bad = runner.invoke(args=["skm", "pair-device", "UJI", "--service", "Tidak Ada"])
    assert bad.exit_code != 0 and "tidak ditemukan" in bad.output


def test_admin_page_shows_outbox_size_last_contact_and_silent_tablets(app, db, client):
    import datetime as dt

    from skm.core.clock import utcnow
    from skm.kiosk import devices as D

    unit = make_unit(db.session)
    make_user(db.session)
    tablet = pair_tablet(app, db, unit)
    tablet.client.get("/kiosk/", headers={"HX-Request": "true", "X-Kiosk-Outbox": "3"})
    db.session.expire_all()
    device = db.session.get(Device, tablet.device_id)
    assert device.outbox_size == 3
    login(client, "admin")
    html = client.get(f"/admin/units/{unit.id}/devices").get_data(as_text=True)
    assert "Menunggu dikirim" in html and '<td class="num">3</td>' in html
    assert "Tidak ada kontak" not in html
    # Silent through a whole day of opening hours: an alert; a contact during them: none.
    monday_evening = dt.datetime(2026, 11, 23, 12, 0)  # 19.00 WIB, Monday
    device.paired_at = dt.datetime(2026, 11, 16, 3, 0)
    device.last_seen_at = dt.datetime(2026, 11, 22, 3, 0)  # Sunday
    assert D.silent_day(device, unit, monday_evening) == dt.date(2026, 11, 23)
    device.last_seen_at = dt.datetime(2026, 11, 23, 2, 0)  # Monday 09.00 WIB
    assert D.silent_day(device, unit, monday_evening) is None
    assert D.silent_day(device, unit, dt.datetime(2026, 11, 24, 5, 0)) is None  # Tuesday 12.00: not over yet
    saturday = dt.datetime(2026, 11, 28, 5, 0)
    assert D.silent_day(device, unit, saturday) == dt.date(2026, 11, 27)  # Friday was silent
    device.paused = True
    assert D.silent_day(device, unit, saturday) is None
    device.paused = False
    device.last_seen_at = utcnow() - dt.timedelta(days=10)
    device.paired_at = utcnow() - dt.timedelta(days=20)
    db.session.commit()
    html = client.get(f"/admin/units/{unit.id}/devices").get_data(as_text=True)
    assert "Tidak ada kontak sepanjang jam layanan" in html
