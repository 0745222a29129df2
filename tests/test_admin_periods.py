"""Periods: one-click generation for every kind (leap years too), custom ranges,
population per unit, closing and reopening with an audit record."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from skm.core.errors import DomainError
from skm.intake.importer import closed_period_containing
from skm.models import Period, PeriodUnit, PeriodUnitLog
from skm.scoring.results import period_population
from skm.survey.period_admin import spans_for_year
from tests.factories import login, make_period, make_unit, make_user

D = dt.date


@pytest.mark.parametrize("year, kind, expected", [
    (2024, "triwulan", [("Triwulan I 2024", D(2024, 1, 1), D(2024, 3, 31)), ("Triwulan II 2024", D(2024, 4, 1), D(2024, 6, 30)),
                        ("Triwulan III 2024", D(2024, 7, 1), D(2024, 9, 30)), ("Triwulan IV 2024", D(2024, 10, 1), D(2024, 12, 31))]),
    (2024, "semester", [("Semester I 2024", D(2024, 1, 1), D(2024, 6, 30)), ("Semester II 2024", D(2024, 7, 1), D(2024, 12, 31))]),
    (2024, "tahun", [("Tahun 2024", D(2024, 1, 1), D(2024, 12, 31))]),
    (2023, "triwulan", [("Triwulan I 2023", D(2023, 1, 1), D(2023, 3, 31)), ("Triwulan II 2023", D(2023, 4, 1), D(2023, 6, 30)),
                        ("Triwulan III 2023", D(2023, 7, 1), D(2023, 9, 30)), ("Triwulan IV 2023", D(2023, 10, 1), D(2023, 12, 31))]),
])
def test_period_generation(year, kind, expected):
    spans = spans_for_year(kind, year)
    assert [(s.name, s.start, s.end) for s in spans] == expected
    # consecutive, no gaps, covering the whole year
    assert spans[0].start == D(year, 1, 1) and spans[-1].end == D(year, 12, 31)
    for a, b in zip(spans, spans[1:]):
        assert b.start - a.end == dt.timedelta(days=1)


def test_leap_year_day_counts():
    q1_2024, q1_2023 = spans_for_year("triwulan", 2024, 1)[0], spans_for_year("triwulan", 2023, 1)[0]
    assert (q1_2024.end - q1_2024.start).days + 1 == 91 and (q1_2023.end - q1_2023.start).days + 1 == 90
    s1 = spans_for_year("semester", 2024, 1)[0]
    assert (s1.end - s1.start).days + 1 == 182
    year = spans_for_year("tahun", 2100)[0]  # not a leap year (century rule)
    assert (year.end - year.start).days + 1 == 365
    assert (spans_for_year("tahun", 2000)[0].end - D(2000, 1, 1)).days + 1 == 366


@pytest.mark.parametrize("kind, year, number", [("triwulan", 2024, 5), ("semester", 2024, 3), ("bulan", 2024, None),
                                                ("tahun", 1999, None)])
def test_bad_period_requests(kind, year, number):
    with pytest.raises(DomainError):
        spans_for_year(kind, year, number)


def test_one_click_creation_in_the_browser_form(db, client, no_csrf):
    make_user(db.session)
    db.session.commit()
    login(client)
    r = client.post("/admin/periods", data={"mode": "year", "kind": "triwulan", "year": "2024", "number": "",
                                            "population": "500"})
    assert r.status_code == 302
    names = [p.name for p in db.session.scalars(select(Period).order_by(Period.start_date))]
    assert names == ["Triwulan I 2024", "Triwulan II 2024", "Triwulan III 2024", "Triwulan IV 2024"]
    again = client.post("/admin/periods", data={"mode": "year", "kind": "triwulan", "year": "2024", "number": "3"})
    assert "sudah ada" in again.get_data(as_text=True)
    assert client.post("/admin/periods", data={"mode": "year", "kind": "semester", "year": "2024", "number": "2"}).status_code == 302
    custom = client.post("/admin/periods", data={"mode": "custom", "start": "2023-10-01", "end": "2023-11-17"})
    assert custom.status_code == 302
    assert db.session.scalar(select(Period).where(Period.kind == "custom")).name == "1 Oktober s.d. 17 November 2023"
    for data, message in [({"mode": "custom", "start": "2023-11-17", "end": "2023-10-01"}, "sebelum"),
                          ({"mode": "custom", "start": "kemarin", "end": "2023-10-01"}, "tidak valid"),
                          ({"mode": "year", "kind": "triwulan", "year": ""}, "Tahun wajib"),
                          ({"mode": "year", "kind": "triwulan", "year": "2024", "population": "-3"}, "bilangan bulat")]:
        bad = client.post("/admin/periods", data=data)
        assert bad.status_code == 200 and message in bad.get_data(as_text=True), data
    assert db.session.scalar(select(Period).where(Period.name == "Semester II 2024")) is not None


def test_population_per_unit_overrides_the_period_default(db, client, no_csrf):
    unit = make_unit(db.session)
    period = make_period(db.session, population=300)
    make_user(db.session)
    db.session.commit()
    login(client)
    assert period_population(db.session, period, unit.id) == 300
    client.post(f"/admin/periods/{period.id}/units/{unit.id}/population", data={"population": "1.000"})
    assert period_population(db.session, period, unit.id) == 1000
    r = client.post(f"/admin/periods/{period.id}/units/{unit.id}/population", data={"population": "banyak"},
                    follow_redirects=True)
    assert "bilangan bulat" in r.get_data(as_text=True)
    assert period_population(db.session, period, unit.id) == 1000


def test_closing_and_reopening_are_recorded(db, client, no_csrf):
    unit = make_unit(db.session)
    period = make_period(db.session)
    manager = make_user(db.session, "manajer", "manager", [unit])
    admin = make_user(db.session)
    db.session.commit()
    login(client, "manajer")
    assert closed_period_containing(db.session, unit.id, D(2023, 8, 1)) is None
    assert client.post(f"/admin/periods/{period.id}/units/{unit.id}/close", data={}).status_code == 302
    row = db.session.scalar(select(PeriodUnit).where(PeriodUnit.unit_id == unit.id))
    assert row.closed_at is not None and row.closed_by_id == manager.id
    assert closed_period_containing(db.session, unit.id, D(2023, 9, 30)).id == period.id
    assert closed_period_containing(db.session, unit.id, D(2023, 10, 1)) is None
    # only an admin reopens
    assert client.post(f"/admin/periods/{period.id}/units/{unit.id}/reopen", data={}).status_code == 403
    client.post("/admin/logout")
    login(client, "admin")
    assert client.post(f"/admin/periods/{period.id}/units/{unit.id}/reopen", data={"note": "koreksi data"}).status_code == 302
    db.session.expire_all()
    assert closed_period_containing(db.session, unit.id, D(2023, 8, 1)) is None
    log = db.session.scalars(select(PeriodUnitLog).order_by(PeriodUnitLog.id)).all()
    assert [(e.action, e.user_id) for e in log] == [("close", manager.id), ("reopen", admin.id)]
    assert log[1].note == "koreksi data" and log[1].at >= log[0].at
    page = client.get(f"/admin/periods/{period.id}").get_data(as_text=True)
    assert "dibuka kembali" in page and "koreksi data" in page and "manajer" in page
    # reopening an open period is refused with a message
    r = client.post(f"/admin/periods/{period.id}/units/{unit.id}/reopen", data={}, follow_redirects=True)
    assert "belum ditutup" in r.get_data(as_text=True)
