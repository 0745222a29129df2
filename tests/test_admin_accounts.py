"""Accounts: throttled failed logins (counter in the database), own password change,
session expiry, and admin account management."""
from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import select

from skm.accounts import FREE_FAILURES, login_wait_seconds, record_login_failure, throttle_keys
from skm.models import LoginThrottle, User
from tests.factories import PASSWORD, login, make_unit, make_user


def test_failed_logins_are_slowed_down_and_counted_in_the_database(db, client, no_csrf):
    make_user(db.session, "budi", "operator")
    db.session.commit()
    for _ in range(FREE_FAILURES):
        page = login(client, "budi", "salah-salah")
        assert page.status_code == 200
        assert "Nama pengguna atau kata sandi salah" in page.get_data(as_text=True)
    # counted for this account from this client (127.0.0.1, the test client's address)
    row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.key == "login:budi|127.0.0.1"))
    assert row.failures == FREE_FAILURES and row.blocked_until is not None
    # now even the right password waits
    blocked = login(client, "budi", PASSWORD)
    assert blocked.status_code == 429
    assert "Terlalu banyak percobaan" in blocked.get_data(as_text=True)
    # the counter lives in the database: a second app process would see it too
    assert login_wait_seconds(db.session, ["login:budi|127.0.0.1"]) > 0
    # once the wait is over the right password works and clears the name's counter
    row.blocked_until = dt.datetime(2000, 1, 1)
    db.session.query(LoginThrottle).filter(LoginThrottle.key.like("ip:%")).delete(synchronize_session=False)
    db.session.commit()
    assert login(client, "budi", PASSWORD).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(LoginThrottle).where(LoginThrottle.key == "login:budi|127.0.0.1")) is None


def test_delay_grows_with_each_further_failure(db):
    keys = throttle_keys("siti", "10.0.0.1")
    now = dt.datetime(2025, 1, 1, 8, 0)
    waits = []
    for _i in range(FREE_FAILURES + 3):
        record_login_failure(db.session, keys, now=now)
        waits.append(login_wait_seconds(db.session, keys, now=now))
    assert waits[: FREE_FAILURES - 1] == [0] * (FREE_FAILURES - 1)
    assert waits[FREE_FAILURES - 1] > 0
    assert waits[-1] > waits[-2] > waits[-3]
    assert waits[-1] <= 15 * 60 + 1


def test_unknown_user_names_are_throttled_too(db, client, no_csrf):
    for _ in range(FREE_FAILURES):
        login(client, "tidakada", "salah-salah")
    assert login(client, "tidakada", "salah-salah").status_code == 429


def test_one_address_trying_many_names_is_slowed_down(db, client, no_csrf):
    from skm.accounts import IP_FREE_FAILURES

    for i in range(IP_FREE_FAILURES):
        assert login(client, f"nama{i}", "salah-salah").status_code == 200
    assert login(client, "nama-baru", "salah-salah").status_code == 429


def test_change_own_password(db, client, no_csrf):
    make_user(db.session, "ani", "manager")
    db.session.commit()
    login(client, "ani")
    wrong = client.post("/admin/password", data={"current": "keliru-123", "new": "baru-sekali-1", "confirm": "baru-sekali-1"})
    assert wrong.status_code == 200 and "Kata sandi lama salah" in wrong.get_data(as_text=True)
    short = client.post("/admin/password", data={"current": PASSWORD, "new": "pendek", "confirm": "pendek"})
    assert "minimal 10" in short.get_data(as_text=True)
    mismatch = client.post("/admin/password", data={"current": PASSWORD, "new": "baru-sekali-1", "confirm": "baru-sekali-2"})
    assert "tidak sama" in mismatch.get_data(as_text=True)
    ok = client.post("/admin/password", data={"current": PASSWORD, "new": "baru-sekali-1", "confirm": "baru-sekali-1"})
    assert ok.status_code == 302
    assert client.get("/admin/").status_code == 200  # this session stays valid
    client.post("/admin/logout")
    assert login(client, "ani", PASSWORD).status_code == 200
    assert login(client, "ani", "baru-sekali-1").status_code == 302


