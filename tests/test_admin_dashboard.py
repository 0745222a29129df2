"""The results dashboard shows exactly what the scoring module computes, and the
trend, comparison, heat map, alert, suggestion and flag-review screens work."""
from __future__ import annotations

import datetime as dt
import json
import random
import re
from fractions import Fraction

import pytest

from skm.core.clock import unit_now
from skm.core.formatting import integer_id, number_id, percent_id
from skm.models import Response
from skm.scoring import analytics
from skm.scoring.ikm import score, tallies_from_ratings
from skm.scoring.results import Scope, period_results
from skm.survey.periods import quarter
from tests.factories import login, make_period, make_response, make_unit, make_user

CODES = [f"U{i}" for i in range(1, 10)]


def _known_data(seed=14):
    """A fixed, reproducible data set: 73 respondents, some elements left unanswered."""
    rng = random.Random(seed)
    rows = []
    for i in range(73):
        ratings = {c: rng.choice([2, 3, 3, 3, 4, 4]) for c in CODES}
        if i % 10 == 0:
            ratings["U4"] = None  # unanswered is not a zero
        rows.append(ratings)
    return rows


@pytest.fixture
def setup(db, no_csrf):
    unit = make_unit(db.session)
    period = make_period(db.session, population=100)
    make_user(db.session, "manajer", "manager", [unit])
    make_user(db.session, "admin", "admin")
    rows = _known_data()
    genders = ["L", "P", "P"]
    for i, ratings in enumerate(rows):
        make_response(db.session, unit, ratings, day=dt.date(2023, 7, 3) + dt.timedelta(days=i % 60),
                      service=unit.services[i % 2], gender=genders[i % 3], age=20 + (i % 40),
                      education="SMA" if i % 4 else "S1", occupation="SWASTA",
                      suggestion=f"saran nomor {i}" if i % 7 == 0 else None,
                      survey_time=dt.time(8 + i % 8, (i * 7) % 60))
    db.session.commit()
    return unit, period, rows


def _cell_texts(html, table_id):
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]


def test_dashboard_figures_equal_the_scoring_module(db, client, setup):
    unit, period, rows = setup
    expected = score(tallies_from_ratings([(c, c) for c in CODES], rows), len(rows))
    login(client, "manajer")
    html = client.get(f"/admin/units/{unit.id}/results?period={period.id}").get_data(as_text=True)
    assert re.search(r'id="card-respondents">73<', html)
    assert f'id="card-ikm">{number_id(expected.ikm)}<' in html
    assert f"Mutu {expected.grade} – {expected.kinerja}" in html
    table = _cell_texts(html, "element-table")
    body = table[1:-2]
    assert [r[0] for r in body] == CODES
    for row, e in zip(body, expected.elements):
        assert row[2:] == [number_id(e.nrr), e.grade, e.kinerja]
    assert table[-1][1] == number_id(expected.ikm)
    assert table[-2][1] == number_id(expected.ikm_unit, 4)
    # population 100 needs 80 respondents (Krejcie–Morgan): 73 is 7 short
    assert 'id="card-sample">kurang 7 responden<' in html
    # the five newest suggestions, and how many there are
    assert "Semua 11 saran" in html and "saran nomor 56" in html
    # profile percentages: 73 respondents, genders L,P,P repeating -> 25 L, 48 P
    assert percent_id(25 * 100 / 73) in html and percent_id(48 * 100 / 73) in html


def test_data_sheet_is_paginated_and_matches_the_cli(app, db, client, runner, setup):
    unit, period, rows = setup
    login(client, "manajer")
    page1 = client.get(f"/admin/units/{unit.id}/results/sheet?period={period.id}").get_data(as_text=True)
    page2 = client.get(f"/admin/units/{unit.id}/results/sheet?period={period.id}&page=2").get_data(as_text=True)
    assert "Halaman 1 dari 2" in page1 and "Halaman 2 dari 2" in page2
    t1, t2 = _cell_texts(page1, "sheet"), _cell_texts(page2, "sheet")
    respondent_rows = [r for r in t1 + t2 if r and r[0].isdigit()]
    assert [int(r[0]) for r in respondent_rows] == list(range(1, 74))
    # column totals from the visible rows equal the totals row
    totals = next(r for r in t2 if r[0].startswith("Jumlah nilai"))[1:]
    for j, _code in enumerate(CODES):
        assert sum(int(r[2 + j]) for r in respondent_rows if r[2 + j]) == int(totals[j].replace(".", ""))
    result = runner.invoke(args=["skm", "results", "--unit", unit.code, "--period", period.name, "--json"])
    cli = json.loads(result.output)
    nrr_row = next(r for r in t2 if r[0].startswith("NRR per unsur"))[1:]
    assert nrr_row == [number_id(Fraction(e["nrr_exact"]), 3) for e in cli["elements"]]
    assert [int(t.replace(".", "")) for t in totals] == [e["total"] for e in cli["elements"]]
    assert re.search(rf'id="sheet-ikm">{re.escape(cli["ikm_display"])}<', page2)
    assert re.search(rf'id="sheet-sum">{re.escape(number_id(Fraction(cli["ikm_unit_exact"]), 4))}<', page2)
    # bad page numbers fall back to a valid page
    assert client.get(f"/admin/units/{unit.id}/results/sheet?period={period.id}&page=999").status_code == 200
    assert client.get(f"/admin/units/{unit.id}/results/sheet?period={period.id}&page=-1").status_code == 200


