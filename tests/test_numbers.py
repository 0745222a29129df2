"""Numbers people type (ids in URLs, query strings, form fields, imported cells) are ASCII
digits within the field's range, everywhere (skm.core.parsing.parse_int and the <int:…>
URL converter): '²' (isdigit() but int() fails), '١٢' (Arabic-Indic digits int() takes)
and 20-digit values (SQLite integer overflow) get a 404 or the field's message, never a 500.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from skm.core.parsing import MAX_ID, parse_id, parse_int
from skm.models import AlertRule, Device, Period, PeriodUnit, ReportJob, Response
from skm.web import IdConverter
from tests.admin_fixtures import add_followup, build_world
from tests.factories import login

TWENTY = "9" * 20
# '١' is Arabic-Indic one: Werkzeug's int converter and int() read it as record 1.
BAD = ["²", "١٢", "١", TWENTY]


def test_parse_int_takes_ascii_digits_only():
    assert parse_int("42") == 42 and parse_int(" 42 ") == 42 and parse_int("007") == 7
    for text in ("", " ", "²", "١٢", "+1", "-1", "1_0", "1.0", "1e3", "٣", "４２", None, 12):
        assert parse_int(text) is None, text
    assert parse_int(str(2**63 - 1)) == 2**63 - 1 and parse_int(str(2**63)) is None and parse_int(TWENTY) is None
    assert parse_int("5", min=1, max=4) is None and parse_int("4", min=1, max=4) == 4
    assert parse_id("0") is None and parse_id(str(MAX_ID)) == MAX_ID and parse_id(str(MAX_ID + 1)) is None


@pytest.fixture
def world(app, db, no_csrf):
    w = build_world(db.session)
    add_followup(db.session, w, app.config["UPLOAD_FOLDER"])
    job = ReportJob(unit_id=w.unit_a.id, period_id=w.period.id, kind="laporan", filename="x.pdf")
    db.session.add(job)
    db.session.commit()
    w.job = job.id
    w.response = db.session.scalar(select(Response.id).where(Response.unit_id == w.unit_a.id))
    return w


def _good_values(world) -> dict:
    return {"unit_id": world.unit_a.id, "service_id": world.service_a.id, "period_id": world.period.id,
            "user_id": world.operator.id, "device_id": world.device_a, "job_id": world.job,
            "kind": "hasil.xlsx", "size": "thumb", "paper": "a4", "batch": "x", "ticket_id": 1, "code": world.unit_a.code,
            "response_id": world.response, **world.followup_a}


def _id_rules(app):
    return [r for r in app.url_map.iter_rules() if any(isinstance(c, IdConverter) for c in r._converters.values())]


def test_every_id_in_a_route_uses_the_ascii_converter(app):
    rules = _id_rules(app)
    assert len(rules) >= 40
    assert all(type(c).__name__ != "IntegerConverter" for r in app.url_map.iter_rules() for c in r._converters.values())


@pytest.mark.parametrize("bad", BAD)
def test_bad_ids_in_urls_are_not_found(app, world, client, bad):
    login(client, "admin")
    values = _good_values(world)
    checked = 0
    for rule in _id_rules(app):
        for arg, converter in rule._converters.items():
            if not isinstance(converter, IdConverter):
                continue
            url = re.sub(r"<(?:[^>:]+:)?([^>]+)>", lambda m, arg=arg: bad if m.group(1) == arg else str(values[m.group(1)]),
                         rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(url, method=method)
                assert response.status_code == 404, (method, url, response.status_code)
                assert "Halaman tidak ditemukan" in response.get_data(as_text=True)
                checked += 1
    assert checked >= 50


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("url", [
    "/admin/units/{a}/results?period={bad}",
    "/admin/units/{a}/results?period={p}&service={bad}",
    "/admin/units/{a}/results/sheet?period={p}&page={bad}",
    "/admin/units/{a}/results/suggestions?period={p}&page={bad}",
    "/admin/units/{a}/alerts?days={bad}",
    "/admin/results?unit={bad}&period={p}",
    "/admin/units/{a}/devices?created={bad}",
    "/admin/units/{a}/laporan/unduh?kind=laporan&period_id={bad}",
    "/admin/units/{a}/laporan/unduh?kind=tindak-lanjut&plan_id={bad}",
])
def test_bad_numbers_in_query_strings_are_ignored_or_refused(world, client, url, bad):
    """Like any other malformed value there: ignored (the default applies) or refused
    with the page's message; a number no record can have is not a crash either."""
    login(client, "admin")
    response = client.get(url.format(a=world.unit_a.id, p=world.period.id, bad=bad), follow_redirects=True)
    assert response.status_code == 200
    if "laporan/unduh" in url:
        assert "terlebih dahulu" in response.get_data(as_text=True)  # "Pilih periode/rencana … terlebih dahulu."