def test_password_reset_by_admin_ends_other_sessions(app, db, no_csrf):
    make_user(db.session, "admin", "admin")
    make_user(db.session, "ani", "manager")
    db.session.commit()
    ani = app.test_client()
    login(ani, "ani")
    assert ani.get("/admin/").status_code == 200
    _switch_client()
    boss = app.test_client()
    login(boss, "admin")
    user = db.session.scalar(select(User).where(User.username == "ani"))
    r = boss.post(f"/admin/accounts/{user.id}", data={"action": "reset", "password": "sandi-baru-9", "confirm": "sandi-baru-9"})
    assert r.status_code == 302
    _switch_client()
    expired = ani.get("/admin/")
    assert expired.status_code == 302 and "/admin/login" in expired.headers["Location"]


def test_session_expires_after_idle_time(app, db, client, no_csrf):
    make_user(db.session)
    db.session.commit()
    login(client)
    assert client.get("/admin/").status_code == 200
    with client.session_transaction() as sess:
        sess["seen_at"] = time.time() - 31 * 60
    response = client.get("/admin/units")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert client.get("/admin/").status_code == 302  # really logged out


def test_session_has_an_absolute_lifetime(app, db, client, no_csrf):
    make_user(db.session)
    db.session.commit()
    login(client)
    with client.session_transaction() as sess:
        sess["login_at"] = time.time() - app.permanent_session_lifetime.total_seconds() - 5
    assert client.get("/admin/").status_code == 302


def _switch_client():
    """The db fixture keeps one app context for the whole test, so Flask-Login's cached
    user in `g` would carry over from one test client to the next; a server does not."""
    from flask import g

    g.pop("_login_user", None)


def test_admin_creates_disables_and_assigns_accounts(db, client, no_csrf):
    make_user(db.session)
    unit = make_unit(db.session)
    db.session.commit()
    login(client)
    dewi_browser = client.application.test_client()
    bad = client.post("/admin/accounts/new", data={"username": "x", "role": "raja", "password": "rahasia-123",
                                                   "confirm": "rahasia-123"})
    assert bad.status_code == 200 and "Peran harus" in bad.get_data(as_text=True)
    r = client.post("/admin/accounts/new", data={"username": "Dewi", "role": "operator", "password": "rahasia-123",
                                                 "confirm": "rahasia-123", "units": [str(unit.id)]})
    assert r.status_code == 302
    dewi = db.session.scalar(select(User).where(User.username == "dewi"))
    assert dewi.role == "operator" and [u.id for u in dewi.units] == [unit.id]
    assert dewi.password_hash.startswith("scrypt:")
    dup = client.post("/admin/accounts/new", data={"username": "dewi", "role": "operator", "password": "rahasia-123",
                                                   "confirm": "rahasia-123"})
    assert "sudah ada" in dup.get_data(as_text=True)
    login(dewi_browser, "dewi")
    assert dewi_browser.get(f"/admin/units/{unit.id}/pin").status_code == 200
    _switch_client()
    # disable: Dewi can no longer log in, and her open session ends
    client.post(f"/admin/accounts/{dewi.id}", data={"action": "save", "role": "manager"})
    db.session.expire_all()
    assert dewi.active is False and dewi.role == "manager" and dewi.units == []
    other = client.application.test_client()
    assert login(other, "dewi").status_code == 200
    _switch_client()
    assert dewi_browser.get(f"/admin/units/{unit.id}/pin").status_code == 302


def test_admin_cannot_lock_themselves_out(db, client, no_csrf):
    admin = make_user(db.session)
    db.session.commit()
    login(client)
    r = client.post(f"/admin/accounts/{admin.id}", data={"action": "save", "role": "manager", "active": "1"})
    assert r.status_code == 200 and "tidak dapat" in r.get_data(as_text=True)
    db.session.expire_all()
    assert admin.role == "admin" and admin.active


def test_stale_throttle_rows_are_forgotten(db):
    old = dt.datetime(2025, 1, 1, 8, 0)
    record_login_failure(db.session, throttle_keys("lama", "10.0.0.9"), now=old)
    record_login_failure(db.session, throttle_keys("baru", None), now=old + dt.timedelta(days=2))
    keys = sorted(db.session.scalars(select(LoginThrottle.key)))
    assert keys == ["login:baru|-"]