def test_service_filter_and_comparison(db, client, setup):
    unit, period, rows = setup
    login(client, "admin")
    service = unit.services[0]
    expected = score(tallies_from_ratings([(c, c) for c in CODES], rows[0::2]), len(rows[0::2]))
    html = client.get(f"/admin/units/{unit.id}/results?period={period.id}&service={service.id}").get_data(as_text=True)
    assert f'id="card-ikm">{number_id(expected.ikm)}<' in html
    compare = client.get(f"/admin/units/{unit.id}/results/compare?period={period.id}").get_data(as_text=True)
    table = _cell_texts(compare, "compare-services")
    assert table[1][:3] == [service.name, integer_id(37), number_id(expected.ikm)]
    assert "compare-units" in compare  # admins compare units too
    other_unit = make_unit(db.session, "LAIN", "Unit Lain")
    db.session.commit()
    # another unit's service is ignored: the whole unit is shown, nothing of the other unit leaks
    whole = score(tallies_from_ratings([(c, c) for c in CODES], rows), len(rows))
    mixed = client.get(f"/admin/units/{unit.id}/results?period={period.id}&service={other_unit.services[0].id}")
    assert mixed.status_code == 200 and f'id="card-ikm">{number_id(whole.ikm)}<' in mixed.get_data(as_text=True)
    assert client.get(f"/admin/units/{unit.id}/results?period={period.id}&service=987654").status_code == 404


def test_manager_comparison_has_no_unit_table(db, client, setup):
    unit, period, _ = setup
    login(client, "manajer")
    assert "compare-units" not in client.get(f"/admin/units/{unit.id}/results/compare?period={period.id}").get_data(as_text=True)


def test_trend_across_quarters_with_change(db, client, no_csrf):
    unit = make_unit(db.session)
    make_user(db.session)
    ikms = {}
    for q, rating in [(1, 3), (2, 4), (3, 2)]:
        period = make_period(db.session, quarter(2023, q))
        make_response(db.session, unit, [rating] * 9, day=period.start_date)
        ikms[q] = rating * 25
    make_period(db.session, quarter(2023, 4))
    make_period(db.session, quarter(2023, 1).__class__("Semester I 2023", "semester", dt.date(2023, 1, 1), dt.date(2023, 6, 30)))
    db.session.commit()
    q3 = db.session.query(type(period)).filter_by(name="Triwulan III 2023").one()
    points = analytics.trend(db.session, unit, q3)
    assert [p.period.name for p in points] == ["Triwulan I 2023", "Triwulan II 2023", "Triwulan III 2023"]
    assert [p.ikm for p in points] == [75, 100, 50]
    assert [p.change for p in points] == [None, 25, -50]
    assert points[2].element_change["U1"] == -2
    login(client)
    html = client.get(f"/admin/units/{unit.id}/results/trend?period={q3.id}").get_data(as_text=True)
    assert "<svg" in html and "<polyline" in html
    table = _cell_texts(html, "trend-table")
    assert [r[2] for r in table[1:]] == ["75,00", "100,00", "50,00"]
    assert [r[4] for r in table[1:]] == ["–", "+25,00", "-50,00"]


def test_heatmap_counts_by_weekday_and_hour(db, setup):
    unit, period, rows = setup
    heat = analytics.heatmap(db.session, Scope(unit.id, period.start_date, period.end_date))
    total = sum(c.count for c in heat.grid.values())
    assert total == 73 and heat.without_time == 0
    monday_8 = heat.cell(0, 8)  # 2023-07-03 is a Monday; i=0 -> 08.00
    assert monday_8.count >= 1
    # the cell's mean is over every rating given in it
    day0 = rows[0]
    assert analytics.HeatCell(1, sum(v for v in day0.values() if v), sum(1 for v in day0.values() if v)).mean is not None