def _state(db, world):
    db.session.expire_all()
    return (db.session.scalar(select(func.count(Period.id))), db.session.scalar(select(func.count(Device.id))),
            db.session.scalar(select(func.count(AlertRule.id))),
            db.session.scalar(select(PeriodUnit.population).where(PeriodUnit.unit_id == world.unit_a.id)),
            db.session.scalar(select(func.count(Response.id)).where(Response.excluded.is_(True))))


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize(("url", "data", "message"), [
    ("/admin/periods", {"mode": "year", "kind": "triwulan", "year": "{bad}"}, "Tahun harus bilangan bulat"),
    ("/admin/periods", {"mode": "year", "kind": "triwulan", "year": "2024", "population": "{bad}"},
     "Populasi harus bilangan bulat"),
    ("/admin/periods/{p}/units/{a}/population", {"population": "{bad}"}, "Populasi harus bilangan bulat"),
    ("/admin/units/{a}/alert-rule", {"window_minutes": "{bad}", "min_responses": "4", "share_percent": "50",
                                     "max_rating": "2", "enabled": "1"}, "Isian window_minutes harus"),
    ("/admin/units/{a}/devices", {"name": "Lobi", "service_id": "{bad}"}, "Pilih layanan dari daftar"),
    ("/admin/units/{a}/results/flagged?period={p}", {"response": "{bad}", "action": "exclude"},
     "Pilih paling sedikit satu jawaban"),
])
def test_bad_numbers_in_form_fields_get_a_message_and_change_nothing(db, world, client, url, data, message, bad):
    login(client, "admin")
    before = _state(db, world)
    fill = {"a": world.unit_a.id, "p": world.period.id, "bad": bad}
    response = client.post(url.format(**fill), data={k: v.format(**fill) for k, v in data.items()},
                           follow_redirects=True)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _state(db, world) == before


@pytest.mark.parametrize("bad", BAD)
def test_bad_unit_ids_in_account_forms_are_ignored(db, world, client, bad):
    login(client, "admin")
    response = client.post(f"/admin/accounts/{world.manager.id}",
                           data={"role": "manager", "active": "1", "units": [bad, str(world.unit_a.id)]},
                           follow_redirects=True)
    assert response.status_code == 200 and "disimpan" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [u.id for u in db.session.get(type(world.manager), world.manager.id).units] == [world.unit_a.id]


@pytest.mark.parametrize("bad", BAD + ["٣٠"])
def test_domain_parsers_refuse_non_ascii_numbers(db, bad):
    from skm.followup.actions import _check_schedule
    from skm.scoring.analytics import update_alert_rule
    from skm.survey.unit_settings import parse_age_bands
    from tests.factories import make_unit

    unit = make_unit(db.session)
    with pytest.raises(Exception, match="Tahun pelaksanaan harus berupa angka"):
        _check_schedule(bad, ["1"])
    with pytest.raises(Exception, match="Triwulan harus TW 1–4"):
        _check_schedule("2024", [bad])
    with pytest.raises(Exception, match="Batas kelompok usia harus"):
        parse_age_bands(f"17,{bad},41")
    assert update_alert_rule(db.session, unit, {"window_minutes": bad, "min_responses": "4", "share_percent": "50",
                                                "max_rating": "2"})


@pytest.mark.parametrize("text", ["٢٠٢٣-٠٨-٠١", "٠١/٠٨/٢٠٢٣", "١ Agustus ٢٠٢٣"])
def test_imported_dates_and_times_take_ascii_digits_only(text):
    from skm.intake.tables import _parse_time, parse_date

    with pytest.raises(ValueError, match="format tanggal tidak dikenal"):
        parse_date(text)
    with pytest.raises(ValueError, match="format jam tidak dikenal"):
        _parse_time("١٠:٣٠")
