"""Report downloads: access control, background jobs with progress, lobby poster, CLI."""
from __future__ import annotations

import datetime as dt
import re
import time

from skm.models import ReportJob
from tests.factories import login, make_period, make_response, make_unit, make_user
from tests.test_reports import RATINGS, flat, pdf_text


def _setup(db, **unit_fields):
    unit = make_unit(db.session, code="DPM", name="Dinas Penanaman Modal", **unit_fields)
    other = make_unit(db.session, code="LAIN", name="Unit Lain")
    period = make_period(db.session)
    for i, r in enumerate(RATINGS):
        make_response(db.session, unit, r, day=dt.date(2023, 7, 3 + i), gender="LP"[i % 2])
    make_user(db.session, "admin", "admin")
    make_user(db.session, "manajer", "manager", [unit])
    make_user(db.session, "manajer2", "manager", [other])
    make_user(db.session, "operator", "operator", [unit])
    db.session.commit()
    return unit, other, period


def as_user(app, username):
    """A fresh client logged in as `username`. The test's outer app context keeps
    Flask-Login's user and Flask-WTF's token cached in `g` across requests: drop them."""
    from flask import g

    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    client = app.test_client()
    assert login(client, username).status_code == 302
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    return client


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_reports_page_and_downloads_for_the_units_manager(app, db, client):
    unit, _, period = _setup(db)
    login(client, "manajer")
    page = client.get(f"/admin/units/{unit.id}/laporan")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Laporan Hasil SKM" in html and period.name in html
    for kind, first_words in (("laporan", "LAPORAN HASIL"), ("pengolahan", "Pengolahan Data SKM"),
                              ("poster", "HASIL SURVEI KEPUASAN MASYARAKAT"),
                              ("poster-a3", "HASIL SURVEI KEPUASAN MASYARAKAT")):
        r = client.get(f"/admin/units/{unit.id}/laporan/unduh?kind={kind}&period_id={period.id}")
        assert r.status_code == 200, kind
        assert r.mimetype == "application/pdf"
        assert "attachment" in r.headers["Content-Disposition"]
        text = flat(pdf_text(r.data))
        assert first_words in text and "79,17" in text
    r = client.get(f"/admin/units/{unit.id}/laporan/unduh?kind=kuesioner")
    assert r.status_code == 200 and "KUESIONER" in pdf_text(r.data)


def test_bad_input_gives_a_message_not_an_error(app, db, client):
    unit, _, period = _setup(db)
    login(client, "manajer")
    for query in ("kind=apa", "kind=laporan", "kind=laporan&period_id=999", "kind=laporan&period_id=x"):
        r = client.get(f"/admin/units/{unit.id}/laporan/unduh?{query}", follow_redirects=True)
        assert r.status_code == 200
        assert "Pilih periode" in r.get_data(as_text=True) or "tidak dikenal" in r.get_data(as_text=True)
    assert client.get("/admin/units/999/laporan").status_code == 404


def test_access_control(app, db, client):
    unit, other, period = _setup(db)
    url = f"/admin/units/{unit.id}/laporan/unduh?kind=poster&period_id={period.id}"
    r = client.get(url)
    assert r.status_code == 302 and "/admin/login" in r.headers["Location"]
    login(client, "operator")
    assert client.get(url).status_code == 403
    assert client.get(f"/admin/units/{unit.id}/laporan").status_code == 403
    client = as_user(app, "manajer2")
    assert client.get(url).status_code == 403
    assert client.get(f"/admin/units/{unit.id}/papan").status_code == 403
    assert client.get(f"/admin/units/{other.id}/laporan").status_code == 200
    client = as_user(app, "admin")
    assert client.get(url).status_code == 200


