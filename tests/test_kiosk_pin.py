"""One kiosk PIN setter (skm.kiosk.devices.set_kiosk_pin) with one set of checks, used by
`skm set-kiosk-pin` and the admin PIN page alike."""
from __future__ import annotations

import pytest
from flask import url_for
from werkzeug.security import check_password_hash

from skm.models import Unit
from tests.factories import login, make_unit, make_user

# Not 4–8 ASCII digits: too short, too long, letters, Arabic-Indic and full-width digits
# (str.isdigit() accepts those two, the tablet's pad cannot type them), a space inside.
BAD_PINS = ["123", "123456789", "12a4", "١٢٣٤", "１２３４", "12 34", ""]


@pytest.fixture
def unit(db):
    unit = make_unit(db.session)
    db.session.commit()
    return unit


def _hash(db, unit):
    db.session.expire_all()
    return db.session.get(Unit, unit.id).kiosk_pin_hash


def test_views_and_cli_share_the_one_setter():
    from admin import units as admin_units
    from skm.cli import setup as cli_setup
    from skm.kiosk import devices
    from skm.survey import unit_settings

    assert admin_units.set_kiosk_pin is devices.set_kiosk_pin
    assert not hasattr(unit_settings, "set_kiosk_pin")
    assert "skm.kiosk.devices import set_kiosk_pin" in open(cli_setup.__file__, encoding="utf-8").read()


@pytest.mark.parametrize("pin", BAD_PINS)
def test_cli_refuses_what_the_web_form_refuses(db, runner, unit, pin):
    result = runner.invoke(args=["skm", "set-kiosk-pin", "UJI", "--pin-stdin"], input=pin + "\n")
    assert result.exit_code != 0 and "PIN kiosk harus 4–8 angka." in result.output
    assert _hash(db, unit) is None


def test_cli_prompt_asks_twice_and_refuses_a_different_confirmation(db, runner, unit):
    result = runner.invoke(args=["skm", "set-kiosk-pin", "UJI"], input="2468\n1357\n")
    assert result.exit_code != 0 and "Konfirmasi PIN tidak sama." in result.output
    assert _hash(db, unit) is None
    result = runner.invoke(args=["skm", "set-kiosk-pin", "UJI"], input="2468\n2468\n")
    assert result.exit_code == 0, result.output
    assert check_password_hash(_hash(db, unit), "2468")


@pytest.mark.parametrize("pin", BAD_PINS)
def test_admin_pin_page_refuses_bad_pins(app, db, client, no_csrf, unit, pin):
    make_user(db.session, "admin", "admin")
    db.session.commit()
    login(client)
    with app.test_request_context():
        url = url_for("admin.unit_pin", unit_id=unit.id)
    response = client.post(url, data={"pin": pin, "confirm": pin})
    assert response.status_code == 200 and "PIN kiosk harus 4–8 angka." in response.get_data(as_text=True)
    missing = client.post(url, data={"pin": "2468"})  # the form asks twice: no second entry, no change
    assert "Konfirmasi PIN tidak sama." in missing.get_data(as_text=True)
    assert _hash(db, unit) is None
    assert client.post(url, data={"pin": " 24680 ", "confirm": "24680"}).status_code == 302
    assert check_password_hash(_hash(db, unit), "24680")