def _at(day, hh, mm):
    return {"day": day, "survey_time": dt.time(hh, mm)}


def test_alert_rule_fires_on_a_bad_quarter_hour(db, no_csrf):
    unit = make_unit(db.session)
    day = dt.date(2025, 3, 10)
    good = [4] * 9
    bad = [4] * 7 + [1, 4]  # U8 rated 1
    for (hh, mm), ratings in [((9, 0), bad), ((9, 5), good), ((9, 10), bad), ((9, 12), good),  # 2 of 4 in 12 minutes
                              ((11, 0), bad), ((11, 30), good), ((11, 40), good), ((11, 50), good)]:  # spread out
        make_response(db.session, unit, ratings, day=day, survey_time=dt.time(hh, mm), channel="kiosk")
    db.session.commit()
    rule = analytics.alert_rule(db.session, unit)
    alerts = analytics.find_alerts(db.session, unit, rule, day, day)
    assert len(alerts) == 1
    a = alerts[0]
    assert (a.code, a.low, a.total) == ("U8", 2, 4)
    assert a.start.time() == dt.time(9, 0) and a.end.time() == dt.time(9, 12)
    # with a stricter rule (at least 5 responses) nothing fires
    rule.min_responses = 5
    assert analytics.find_alerts(db.session, unit, rule, day, day) == []
    rule.min_responses, rule.enabled = 4, False
    assert analytics.find_alerts(db.session, unit, rule, day, day) == []
    # "today" is the unit's local date: 2025-03-10 09:30 WIB is 02:30 UTC
    rule.enabled = True
    # Pages read the alerts stored by the queue worker (refresh_alerts), computed in unit time.
    assert analytics.recent_alerts(db.session, unit, days=1, now_utc=dt.datetime(2025, 3, 10, 2, 30)) == []
    assert analytics.refresh_alerts(db.session, unit, now_utc=dt.datetime(2025, 3, 10, 2, 30))
    recent = analytics.recent_alerts(db.session, unit, days=1, now_utc=dt.datetime(2025, 3, 10, 2, 30))
    assert [x.code for x in recent] == ["U8"]
    assert analytics.recent_alerts(db.session, unit, days=1, now_utc=dt.datetime(2025, 3, 11, 2, 30)) == []