def test_large_report_runs_as_a_job_with_progress(app, db, client, monkeypatch):
    import threading

    from skm.reports import jobs as J

    # The queue worker's part (tests/test_queue_worker.py runs the real one): the queued task
    # runs in a thread of its own while the page polls.
    monkeypatch.setattr(J, "launch", lambda app_, job_id: threading.Thread(
        target=J.run_report_task, args=(app_, job_id), daemon=True).start())
    unit, other, period = _setup(db)
    app.config["REPORT_SYNC_MAX_RESPONDENTS"] = 2
    client = as_user(app, "manajer")
    r = client.get(f"/admin/units/{unit.id}/laporan/unduh?kind=pengolahan&period_id={period.id}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "dibuat di latar belakang" in html and "4 responden" in html
    r = client.post(f"/admin/units/{unit.id}/laporan/job",
                    data={"csrf_token": _csrf(html), "kind": "pengolahan", "period_id": period.id})
    assert r.status_code == 303
    job_url = r.headers["Location"]
    deadline = time.time() + 60
    while True:
        # The test's outer app context shares one session across requests; end its
        # read snapshot so each poll sees the worker's updates, as a real request would.
        db.session.rollback()
        fragment = client.get(job_url, headers={"HX-Request": "true"}).get_data(as_text=True)
        if "Unduh" in fragment or time.time() > deadline:
            break
        assert 'hx-trigger="every 1s"' in fragment  # still polling
        assert "<html" not in fragment
        time.sleep(0.2)
    assert "Dokumen selesai dibuat" in fragment
    assert 'hx-trigger' not in fragment  # polling stops when done
    download = re.search(r'href="([^"]+/unduh)"', fragment).group(1)
    pdf = client.get(download)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "79,17" in pdf_text(pdf.data)
    job = db.session.query(ReportJob).one()
    assert job.status == "done" and job.progress == job.total == 4
    # Another unit's manager can neither watch nor download it.
    client = as_user(app, "manajer2")
    assert client.get(job_url).status_code == 403
    assert client.get(download).status_code == 403


def test_lobby_poster_public_only_when_enabled(app, db, client):
    unit, _, period = _setup(db)
    assert client.get("/papan/DPM").status_code == 404  # kiosk_show_ikm is off
    unit.kiosk_show_ikm = True
    db.session.commit()
    r = client.get(f"/papan/dpm?periode={period.name}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert re.search(r'<meta http-equiv="refresh" content="\d+">', html)
    assert "<script" not in html
    for expected in ("Dinas Penanaman Modal", "79,17", "Mutu B · Baik", "Laki-laki", "Terima kasih"):
        assert expected in html
    assert client.get("/papan/TIDAKADA").status_code == 404
    assert client.get("/papan/DPM?periode=Tidak Ada").status_code == 404


def test_cli_report_matches_results(app, db, runner, tmp_path):
    unit, _, period = _setup(db)
    results = runner.invoke(args=["skm", "results", "--unit", "DPM", "--period", period.name])
    assert "IKM: 79,17" in results.output
    for kind in ("laporan", "pengolahan", "poster", "poster-a3", "kuesioner"):
        out = tmp_path / f"{kind}.pdf"
        args = ["skm", "report", kind, "--unit", "DPM", "-o", str(out)]
        if kind != "kuesioner":
            args += ["--period", period.name]
        r = runner.invoke(args=args)
        assert r.exit_code == 0, r.output
        assert "ditulis" in r.output
        text = flat(pdf_text(out.read_bytes()))
        if kind != "kuesioner":
            assert "79,17" in text
    r = runner.invoke(args=["skm", "report", "laporan", "--unit", "DPM", "--period", "Tidak Ada", "-o",
                            str(tmp_path / "x.pdf")])
    assert r.exit_code != 0 and "tidak ditemukan" in r.output
    r = runner.invoke(args=["skm", "report", "poster", "--unit", "XXX", "--period", period.name, "-o",
                            str(tmp_path / "x.pdf")])
    assert r.exit_code != 0
    assert not (tmp_path / "x.pdf").exists()


def test_intro_text_edited_once_and_reused(app, db, client):
    unit, _, period = _setup(db)
    client = as_user(app, "manajer")
    page = client.get(f"/admin/units/{unit.id}/laporan").get_data(as_text=True)
    r = client.post(f"/admin/units/{unit.id}/laporan/pendahuluan",
                    data={"csrf_token": _csrf(page), "intro_text": "Latar belakang <i>kami</i>.\r\n\r\nParagraf dua."},
                    follow_redirects=True)
    assert r.status_code == 200 and "disimpan" in r.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(type(unit), unit.id).intro_text == "Latar belakang <i>kami</i>.\n\nParagraf dua."
    pdf = client.get(f"/admin/units/{unit.id}/laporan/unduh?kind=laporan&period_id={period.id}")
    text = flat(pdf_text(pdf.data))
    assert "Latar belakang <i>kami</i>. Paragraf dua." in text
    r = client.post(f"/admin/units/{unit.id}/laporan/pendahuluan",
                    data={"csrf_token": _csrf(page), "intro_text": "x" * 20001}, follow_redirects=True)
    assert r.status_code == 200 and "terlalu panjang" in r.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(type(unit), unit.id).intro_text.startswith("Latar belakang")


def test_stale_and_old_jobs(app, db, client, tmp_path):
    from skm.core.clock import utcnow
    from skm.reports import jobs as J

    unit, _, period = _setup(db)
    old_file = tmp_path / "old.pdf"
    old_file.write_bytes(b"%PDF")
    old = ReportJob(unit_id=unit.id, period_id=period.id, kind="laporan", status="done", filename="a.pdf",
                    file_path=str(old_file), created_at=utcnow() - dt.timedelta(days=8))
    stuck = ReportJob(unit_id=unit.id, period_id=period.id, kind="laporan", status="running", filename="b.pdf",
                      created_at=utcnow() - dt.timedelta(hours=2))
    db.session.add_all([old, stuck])
    db.session.commit()
    stuck_id = stuck.id
    client = as_user(app, "manajer")
    fragment = client.get(f"/admin/laporan/job/{stuck_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "terhenti" in fragment and "hx-trigger" not in fragment
    r = client.get(f"/admin/laporan/job/{stuck_id}/unduh", follow_redirects=True)
    assert r.status_code == 200 and "belum selesai" in r.get_data(as_text=True)
    J.create_job(db.session, "laporan", unit, period, None, "c.pdf")
    db.session.commit()
    assert not old_file.exists()
    assert db.session.query(ReportJob).count() == 2  # the old one is gone, the stuck one stays visible


def test_dashboard_links_to_reports_with_the_same_figures(app, db, client):
    unit, _, period = _setup(db)
    client = as_user(app, "manajer")
    html = client.get(f"/admin/units/{unit.id}/results?period={period.id}").get_data(as_text=True)
    ikm_card = re.search(r'id="card-ikm">([^<]+)<', html).group(1).strip()
    assert ikm_card == "79,17"
    nrrs = re.findall(r'<td class="num">(\d,\d\d)</td>', html)
    links = re.findall(r'href="([^"]*/laporan/unduh\?kind=[^"]+)"', html)
    assert len(links) == 4
    for link in links:
        r = client.get(link.replace("&amp;", "&"))
        assert r.status_code == 200 and r.mimetype == "application/pdf"
        assert ikm_card in flat(pdf_text(r.data))
    report = flat(pdf_text(client.get(links[0].replace("&amp;", "&")).data))
    assert nrrs and all(n in report for n in nrrs)


def test_report_jobs_deduplicated_capped_and_refused_when_small(app, db, monkeypatch):
    """Before: ten POSTs in 0,3 s started ten threads; now one job and one queue task, the
    worker's claims wait above the caps (oldest first), and no background job where the
    direct download suffices."""
    from sqlalchemy import update

    from skm.reports import jobs as J

    launched: list[int] = []
    monkeypatch.setattr(J, "launch", lambda app_, job_id: launched.append(job_id))
    unit, other, period = _setup(db)
    make_response(db.session, other, [4] * 9, day=dt.date(2023, 7, 3))
    make_response(db.session, other, [3] * 9, day=dt.date(2023, 7, 4))
    db.session.commit()
    client = as_user(app, "admin")
    html = client.get(f"/admin/units/{unit.id}/laporan").get_data(as_text=True)
    token = _csrf(html)

    def post(unit_id, kind):
        return client.post(f"/admin/units/{unit_id}/laporan/job",
                           data={"csrf_token": token, "kind": kind, "period_id": period.id})

    def claim(job, **caps):
        db.session.rollback()
        outcome = J.claim_job(db.engine, job.id, **caps)
        db.session.rollback()  # the pages below read what the claim wrote on its own connection
        return outcome

    # Below REPORT_SYNC_MAX_RESPONDENTS the direct download suffices: no job.
    r = post(unit.id, "laporan")
    assert r.status_code == 200  # the Laporan page of that period, saying why
    assert "cukup kecil untuk diunduh langsung" in r.get_data(as_text=True)
    assert db.session.query(ReportJob).count() == 0 and launched == []

    app.config.update(REPORT_SYNC_MAX_RESPONDENTS=1)
    locations = {post(unit.id, "laporan").headers["Location"] for _ in range(10)}
    db.session.rollback()
    [first] = db.session.query(ReportJob).all()
    assert locations == {f"/admin/laporan/job/{first.id}"} and launched == [first.id]
    assert first.status == "queued"  # the web server renders nothing: the worker claims it
    caps = {"max_per_unit": 1, "max_total": 2}
    assert claim(first, **caps) == "claimed" and claim(first, **caps) == "skip"  # claimed once
    # Another document of the same unit waits (one per unit); another unit's starts (two in all).
    second_url = post(unit.id, "pengolahan").headers["Location"]
    post(other.id, "laporan")
    db.session.rollback()
    second, third = db.session.query(ReportJob).filter(ReportJob.id != first.id).order_by(ReportJob.id).all()
    assert launched == [first.id, second.id, third.id]
    assert claim(second, **caps) == "wait" and claim(third, **caps) == "claimed"
    page = client.get(second_url).get_data(as_text=True)
    assert "Dalam antrean" in page
    # The installation cap: with one job at a time, another unit's job waits as well, and the
    # oldest waiting job (second) takes the free slot before a younger one (fourth).
    caps = {"max_per_unit": 1, "max_total": 1}
    db.session.rollback()  # a fresh snapshot: the claims wrote on their own connections
    db.session.execute(update(ReportJob).where(ReportJob.id.in_([first.id, third.id])).values(status="done"))
    db.session.commit()
    fourth_url = post(other.id, "pengolahan").headers["Location"]
    db.session.rollback()
    fourth = db.session.query(ReportJob).order_by(ReportJob.id.desc()).first()
    assert claim(fourth, **caps) == "wait" and claim(second, **caps) == "claimed"
    assert "Dalam antrean" in client.get(fourth_url).get_data(as_text=True)
    assert "Dalam antrean" not in client.get(second_url).get_data(as_text=True)
    # A running job whose worker died (heartbeat stale) holds no slot; recovery queues it again.
    db.session.rollback()
    db.session.execute(update(ReportJob).where(ReportJob.id == second.id)
                       .values(heartbeat_at=J.utcnow() - dt.timedelta(minutes=5)))
    db.session.commit()
    assert claim(fourth, **caps) == "claimed"
    db.session.rollback()
    assert J.recover_jobs(db.engine, 60) == [second.id]
    assert claim(second, **caps) == "wait"  # queued again, behind the cap
    db.session.rollback()
    assert db.session.get(ReportJob, second.id).attempts == 1


def test_recovery_gives_up_after_repeated_deaths(app, db):
    """A job that keeps killing its worker (e.g. out of memory) is not retried forever."""
    from sqlalchemy import update

    from skm.reports import jobs as J

    unit, _, period = _setup(db)
    job = J.create_job(db.session, "laporan", unit, period, None, "x.pdf")
    db.session.commit()
    job_id = job.id
    for attempt in range(1, J.MAX_ATTEMPTS + 1):
        assert J.claim_job(db.engine, job_id) == "claimed"
        db.session.rollback()
        db.session.execute(update(ReportJob).where(ReportJob.id == job_id)
                           .values(heartbeat_at=J.utcnow() - dt.timedelta(minutes=5)))
        db.session.commit()
        assert J.recover_jobs(db.engine, 60) == ([job_id] if attempt < J.MAX_ATTEMPTS else [])
    db.session.rollback()
    job = db.session.get(ReportJob, job_id)
    assert (job.status, job.attempts) == ("failed", J.MAX_ATTEMPTS) and "berulang kali" in job.error


def test_ten_concurrent_job_requests_make_one_job(app, db, live_server, no_csrf, monkeypatch):
    """Ten POSTs at once over HTTP (threads of the live server): one job, one launch."""
    import http.cookiejar
    import threading
    import urllib.parse
    import urllib.request

    from skm.reports import jobs as J

    launched: list[int] = []
    monkeypatch.setattr(J, "launch", lambda app_, job_id: launched.append(job_id))
    unit, _, period = _setup(db)
    unit_id, period_id = unit.id, period.id
    app.config.update(REPORT_SYNC_MAX_RESPONDENTS=1)
    db.session.remove()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    from tests.factories import PASSWORD

    opener.open(f"{live_server}/admin/login",
                urllib.parse.urlencode({"username": "admin", "password": PASSWORD}).encode())
    body = urllib.parse.urlencode({"kind": "laporan", "period_id": period_id}).encode()
    finals: list[str] = []
    barrier = threading.Barrier(10)

    def post():
        barrier.wait()
        finals.append(opener.open(f"{live_server}/admin/units/{unit_id}/laporan/job", body).geturl())

    threads = [threading.Thread(target=post) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    jobs = db.session.query(ReportJob).all()
    assert len(jobs) == 1 and launched == [jobs[0].id]
    assert len(finals) == 10 and set(finals) == {f"{live_server}/admin/laporan/job/{jobs[0].id}"}


def test_large_exports_go_to_the_queue_small_ones_stay_direct(app, db, monkeypatch):
    """Above EXPORT_SYNC_MAX_RESPONDENTS the respondent export is made by the queue worker
    (one job for repeated requests, with progress); below it, and for the small per-element
    workbook, the download stays direct."""
    from skm.reports import exports
    from skm.reports import jobs as J

    launched: list[int] = []
    monkeypatch.setattr(J, "launch", lambda app_, job_id: launched.append(job_id))
    unit, _, period = _setup(db)
    client = as_user(app, "manajer")
    base = f"/admin/units/{unit.id}/data/ekspor/{period.id}"
    direct = client.get(f"{base}/responden.csv")
    assert direct.status_code == 200 and direct.mimetype == "text/csv"
    app.config["EXPORT_SYNC_MAX_RESPONDENTS"] = 1
    page = client.get(f"{base}/responden.csv")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "dibuat di latar belakang" in html and "4 responden" in html
    assert client.get(f"{base}/hasil.xlsx").mimetype == exports.XLSX_MIME  # small: still direct
    assert client.get(f"{base}/bukan.xlsx").status_code == 404
    db.session.rollback()
    assert db.session.query(ReportJob).count() == 0  # a GET changes nothing
    urls = {client.post(f"{base}/responden.csv/job", data={"csrf_token": _csrf(html)}).headers["Location"]
            for _ in range(3)}
    db.session.rollback()
    [job] = db.session.query(ReportJob).all()
    assert urls == {f"/admin/laporan/job/{job.id}"} and launched == [job.id]
    assert (job.kind, job.status, job.total) == ("responden.csv", "queued", 4)
    assert client.post(f"{base}/responden.csv/job").status_code == 400  # no CSRF token
    assert J.run_report_task(app, job.id) == "claimed"  # what the queue worker runs
    db.session.rollback()
    job = db.session.get(ReportJob, job.id)
    assert job.status == "done" and job.progress == 4 and job.file_path.endswith(".csv")
    page = client.get(f"/admin/laporan/job/{job.id}").get_data(as_text=True)
    assert "Berkas selesai dibuat" in page and "Kembali ke halaman data" in page
    download = client.get(f"/admin/laporan/job/{job.id}/unduh")
    assert download.mimetype == "text/csv" and download.data == direct.data
    assert job.filename.startswith("DPM-") and job.filename.endswith("-responden.csv")
    assert job.filename in download.headers["Content-Disposition"]
    # Another unit's manager sees neither the export page nor the job.
    other_client = as_user(app, "manajer2")
    assert other_client.get(f"{base}/responden.csv").status_code == 403
    assert other_client.get(f"/admin/laporan/job/{job.id}").status_code == 403
