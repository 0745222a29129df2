"""Issue 17, admin pages: times in the unit's zone, channels in words, the tablet page,
the CSV's Content-Type, the favicon."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from skm.intake.importer import ImportRejected, commit_import, preview_import
from skm.models import ImportBatch, PeriodUnitLog
from skm.survey.period_admin import close_period
from tests.factories import login, make_period, make_response, make_unit, make_user


def url(app, endpoint: str, **values) -> str:
    """Admin URLs by endpoint name (the unit pages' paths are being regrouped)."""
    from flask import url_for

    with app.test_request_context():
        return url_for(endpoint, **values)


STORED = dt.datetime(2023, 8, 4, 1, 15)  # UTC; 09.15 in WITA (UTC+8)


def test_period_log_and_closing_show_the_units_time(db, client):
    unit = make_unit(db.session, timezone="WITA")
    period = make_period(db.session)
    admin = make_user(db.session)
    close_period(db.session, period, unit, admin, "selesai")
    for entry in db.session.scalars(select(PeriodUnitLog)):
        entry.at = STORED
    db.session.flush()
    from skm.models import PeriodUnit

    db.session.scalar(select(PeriodUnit)).closed_at = STORED
    db.session.commit()
    login(client)
    page = client.get(f"/admin/periods/{period.id}").get_data(as_text=True)
    assert "4 Agustus 2023 09.15 WITA" in page and "01.15" not in page and "UTC" not in page


def test_duplicate_import_message_shows_the_units_time(db):
    unit = make_unit(db.session, timezone="WIT")
    content = (b"tanggal,layanan,U1,U2,U3,U4,U5,U6,U7,U8,U9\n"
               b"2023-08-01,Layanan A,4,3,3,4,3,4,4,2,3\n")
    commit_import(db.session, unit, preview_import(db.session, unit, "a.csv", content))
    db.session.scalar(select(ImportBatch)).created_at = STORED
    db.session.commit()
    with pytest.raises(ImportRejected) as exc:
        commit_import(db.session, unit, preview_import(db.session, unit, "b.csv", content))
    assert "4 Agustus 2023 10.15 WIT" in str(exc.value) and "UTC" not in str(exc.value)


def test_channels_are_shown_in_words(db, client):
    unit = make_unit(db.session)
    period = make_period(db.session)
    make_response(db.session, unit, [4] * 9, channel="import", suggestion="Ruang tunggu panas")
    flagged = make_response(db.session, unit, [1] * 9, channel="kiosk")
    flagged.flagged, flagged.flag_reason = True, "terlalu cepat"
    make_user(db.session)
    db.session.commit()
    login(client)
    suggestions = client.get(f"/admin/units/{unit.id}/results/suggestions?period={period.id}").get_data(as_text=True)
    assert "Impor berkas" in suggestions and "<td>import</td>" not in suggestions
    review = client.get(f"/admin/units/{unit.id}/results/flagged?period={period.id}").get_data(as_text=True)
    assert "Kios layar sentuh" in review and "<td>kiosk</td>" not in review


def test_tablet_page_points_to_the_pin_page(app, db, client):
    unit = make_unit(db.session)
    make_user(db.session)
    db.session.commit()
    login(client)
    page = client.get(url(app, "admin.devices", unit_id=unit.id)).get_data(as_text=True)
    assert "set-kiosk-pin" not in page and "PIN petugas kiosk belum diatur" in page
    assert f'href="{url(app, "admin.unit_pin", unit_id=unit.id)}"' in page


def test_csv_download_has_one_charset(db, client):
    unit = make_unit(db.session)
    period = make_period(db.session)
    make_response(db.session, unit, [4] * 9)
    make_user(db.session)
    db.session.commit()
    login(client)
    r = client.get(f"/admin/units/{unit.id}/data/ekspor/{period.id}/responden.csv")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_favicon_is_linked_and_served(db, client):
    make_user(db.session)
    db.session.commit()
    page = client.get("/admin/login").get_data(as_text=True)
    href = re.search(r'rel="icon" href="(/static/favicon\.[0-9a-f]{12}\.svg)"', page).group(1)
    for url in (href, "/static/favicon.svg"):  # the versioned name and the plain one
        icon = client.get(url)
        assert icon.status_code == 200 and icon.data.startswith(b"<svg")


def test_manager_sets_signature_block_and_population_of_own_unit(app, db, client, no_csrf):
    from skm.survey.period_admin import period_unit

    unit = make_unit(db.session)
    period = make_period(db.session, population=500)
    make_user(db.session, "mgr", "manager", [unit])
    db.session.commit()
    login(client, "mgr")
    page = url(app, "admin.unit_signature", unit_id=unit.id)
    values = {"city": "Bengkayang", "head_name": "Dr. Sri Wahyuni", "head_position": "Kepala Dinas",
              "head_rank": "Pembina (IV/a)", "head_nip": "19700101 199003 2 001"}
    bad = client.post(page, data={**values, "head_nip": "NIP-123"})
    assert bad.status_code == 200 and "NIP hanya boleh berisi angka" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert unit.head_name == ""  # nothing changed
    assert client.post(page, data=values).status_code == 302
    db.session.expire_all()
    assert (unit.city, unit.head_name, unit.head_nip) == ("Bengkayang", "Dr. Sri Wahyuni", "19700101 199003 2 001")
    r = client.post(url(app, "admin.period_population", period_id=period.id, unit_id=unit.id),
                    data={"population": "1200"})
    assert r.status_code == 302
    db.session.expire_all()
    assert period_unit(db.session, period, unit).population == 1200
    detail = client.get(url(app, "admin.period_detail", period_id=period.id)).get_data(as_text=True)
    assert 'name="population"' in detail


def test_home_page_is_the_managers_start(app, db, client):
    """Per unit: IKM of the reporting period and of the collecting period so far, the sample
    progress, the trend, RTL done/overdue and today's alerts, each a link to its page."""
    from skm.core.clock import unit_today
    from skm.core.formatting import number_id
    from skm.followup import actions
    from skm.followup import plans as F
    from skm.scoring.results import period_results
    from skm.scoring.sample_size import krejcie_morgan
    from skm.survey.periods import quarter

    unit = make_unit(db.session, "DPM", "Dinas Penanaman Modal")
    alarm = make_unit(db.session, "KEL", "Kelurahan Sukamaju")
    today = unit_today(unit)
    q = (today.month - 1) // 3 + 1
    spans = [quarter(today.year - (q - k <= 0), (q - k - 1) % 4 + 1) for k in (3, 2, 1, 0)]
    periods = [make_period(db.session, s) for s in spans[:3]] + [make_period(db.session, spans[3], population=200)]
    for n, period in enumerate(periods[:3]):
        for i in range(5):
            make_response(db.session, unit, [2 + (i + n) % 3] * 9, day=period.start_date + dt.timedelta(days=i))
    for _ in range(4):  # four low ratings within minutes, today: an alert for KEL
        make_response(db.session, alarm, [1] * 9, day=unit_today(alarm), survey_time=dt.time(9, 5))
    mgr = make_user(db.session, "mgr", "manager", [unit, alarm])
    reporting = periods[2]
    plan = F.create_plan(db.session, unit, reporting, mgr)
    for p in plan.priorities:
        actions.add_action(db.session, p, mgr, "Perbaiki", spans[0].start.year, [spans[0].start.month // 3 + 1],
                           "Seksi Pelayanan", confirmed=True)  # scheduled long ago: overdue
    F.finalize_plan(db.session, plan, mgr)
    db.session.commit()
    from skm.scoring.analytics import refresh_all_alerts

    assert refresh_all_alerts(db.session) == 2  # the queue worker's periodic task: both units
    db.session.commit()
    ikms = [period_results(db.session, unit, p).scores.ikm for p in periods[:3]]
    login(client, "mgr")
    page = client.get("/admin/").get_data(as_text=True)
    row = page[page.index(f'id="unit-{unit.id}"'):page.index(f'id="unit-{alarm.id}"')]  # units by name
    results = url(app, "admin.results", unit_id=unit.id, period=reporting.id).replace("&", "&amp;")
    assert f'href="{results}"' in row and number_id(ikms[2]) in row and reporting.name in row
    collecting = url(app, "admin.results", unit_id=unit.id, period=periods[3].id).replace("&", "&amp;")
    assert f'href="{collecting}"' in row and f"{periods[3].name} sejauh ini, 0 responden" in row
    assert f"0 dari {krejcie_morgan(200)}" in row
    import re

    trend_text = re.sub(r"<span title=\"[^\"]*\">|</span>", "", row)
    assert " → ".join(number_id(x) for x in ikms) in trend_text
    n = len(plan.actions)
    assert f"0 dari {n} terlaksana" in row and f"{n} terlambat" in row
    assert url(app, "admin.followup_unit", unit_id=unit.id) in row
    assert "Tidak ada" in row  # no alert for DPM
    other = page[page.index(f'id="unit-{alarm.id}"'):]
    from skm.scoring.analytics import recent_alerts

    fired = len(recent_alerts(db.session, alarm, days=1))
    assert fired == 9  # one per element rated 1
    assert f"{fired} kejadian nilai rendah hari ini" in other
    assert url(app, "admin.alerts", unit_id=alarm.id) in other


def test_import_preview_shows_dates_and_periods_and_links_the_results_after(app, db, client, no_csrf):
    import io
    import re

    from skm.survey.periods import full_year, quarter

    unit = make_unit(db.session)
    q3 = make_period(db.session, quarter(2023, 3))
    q4 = make_period(db.session, quarter(2023, 4))
    make_period(db.session, full_year(2023))  # the year contains both quarters: the quarter is named
    make_user(db.session, "mgr", "manager", [unit])
    db.session.commit()
    head = "tanggal,layanan,U1,U2,U3,U4,U5,U6,U7,U8,U9\n"
    rows = ["2023-09-28,Layanan A,4,3,3,4,3,4,4,2,3", "2023-09-30,Layanan A,3,3,3,4,3,4,4,2,3",
            "2023-10-02,Layanan B,4,4,3,4,3,4,4,2,3", "2024-02-01,Layanan B,4,4,4,4,3,4,4,2,3"]
    login(client, "mgr")
    r = client.post(url(app, "admin.data_import_preview", unit_id=unit.id), content_type="multipart/form-data",
                    data={"berkas": (io.BytesIO((head + "\n".join(rows) + "\n").encode()), "a.csv"),
                          "kanal": "import"})
    page = r.get_data(as_text=True)
    span = page[page.index('id="import-span"'):]
    span = " ".join(span[:span.index("</p>")].split())
    assert "28 September 2023 s.d. 1 Februari 2024" in span
    assert "Triwulan III 2023</strong> (2 baris)" in span and "Triwulan IV 2023</strong> (1 baris)" in span
    assert "di luar periode mana pun</strong> (1 baris)" in span
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    r = client.post(url(app, "admin.data_import_commit", unit_id=unit.id), data={"token": token})
    assert r.status_code == 302
    after = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "berhasil diimpor" in after
    q3_results = url(app, "admin.results", unit_id=unit.id, period=q3.id).replace("&", "&amp;")
    assert f'href="{q3_results}">Lihat hasil Triwulan III 2023' in after
    assert url(app, "admin.results", unit_id=unit.id, period=q4.id).replace("&", "&amp;") in after