def test_dashboard_and_alert_list_show_todays_warning(db, client, no_csrf):
    unit = make_unit(db.session)
    make_user(db.session)
    now = unit_now(unit)
    # stay on the unit's current date even just after midnight
    start = max(now.replace(second=0, microsecond=0) - dt.timedelta(minutes=10),
                dt.datetime.combine(now.date(), dt.time(0, 0)))
    for i in range(4):
        moment = start + dt.timedelta(minutes=2 * i)
        make_response(db.session, unit, [2] * 9, day=moment.date(), survey_time=moment.time())
    span = quarter(now.year, (now.month - 1) // 3 + 1)
    period = make_period(db.session, span)
    db.session.commit()
    login(client)
    # Not computed by the page: nothing shows until the queue worker has stored the alerts.
    html = client.get(f"/admin/units/{unit.id}/results?period={period.id}").get_data(as_text=True)
    assert "Peringatan hari ini" not in html
    db.session.rollback()
    assert analytics.refresh_all_alerts(db.session) == 1
    db.session.commit()
    assert analytics.refresh_all_alerts(db.session) == 0  # nothing changed: not computed again
    html = client.get(f"/admin/units/{unit.id}/results?period={period.id}").get_data(as_text=True)
    assert "Peringatan hari ini" in html
    listing = client.get(f"/admin/units/{unit.id}/alerts").get_data(as_text=True)
    assert len(_cell_texts(listing, "alerts")) == 1 + 9  # all nine elements rated 2 by everyone
    # A new response changes the data: the next periodic run recomputes; a stricter rule saved
    # on the unit's page takes effect at once (computed in that request).
    make_response(db.session, unit, [4] * 9, day=now.date(), survey_time=now.time().replace(microsecond=0))
    db.session.commit()
    assert analytics.refresh_all_alerts(db.session) == 1
    db.session.commit()
    assert analytics.update_alert_rule(db.session, unit, {"window_minutes": "15", "min_responses": "50",
                                                          "share_percent": "50", "max_rating": "2",
                                                          "enabled": "1"}) == []
    db.session.commit()
    listing = client.get(f"/admin/units/{unit.id}/alerts").get_data(as_text=True)
    assert _cell_texts(listing, "alerts")[1:] == [["Tidak ada peringatan."]]


def test_suggestions_newest_first_and_searchable(db, client, setup):
    unit, period, rows = setup
    login(client, "manajer")
    html = client.get(f"/admin/units/{unit.id}/results/suggestions?period={period.id}").get_data(as_text=True)
    texts = [r[3] for r in _cell_texts(html, "suggestions")[1:]]
    assert len(texts) == len([i for i in range(73) if i % 7 == 0])
    numbers = [int(t.split()[-1]) for t in texts]
    days = [i % 60 for i in numbers]
    assert days == sorted(days, reverse=True)
    found = client.get(f"/admin/units/{unit.id}/results/suggestions?period={period.id}&q=NOMOR 14").get_data(as_text=True)
    assert [r[3] for r in _cell_texts(found, "suggestions")[1:]] == ["saran nomor 14"]
    weird = client.get(f"/admin/units/{unit.id}/results/suggestions?period={period.id}&q=%25_%5C")
    assert weird.status_code == 200 and "Tidak ada saran" in weird.get_data(as_text=True)


def test_flagged_review_excludes_and_includes(db, client, setup):
    unit, period, rows = setup
    flagged = db.session.query(Response).filter_by(unit_id=unit.id).order_by(Response.id).limit(3).all()
    for r in flagged:
        r.flagged, r.flag_reason = True, "terlalu cepat"
    db.session.commit()
    login(client, "manajer")
    html = client.get(f"/admin/units/{unit.id}/results?period={period.id}").get_data(as_text=True)
    assert "0 dikecualikan" in html
    ids = [str(r.id) for r in flagged[:2]]
    r = client.post(f"/admin/units/{unit.id}/results/flagged?period={period.id}", data={"response": ids, "action": "exclude"})
    assert r.status_code == 302
    res = period_results(db.session, unit, period)
    assert res.respondents == 71 and res.excluded_count == 2
    expected = score(tallies_from_ratings([(c, c) for c in CODES], rows[2:]), 71)
    assert res.scores.ikm == expected.ikm
    assert "2 dikecualikan" in client.get(f"/admin/units/{unit.id}/results?period={period.id}").get_data(as_text=True)
    client.post(f"/admin/units/{unit.id}/results/flagged?period={period.id}", data={"response": ids, "action": "include"})
    assert period_results(db.session, unit, period).respondents == 73


def test_kiosk_completion_card(db, client, no_csrf):
    """Finished ÷ started kiosk surveys; surveys abandoned at the idle reset count as started."""
    from skm.models import Device, KioskSurvey

    make_user(db.session)
    unit = make_unit(db.session)
    period = make_period(db.session)
    device = Device(unit_id=unit.id, name="Tablet")
    db.session.add(device)
    db.session.flush()
    for i, status in enumerate(["finished", "finished", "finished", "abandoned"]):
        db.session.add(KioskSurvey(token=f"t{i}", unit_id=unit.id, device_id=device.id, status=status,
                                   survey_date=dt.date(2023, 8, 1)))
    db.session.add(KioskSurvey(token="later", unit_id=unit.id, device_id=device.id, status="abandoned",
                               survey_date=dt.date(2024, 1, 5)))
    make_response(db.session, unit, [4] * 9, day=dt.date(2023, 8, 1), channel="kiosk")
    db.session.commit()
    login(client)
    page = client.get(f"/admin/units/{unit.id}/results?period={period.id}").get_data(as_text=True)
    assert "75%" in page and "3 dari 4 survei kiosk selesai" in page


def test_dashboard_with_nothing_yet(db, client, no_csrf):
    make_user(db.session)
    db.session.commit()
    login(client)
    assert "Belum ada unit" in client.get("/admin/results").get_data(as_text=True)
    unit = make_unit(db.session)
    db.session.commit()
    assert "Belum ada periode" in client.get("/admin/results", follow_redirects=True).get_data(as_text=True)
    period = make_period(db.session)
    db.session.commit()
    for path in ("results", "results/sheet", "results/trend", "results/heatmap", "results/compare",
                 "results/suggestions", "results/flagged", "alerts"):
        response = client.get(f"/admin/units/{unit.id}/{path}?period={period.id}")
        assert response.status_code == 200, path
    assert client.get(f"/admin/units/{unit.id}/results?period=99999").status_code == 404
    assert client.get("/admin/results?unit=abc&period=x", follow_redirects=True).status_code == 200
