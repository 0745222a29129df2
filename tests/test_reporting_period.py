"""One reporting period for every page, channel and command; no report of an empty period;
a unit's local date from skm.core.clock everywhere (issue 11)."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from flask import g, url_for
from sqlalchemy import func, select

from skm.core.clock import unit_day_start_utc, unit_now, unit_today
from skm.core.errors import DomainError
from skm.models import ReportJob
from skm.reports import jobs as J
from skm.survey.periods import PeriodSpan, quarter, semester
from skm.survey.reporting import collecting_period, default_period, reporting_period, require_respondents
from skm.survey.responses import set_excluded
from tests.factories import make_period, make_response, make_unit
from tests.kiosk_helpers import pair_tablet
from tests.test_reports import flat, pdf_text
from tests.test_reports_web import _csrf, _setup, as_user

RESULT_KINDS = ("laporan", "pengolahan", "poster", "poster-a3")


def _url(app, endpoint, **values):
    with app.test_request_context():
        return url_for(endpoint, **values)


def _current_quarter(unit):
    today = unit_today(unit)
    return quarter(today.year, (today.month - 1) // 3 + 1)


def _scenario(db, **unit_fields):
    """The manager's case: Triwulan III 2023 imported (4 respondents, IKM 79,17), then
    Triwulan IV 2023 and the quarter containing today, both still empty."""
    unit, _other, q3 = _setup(db, kiosk_show_ikm=True, **unit_fields)
    q4 = make_period(db.session, quarter(2023, 4))
    current = make_period(db.session, _current_quarter(unit))
    db.session.commit()
    return unit, q3, q4, current


def _text(response) -> str:
    return response.get_data(as_text=True)


# --- the rule ---------------------------------------------------------------------------

def test_reporting_period_is_the_latest_with_counted_responses(db):
    unit = make_unit(db.session)
    other = make_unit(db.session, code="LAIN")
    q3, q4 = make_period(db.session, quarter(2023, 3)), make_period(db.session, quarter(2023, 4))
    make_period(db.session, quarter(2024, 1))
    today = dt.date(2024, 1, 10)
    assert reporting_period(db.session, unit, today) is None
    make_response(db.session, unit, [3] * 9, day=dt.date(2023, 8, 1))
    make_response(db.session, other, [3] * 9, day=dt.date(2024, 1, 5))  # another unit's
    assert reporting_period(db.session, unit, today) == q3
    late = make_response(db.session, unit, [3] * 9, day=dt.date(2023, 11, 1))
    assert reporting_period(db.session, unit, today) == q4
    set_excluded(db.session, [late.id], True)  # excluded responses do not count
    assert reporting_period(db.session, unit, today) == q3
    # A period that has not started by the unit's today is not reported yet.
    make_response(db.session, unit, [3] * 9, day=dt.date(2024, 1, 5))
    assert reporting_period(db.session, unit, dt.date(2023, 12, 31)) == q3


def test_same_end_date_prefers_the_shortest_period(db):
    unit = make_unit(db.session)
    year = make_period(db.session, PeriodSpan("Tahun 2023", "tahun", dt.date(2023, 1, 1), dt.date(2023, 12, 31)))
    make_period(db.session, semester(2023, 2))
    q4 = make_period(db.session, quarter(2023, 4))
    late = make_response(db.session, unit, [3] * 9, day=dt.date(2023, 11, 1))
    assert reporting_period(db.session, unit, dt.date(2024, 2, 1)) == q4
    # Data only in the first half: the quarter is empty, the semester too, the year wins.
    set_excluded(db.session, [late.id], True)
    make_response(db.session, unit, [3] * 9, day=dt.date(2023, 3, 1))
    assert reporting_period(db.session, unit, dt.date(2024, 2, 1)) == year


def test_collecting_period_is_the_shortest_containing_the_units_today(db):
    unit = make_unit(db.session, timezone="WIT")
    year = make_period(db.session, PeriodSpan("Tahun 2024", "tahun", dt.date(2024, 1, 1), dt.date(2024, 12, 31)))
    q1 = make_period(db.session, quarter(2024, 1))
    make_period(db.session, semester(2024, 1))
    assert collecting_period(db.session, unit, dt.date(2024, 2, 1)) == q1
    assert collecting_period(db.session, unit, dt.date(2024, 7, 1)) == year
    assert collecting_period(db.session, unit, dt.date(2025, 1, 1)) is None
    # Without `today`: the unit's date. 31 March 2024 20.00 UTC is already 1 April in WIT.
    assert unit_today(unit, dt.datetime(2024, 3, 31, 20, 0)) == dt.date(2024, 4, 1)
    assert default_period(db.session, unit, dt.date(2024, 2, 1)) == q1  # no responses: collecting


# --- acceptance: every channel opens on Triwulan III 2023 ---------------------------------

def test_every_channel_opens_on_the_latest_period_with_respondents(app, db, runner, tmp_path):
    unit, q3, _q4, current = _scenario(db)
    assert current.name != q3.name
    public = _text(app.test_client().get("/papan/DPM"))
    assert "Periode Triwulan III 2023" in public and '<p class="ikm">79,17</p>' in public
    client = as_user(app, "manajer")
    preview = _text(client.get(_url(app, "admin.poster_preview", unit_id=unit.id)))
    assert "Periode Triwulan III 2023" in preview and "79,17" in preview
    dashboard = _text(client.get(_url(app, "admin.results", unit_id=unit.id)))
    assert "Dinas Penanaman Modal, Triwulan III 2023" in dashboard
    assert f'<option value="{q3.id}" selected>' in dashboard and 'id="card-ikm">79,17' in dashboard
    laporan = _text(client.get(_url(app, "admin.reports_unit", unit_id=unit.id)))
    assert f'<option value="{q3.id}" selected>' in laporan
    assert 'button type="submit" name="kind" value="laporan"' in laporan and "Belum ada responden" not in laporan
    out = tmp_path / "p.pdf"
    r = runner.invoke(args=["skm", "report", "poster", "--unit", "DPM", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "Periode: Triwulan III 2023" in r.output
    text = flat(pdf_text(out.read_bytes()))
    assert "Triwulan III 2023" in text and "79,17" in text
    r = runner.invoke(args=["skm", "results", "--unit", "DPM"])
    assert r.exit_code == 0 and "Periode: Triwulan III 2023" in r.output and "IKM: 79,17" in r.output
    tablet = pair_tablet(app, db, unit)
    assert "Triwulan III 2023" in tablet.html and "79,17" in tablet.html


def test_kiosk_welcome_shows_the_lobby_posters_period(app, db):
    # A short period and a longer one that ends later both hold today's responses: every
    # channel shows the one that ends last (the kiosk used to pick the shortest).
    unit = make_unit(db.session, code="DPM", kiosk_show_ikm=True)
    today = unit_today(unit)
    make_period(db.session, PeriodSpan("Hari ini", "custom", today, today))
    make_period(db.session, PeriodSpan("Rentang panjang", "custom", today, today + dt.timedelta(days=30)))
    make_response(db.session, unit, [4] * 9, day=today)
    db.session.commit()
    tablet = pair_tablet(app, db, unit)
    assert "Indeks Kepuasan Masyarakat · Rentang panjang" in tablet.html and "100,00" in tablet.html
    assert "Periode Rentang panjang" in _text(app.test_client().get("/papan/DPM"))


def test_cli_report_and_results_name_the_period_they_used(app, db, runner, tmp_path):
    unit, _q3, q4, _current = _scenario(db)
    make_response(db.session, unit, [4] * 9, day=dt.date(2023, 10, 2))
    db.session.commit()
    r = runner.invoke(args=["skm", "results", "--unit", "DPM", "--json"])
    assert r.exit_code == 0 and "Periode: Triwulan IV 2023" in r.output and '"period": "Triwulan IV 2023"' in r.output
    r = runner.invoke(args=["skm", "results", "--unit", "DPM", "--from", "2023-07-01"])
    assert r.exit_code != 0 and "--to" in r.output


# --- nothing to report: no signed report of an empty period -----------------------------------

def test_laporan_page_says_why_a_period_has_no_reports(app, db):
    unit, q3, q4, _current = _scenario(db)
    client = as_user(app, "manajer")
    page = _text(client.get(_url(app, "admin.reports_unit", unit_id=unit.id, period_id=q4.id)))
    assert f'<option value="{q4.id}" selected>' in page
    assert "Belum ada responden pada periode Triwulan IV 2023 (1 Oktober s.d. 31 Desember 2023)" in page
    for kind in RESULT_KINDS:
        assert f'name="kind" value="{kind}"' not in page
    assert 'name="kind" value="kuesioner"' in page  # the blank questionnaire needs no responses
    r = client.get(_url(app, "admin.reports_download", unit_id=unit.id, kind="kuesioner"))
    assert r.mimetype == "application/pdf"
    for kind in RESULT_KINDS:
        r = client.get(_url(app, "admin.reports_download", unit_id=unit.id, kind=kind, period_id=q4.id))
        assert r.status_code == 200 and r.mimetype == "text/html", kind
        assert "Belum ada responden pada periode Triwulan IV 2023" in _text(r)
    # The dashboard of the empty period says the same instead of the download links.
    dashboard = _text(client.get(_url(app, "admin.results", unit_id=unit.id, period=q4.id)))
    assert "Belum ada responden pada periode Triwulan IV 2023" in dashboard
    assert "kind=laporan" not in dashboard
    dashboard = _text(client.get(_url(app, "admin.results", unit_id=unit.id, period=q3.id)))
    assert "kind=laporan" in dashboard and "Belum ada responden" not in dashboard


def test_no_background_job_for_an_empty_period(app, db):
    unit, _q3, q4, _current = _scenario(db)
    app.config["REPORT_SYNC_MAX_RESPONDENTS"] = 0
    client = as_user(app, "manajer")
    page = _text(client.get(_url(app, "admin.reports_unit", unit_id=unit.id)))
    r = client.post(_url(app, "admin.reports_start_job", unit_id=unit.id),
                    data={"csrf_token": _csrf(page), "kind": "laporan", "period_id": q4.id})
    assert r.status_code == 200 and "Belum ada responden pada periode Triwulan IV 2023" in _text(r)
    db.session.rollback()
    assert db.session.scalar(select(func.count(ReportJob.id))) == 0
    with pytest.raises(DomainError, match="Triwulan IV 2023"):
        J.create_job(db.session, "pengolahan", unit, q4, None, "x.pdf")
    with pytest.raises(DomainError, match="Triwulan IV 2023"):
        require_respondents(db.session, unit, q4)
    # A job row for an empty period (e.g. its answers excluded after it was queued) ends failed.
    job = ReportJob(unit_id=unit.id, period_id=q4.id, kind="laporan", status="queued", filename="x.pdf")
    db.session.add(job)
    db.session.flush()
    job_id = job.id  # read before the commit: no transaction of this session stays open
    db.session.commit()
    assert J.run_report_task(app, job_id) == "claimed"  # what the queue worker runs
    db.session.rollback()
    job = db.session.get(ReportJob, job_id)
    assert job.status == "failed" and "Belum ada responden pada periode Triwulan IV 2023" in job.error
    assert job.file_path is None


@pytest.mark.parametrize("kind", RESULT_KINDS)
def test_cli_refuses_a_report_of_an_empty_period(app, db, runner, tmp_path, kind):
    _scenario(db)
    out = tmp_path / "x.pdf"
    r = runner.invoke(args=["skm", "report", kind, "--unit", "DPM", "--period", "Triwulan IV 2023", "-o", str(out)])
    assert r.exit_code == 1
    assert "Belum ada responden pada periode Triwulan IV 2023" in r.output
    assert not out.exists()


def test_without_any_responses_nothing_pretends_to_have_results(app, db, runner, tmp_path):
    unit = make_unit(db.session, code="BARU", name="Unit Baru", kiosk_show_ikm=True)
    make_period(db.session, _current_quarter(unit))
    db.session.commit()
    lobby = _text(app.test_client().get("/papan/BARU"))
    assert "akan ditampilkan di sini setelah ada responden" in lobby
    assert 'class="ikm"' not in lobby and "0</strong> orang" not in lobby
    assert re.search(r'<meta http-equiv="refresh" content="\d+">', lobby)  # keeps reloading
    named = _text(app.test_client().get(f"/papan/BARU?periode={_current_quarter(unit).name}"))
    assert f"Belum ada responden pada periode {_current_quarter(unit).name}" in named and 'class="ikm"' not in named
    tablet = pair_tablet(app, db, unit)
    assert "Indeks Kepuasan Masyarakat" not in tablet.html
    for args in (["results"], ["report", "laporan", "-o", str(tmp_path / "x.pdf")]):
        r = runner.invoke(args=["skm", *args, "--unit", "BARU"])
        assert r.exit_code == 1 and "belum memiliki responden" in r.output, args
    assert not (tmp_path / "x.pdf").exists()


# --- a unit's local date -----------------------------------------------------------------

def test_unit_clock_falls_back_to_wib_for_an_unknown_zone(db):
    unit = make_unit(db.session)
    unit.timezone = "ZZZ"
    moment = dt.datetime(2024, 3, 31, 18, 30)  # UTC
    assert unit_now(unit, moment) == dt.datetime(2024, 4, 1, 1, 30)
    assert unit_today(unit, moment) == dt.date(2024, 4, 1)
    unit.timezone = "WITA"
    assert unit_day_start_utc(unit, dt.date(2024, 4, 1)) == dt.datetime(2024, 3, 31, 16, 0)
    now = unit_now(unit)
    wita = dt.datetime.now(ZoneInfo("Asia/Makassar")).replace(tzinfo=None)
    assert abs(now - wita) < dt.timedelta(minutes=1)


def test_unknown_time_zone_code_does_not_raise_anywhere(app, db, runner, tmp_path):
    unit, q3, _q4, _current = _scenario(db)
    unit.timezone = "ZZZ"
    db.session.commit()
    # Paper entry: the date field defaults to the unit's today (WIB for an unknown code).
    operator = as_user(app, "operator")
    page = operator.get(_url(app, "admin.entry_form", unit_id=unit.id))
    assert page.status_code == 200
    today = unit_today(unit).strftime("%d-%m-%Y")
    assert f'value="{today}"' in _text(page)
    # Lobby, kiosk, admin pages and the CLI.
    assert _text(app.test_client().get("/papan/DPM")).count("79,17") == 1
    assert "79,17" in pair_tablet(app, db, unit).html
    client = as_user(app, "manajer")
    for endpoint, values in (("admin.poster_preview", {"unit_id": unit.id}), ("admin.reports_unit", {"unit_id": unit.id}),
                             ("admin.results", {"unit_id": unit.id}), ("admin.results_heatmap", {"unit_id": unit.id}), ("admin.alerts", {"unit_id": unit.id})):
        assert client.get(_url(app, endpoint, **values)).status_code == 200, endpoint
    admin = as_user(app, "admin")
    assert admin.get(_url(app, "admin.devices", unit_id=unit.id)).status_code == 200
    for args in (["results", "--unit", "DPM"], ["report", "poster", "--unit", "DPM", "-o", str(tmp_path / "p.pdf")]):
        r = runner.invoke(args=["skm", *args])
        assert r.exit_code == 0, r.output
    operator = as_user(app, "operator")  # last: the saved form is today's, in the current quarter
    page = operator.get(_url(app, "admin.entry_form", unit_id=unit.id))
    form = {"tanggal": today, "jam": "1", "csrf_token": _csrf(_text(page)), **{f"U{i}": "4" for i in range(1, 10)}}
    g.pop("csrf_token", None)
    r = operator.post(_url(app, "admin.entry_form", unit_id=unit.id), data=form)
    assert r.status_code == 302 and r.headers["Location"].endswith(_url(app, "admin.entry_form", unit_id=unit.id))
    assert "<strong>1</strong> formulir" in _text(operator.get(_url(app, "admin.entry_form", unit_id=unit.id)))


def test_import_judges_future_dates_by_the_units_date(db):
    from skm.intake.importer import preview_import

    unit = make_unit(db.session, timezone="WIT")
    today = unit_today(unit)
    header = "tanggal,layanan," + ",".join(f"U{i}" for i in range(1, 10)) + "\n"

    def preview(day):
        content = header + f"{day.isoformat()},Layanan A," + ",".join("4" * 9) + "\n"
        return preview_import(db.session, unit, "data.csv", content.encode())

    assert preview(today).ok
    tomorrow = preview(today + dt.timedelta(days=1))
    assert not tomorrow.ok and "tanggal di masa depan" in " ".join(tomorrow.errors)
