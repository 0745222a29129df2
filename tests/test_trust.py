"""Issue 13 ("Trust, round two"): revocable sessions, password rules, throttles that an
attacker cannot turn against the owner, security headers, private files, quiet errors."""
from __future__ import annotations

import re

from sqlalchemy import select

from skm.accounts import FREE_FAILURES, IP_FREE_FAILURES, check_password_policy
from skm.core.errors import DomainError
from skm.models import User
from tests.factories import PASSWORD, login, make_unit, make_user


def _switch_client():
    """One app context spans the test: drop Flask-Login's cached user between clients."""
    from flask import g

    g.pop("_login_user", None)


def _copy_of(app, client):
    """A second browser holding a copy of this client's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value, domain="localhost")
    return thief


def _opens_results(client) -> bool:
    _switch_client()
    return client.get("/admin/").status_code == 200


# --- 1. sessions end on the server ------------------------------------------------------

def test_a_copied_cookie_stops_working_after_logout(app, db, client, no_csrf):
    make_user(db.session, "ani", "manager")
    db.session.commit()
    login(client, "ani")
    thief = _copy_of(app, client)
    assert _opens_results(thief)
    _switch_client()
    client.post("/admin/logout")
    assert not _opens_results(thief)
    assert not _opens_results(client)


def test_the_cookie_carries_an_opaque_session_version_not_the_password_hash(app, db, client, no_csrf):
    user = make_user(db.session, "ani", "manager")
    db.session.commit()
    login(client, "ani")
    data = app.session_interface.get_signing_serializer(app).loads(client.get_cookie("session").value)
    assert "pw" not in data
    assert user.password_hash[-16:] not in repr(data)
    assert data["_user_id"] == f"{user.id}:{user.session_version}"
    assert re.fullmatch(r"[0-9a-f]{32}", user.session_version)


def test_a_password_change_ends_every_other_copy_but_not_this_session(app, db, client, no_csrf):
    make_user(db.session, "ani", "manager")
    db.session.commit()
    login(client, "ani")
    thief = _copy_of(app, client)
    _switch_client()
    new = "kopi-tubruk-pagi-hari"
    r = client.post("/admin/password", data={"current": PASSWORD, "new": new, "confirm": new})
    assert r.status_code == 302
    assert _opens_results(client)
    assert not _opens_results(thief)


def test_admin_signs_a_user_out_everywhere(app, db, no_csrf):
    make_user(db.session, "admin", "admin")
    ani = make_user(db.session, "ani", "manager")
    db.session.commit()
    ani_browser = app.test_client()
    login(ani_browser, "ani")
    assert _opens_results(ani_browser)
    boss = app.test_client()
    _switch_client()
    login(boss, "admin")
    page = boss.get(f"/admin/accounts/{ani.id}").get_data(as_text=True)
    assert 'value="signout"' in page and "Keluar dari semua perangkat" in page
    _switch_client()
    r = boss.post(f"/admin/accounts/{ani.id}", data={"action": "signout"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/admin/accounts/{ani.id}")
    assert not _opens_results(ani_browser)
    assert _opens_results(boss)  # the admin's own session goes on
    assert login(ani_browser, "ani").status_code == 302  # the password still works


def test_sign_out_everywhere_for_oneself(app, db, client, no_csrf):
    make_user(db.session, "budi", "operator")
    db.session.commit()
    login(client, "budi")
    other_pc = _copy_of(app, client)
    _switch_client()
    assert "Keluar dari semua perangkat" in client.get("/admin/password").get_data(as_text=True)
    r = client.post("/admin/sessions/end")
    assert r.status_code == 302 and "/admin/login" in r.headers["Location"]
    assert not _opens_results(other_pc)
    assert not _opens_results(client)


def test_password_page_throttles_guesses_of_the_current_password(app, db, client, no_csrf):
    make_user(db.session, "ani", "manager")
    db.session.commit()
    login(client, "ani")
    new = "kopi-tubruk-pagi-hari"
    for i in range(FREE_FAILURES):
        _switch_client()
        r = client.post("/admin/password", data={"current": f"tebakan-ke-{i}", "new": new, "confirm": new})
        assert r.status_code == 200 and "Kata sandi lama salah" in r.get_data(as_text=True)
    _switch_client()
    blocked = client.post("/admin/password", data={"current": PASSWORD, "new": new, "confirm": new})
    assert blocked.status_code == 429 and "Terlalu banyak percobaan" in blocked.get_data(as_text=True)
    db.session.expire_all()
    assert login(app.test_client(), "ani", PASSWORD).status_code == 302  # unchanged
    _switch_client()
    assert login(app.test_client(), "ani", new).status_code == 200


# --- 2. password rules -------------------------------------------------------------------

def test_short_and_common_passwords_are_refused_everywhere(app, db, client, runner, no_csrf):
    for bad, message in (("12345678", "minimal 10"), ("1234567890", "terlalu umum"), ("QwertyUiop", "terlalu umum"),
                         ("password12", "terlalu umum")):
        try:
            check_password_policy(bad)
        except DomainError as exc:
            assert message in str(exc)
        else:
            raise AssertionError(f"{bad} accepted")
    check_password_policy("kopi-tubruk-pagi-hari")
    admin = make_user(db.session, "admin", "admin")
    db.session.commit()
    login(client)
    # web: new account, reset by an admin, own password change
    r = client.post("/admin/accounts/new", data={"username": "dewi", "role": "operator", "password": "12345678",
                                                 "confirm": "12345678"})
    assert r.status_code == 200 and "minimal 10" in r.get_data(as_text=True)
    r = client.post("/admin/accounts/new", data={"username": "dewi", "role": "operator", "password": "1234567890",
                                                 "confirm": "1234567890"})
    assert r.status_code == 200 and "terlalu umum" in r.get_data(as_text=True)
    r = client.post(f"/admin/accounts/{admin.id}", data={"action": "reset", "password": "qwertyuiop",
                                                        "confirm": "qwertyuiop"})
    assert r.status_code == 200 and "terlalu umum" in r.get_data(as_text=True)
    r = client.post("/admin/password", data={"current": PASSWORD, "new": "basketball", "confirm": "basketball"})
    assert r.status_code == 200 and "terlalu umum" in r.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "dewi")) is None
    # CLI
    out = runner.invoke(args=["skm", "create-user", "ani", "--role", "admin", "--password-stdin"],
                        input="1q2w3e4r5t\n")
    assert out.exit_code != 0 and "terlalu umum" in out.output
    # the demo admin's generated password passes the same rule
    out = runner.invoke(args=["skm", "seed-demo"])
    assert out.exit_code == 0, out.output


def test_demo_admin_password_passes_the_rule(app, db, runner, no_csrf):
    out = runner.invoke(args=["skm", "seed-demo"])
    assert out.exit_code == 0, out.output
    password = re.search(r"kata sandi: (\S+)", out.output).group(1)
    check_password_policy(password)
    assert login(app.test_client(), "admin", password).status_code == 302


def test_the_password_list_is_package_data():
    import tomllib
    from fnmatch import fnmatch
    from pathlib import Path

    from skm.accounts import COMMON_PASSWORDS_FILE, common_passwords

    root = Path(__file__).resolve().parent.parent
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["skm"]
    relative = COMMON_PASSWORDS_FILE.relative_to(root / "skm").as_posix()
    assert any(fnmatch(relative, g) for g in globs)
    assert len(common_passwords()) > 10_000


# --- 3. throttles an attacker cannot turn against the owner ----------------------------------

def test_an_attacker_elsewhere_cannot_lock_the_owner_out(app, db, no_csrf):
    make_user(db.session, "admin", "admin")
    db.session.commit()
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    for _ in range(FREE_FAILURES):
        assert login(attacker, "admin", "tebakan-salah").status_code == 200
    assert login(attacker, "admin", PASSWORD).status_code == 429  # the attacker is slowed
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "10.0.0.5"
    assert login(owner, "admin", PASSWORD).status_code == 302  # the owner is not


def test_one_client_guessing_many_accounts_hits_the_looser_address_limit(app, db, no_csrf):
    make_user(db.session, "admin", "admin")
    db.session.commit()
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    for i in range(IP_FREE_FAILURES):
        login(attacker, f"nama{i % 3}-{i}", "tebakan-salah")
    assert login(attacker, "admin", PASSWORD).status_code == 429
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "10.0.0.5"
    assert login(owner, "admin", PASSWORD).status_code == 302


# --- 4. headers -------------------------------------------------------------------------------

def test_admin_pages_are_never_stored_and_every_page_has_a_permissions_policy(app, db, client, no_csrf):
    make_user(db.session)
    unit = make_unit(db.session)
    db.session.commit()
    assert client.get("/admin/login").headers["Cache-Control"] == "no-store"
    login(client)
    for url in ("/admin/", f"/admin/units/{unit.id}/settings", "/admin/accounts"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
        policy = response.headers["Permissions-Policy"]
        assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy
    assert "camera=()" in client.get("/kiosk/").headers["Permissions-Policy"]
    # no HSTS over a plain-HTTP test install (cookies not Secure)
    assert "Strict-Transport-Security" not in client.get("/admin/login").headers


def test_hsts_is_sent_when_cookies_are_secure(tmp_path, monkeypatch):
    from skm import create_app
    from skm.extensions import db as _db

    monkeypatch.setenv("SKM_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SKM_SECURE_COOKIES", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "k"})
    with app.app_context():
        _db.create_all()
    response = app.test_client().get("/admin/login", base_url="https://skm.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    monkeypatch.setenv("SKM_SECURE_COOKIES", "false")
    plain = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "k"})
    assert "Strict-Transport-Security" not in plain.test_client().get("/admin/login").headers


# --- 5. private files -----------------------------------------------------------------------

def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20), "navy").save(out, format="PNG")
    return out.getvalue()


def test_database_uploads_reports_and_previews_are_private(app, tmp_path, monkeypatch):
    import datetime as dt
    import io
    import os
    import stat

    from skm import create_app
    from skm.extensions import db as _db
    from skm.reports.jobs import create_job, run_report_task
    from skm.survey.unit_settings import store_logo
    from tests.factories import make_period, make_response
    from tests.test_import_web import _rows

    os.umask(0o022)  # what a shell or service manager usually gives a server: the app must tighten it
    instance = tmp_path / "server"
    (instance / "uploads" / "logos").mkdir(parents=True, mode=0o755)  # left by an older install
    monkeypatch.setenv("SKM_INSTANCE_PATH", str(instance))
    sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    uri = f"sqlite:///{instance / 'skm.sqlite3'}" if sqlite else app.config["SQLALCHEMY_DATABASE_URI"]
    server = create_app({"TESTING": True, "SECRET_KEY": "k", "SECURE_COOKIES": False, "WTF_CSRF_ENABLED": False,
                         "UPLOAD_FOLDER": str(instance / "uploads"), "SQLALCHEMY_DATABASE_URI": uri})
    with server.app_context():
        if sqlite:
            _db.create_all()
        unit = make_unit(_db.session)
        period = make_period(_db.session)
        for day in range(3):
            make_response(_db.session, unit, [3] * 9, day=dt.date(2023, 7, 3 + day))
        user = make_user(_db.session)
        _db.session.commit()
        store_logo(_db.session, unit, _png(), server.config["UPLOAD_FOLDER"])
        _db.session.commit()
        job = create_job(_db.session, "pengolahan", unit, period, user, "pengolahan.pdf")
        _db.session.commit()
        run_report_task(server, job.id)
        unit_id = unit.id
        _db.session.remove()
    client = server.test_client()
    assert login(client).status_code == 302
    preview = client.post(f"/admin/units/{unit_id}/data/impor", content_type="multipart/form-data",
                          data={"kanal": "paper", "berkas": (io.BytesIO(_rows(3).encode()), "a.csv")})
    assert 'name="token"' in preview.get_data(as_text=True)
    written = {p.relative_to(instance).as_posix(): stat.S_IMODE(p.stat().st_mode)
               for p in [instance, *instance.rglob("*")]}
    with server.app_context():
        _db.engine.dispose()
    expected = ["uploads/logos", "uploads/imports", "reports"] + (["skm.sqlite3", "skm.sqlite3-wal"] if sqlite else [])
    assert all(name in written for name in expected), sorted(written)
    assert any(name.startswith("reports/job-") for name in written)
    assert any(name.startswith("uploads/logos/unit-") for name in written)
    assert any(name.endswith(".bin") for name in written)
    open_to_others = {name: oct(mode) for name, mode in written.items() if mode & 0o077}
    assert open_to_others == {}
    assert written["."] == 0o700


# --- 6. report job failures --------------------------------------------------------------------

def test_a_failed_report_job_shows_indonesian_text_and_logs_the_details(app, db, client, caplog, monkeypatch):
    import datetime as dt
    import logging

    from skm.models import ReportJob
    from skm.reports import render
    from skm.reports.jobs import create_job, run_report_task
    from tests.factories import make_period, make_response

    unit = make_unit(db.session)
    period = make_period(db.session)
    make_response(db.session, unit, [3] * 9, day=dt.date(2023, 7, 3))
    user = make_user(db.session)
    job = create_job(db.session, "pengolahan", unit, period, user, "pengolahan.pdf")
    db.session.commit()

    def broken(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/srv/skm/instance/reports/job-1.part")

    monkeypatch.setattr(render, "build", broken)
    # Alembic's logging setup (tests/test_migrations.py) disables loggers that existed before it.
    monkeypatch.setattr(logging.getLogger("skm.reports.jobs"), "disabled", False)
    with caplog.at_level(logging.ERROR, logger="skm.reports.jobs"):
        run_report_task(app, job.id)
    assert "/srv/skm/instance/reports/job-1.part" in caplog.text  # details in the log
    db.session.rollback()  # end the test's read snapshot: the job updated its row on its own connection
    assert db.session.get(ReportJob, job.id).status == "failed"
    login(client)
    page = client.get(f"/admin/laporan/job/{job.id}").get_data(as_text=True)
    assert "Dokumen gagal dibuat: terjadi kesalahan pada server" in page
    assert "/srv/skm" not in page and "Permission denied" not in page and "Errno" not in page


# --- 7. pairing codes are throttled per client ------------------------------------------------

def test_wrong_pairing_codes_are_throttled_per_client_in_the_database(app, db):
    from flask import g

    from skm.accounts import PAIR_FREE_FAILURES
    from skm.kiosk import devices as D
    from skm.models import LoginThrottle

    app.config["WTF_CSRF_ENABLED"] = False
    unit = make_unit(db.session)
    device = D.create_pairing(db.session, unit)
    db.session.commit()
    code = device.pairing_code
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    for i in range(PAIR_FREE_FAILURES):
        r = guesser.post("/kiosk/pair", data={"code": f"ZZZZ{i:04d}"})
        assert r.status_code == 200 and "tidak dikenal" in r.get_data(as_text=True)
    row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.key == "pair:198.51.100.7"))
    assert row is not None and row.failures == PAIR_FREE_FAILURES  # shared by every worker
    # the next guess waits, even a right one, and the pairing link is throttled as well
    r = guesser.post("/kiosk/pair", data={"code": code})
    assert r.status_code == 429 and "Terlalu banyak kode pemasangan yang salah" in r.get_data(as_text=True)
    other_worker = app.test_client()  # another process, same address
    other_worker.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert other_worker.get(f"/kiosk/pair/{code}").status_code == 429
    db.session.expire_all()
    assert db.session.get(type(device), device.id).credential_hash is None  # not paired
    # a tablet elsewhere pairs with the right code
    g.pop("_login_user", None)
    tablet = app.test_client()
    tablet.environ_base["REMOTE_ADDR"] = "10.0.0.8"
    assert tablet.post("/kiosk/pair", data={"code": code}).status_code == 303
