"""Hostile input and production settings: random forms everywhere, cookies, CSP, route walk."""
from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from skm import create_app
from skm.models import Answer, Response
from skm.web import CSP
from tests.factories import login
from tests.kiosk_helpers import pair_tablet
from tests.test_admin_access import _admin_rules, _url, world  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent
NASTY = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "0", "-1", "1e9", "99999999999999999999", "4", "5", "abc", "\x00", "' OR 1=1 --",
                     "<script>alert(1)</script>", "../../etc/passwd", "2023-02-30", "31/12/2023", "NaN", "x" * 5000]),
)
FIELDS = st.sampled_from(["value", "code", "pin", "name", "username", "password", "unit", "unit_id", "service_id",
                          "period", "rating", "ratings", "survey_date", "date", "age", "gender", "action",
                          "response", "skip", "start_date", "end_date", "population", "role", "text", "q"])
PAYLOADS = st.dictionaries(st.one_of(FIELDS, st.text(min_size=1, max_size=10)), NASTY, max_size=6)


def _counts(db):
    db.session.rollback()
    return (db.session.scalar(select(func.count()).select_from(Response)),
            db.session.scalar(select(func.count()).select_from(Answer)))


@settings(max_examples=6, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def _post_random(client, url, data):
    payload = data.draw(PAYLOADS)
    response = client.post(url, data=payload, headers=data.draw(st.sampled_from([{}, {"HX-Request": "true"}])))
    assert response.status_code < 500, (url, payload, response.status_code)


def test_random_forms_to_every_admin_and_kiosk_post_endpoint(app, db, world, client):  # noqa: F811
    """Logged in as admin (CSRF off for this test): no 500 anywhere, and no response or answer
    is ever stored from random input."""
    assert login(client, "admin").status_code == 302
    tablet = pair_tablet(app, db, world.unit_a, client=client)
    tablet.start()
    token = tablet.token
    before = _counts(db)
    posted = 0
    kiosk_values = {"token": token, "step": "el-U1", "action": "service", "code": "ABCD-1234"}
    for rule in _admin_rules(app) + [r for r in app.url_map.iter_rules() if r.endpoint.startswith("kiosk.")]:
        if "POST" not in rule.methods or rule.endpoint in ("admin.logout", "admin.end_own_sessions"):
            continue
        if rule.endpoint.startswith("kiosk."):
            with app.test_request_context():
                from flask import url_for

                url = url_for(rule.endpoint, **{a: kiosk_values[a] for a in rule.arguments})
        else:
            url = _url(app, rule, world, "own")
        _post_random(client, url)
        posted += 1
    assert posted >= 20
    assert _counts(db)[0] <= before[0] and _counts(db)[1] <= before[1]


def test_oversized_request_is_refused_cleanly(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/admin/login", data={"username": "x" * 4096})
    assert response.status_code == 413 and "terlalu besar" in response.get_data(as_text=True)


def test_production_cookie_and_size_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("SKM_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SKM_SECURE_COOKIES", raising=False)
    cfg = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "k"}
    app = create_app(cfg)
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert 0 < app.config["MAX_CONTENT_LENGTH"] <= 32 * 1024 * 1024
    # The session cookie as sent: HttpOnly, SameSite=Lax, Secure.
    with app.app_context():
        from skm.extensions import db

        db.create_all()
    page = app.test_client().get("/admin/login", base_url="https://skm.example")
    cookie = page.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    for off in ("false", "0"):  # the documented switch for plain-HTTP LAN installs
        monkeypatch.setenv("SKM_SECURE_COOKIES", off)
        assert create_app(cfg).config["SESSION_COOKIE_SECURE"] is False


def test_csp_allows_only_own_scripts():
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe" not in directives["script-src"] and "default-src" in directives
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


def test_templates_have_no_inline_script_or_event_handlers():
    """CSP is script-src 'self': inline <script> and on*= handlers would be blocked."""
    bad = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        for m in re.finditer(r"<script\b[^>]*>", text, re.I):
            if "src=" not in m.group(0):
                bad.append((path.name, m.group(0)))
        for m in re.finditer(r"<[a-z][^>]*\son[a-z]+\s*=", text, re.I):
            bad.append((path.name, m.group(0)[:60]))
        if re.search(r"(href|src|action)\s*=\s*[\"']\s*javascript:", text, re.I):
            bad.append((path.name, "javascript: URL"))
    assert bad == []
    # htmx must not eval: hx-on attributes and js: / javascript: in hx-vals would need it.
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"hx-on[:-]", text), path.name
        assert not re.search(r"hx-vals\s*=\s*[\"']\s*(js|javascript):", text), path.name


def test_anonymous_reaches_only_login_pairing_and_paired_kiosk(app, db, client):
    """Every non-admin route without a kiosk cookie: the pairing screen (or 404), never data."""
    from tests.factories import make_unit

    make_unit(db.session, "UJI")
    db.session.commit()
    values = {"token": "x" * 32, "step": "el-U1", "action": "pause", "code": "ABCD1234", "filename": "js/kiosk.js",
              "period_id": 1, "photo_id": 1, "size": "thumb", "kind": "png"}
    allowed = {"static", "root", "kiosk.index", "kiosk.pair_link", "kiosk.pair"}
    seen = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            continue  # test_admin_access walks those
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={})
            seen += 1
            if rule.endpoint == "root":
                assert response.status_code == 302 and "/admin/" in response.headers["Location"]
            elif rule.endpoint in allowed:
                assert response.status_code in (200, 303, 400, 403), (url, response.status_code)
            elif rule.endpoint == "kiosk.logo":
                assert response.status_code == 404
            elif rule.endpoint == "display.public_index":
                # the public results page: nothing is published yet (tests/test_publication.py walks it)
                assert response.status_code == 200 and "Belum ada hasil survei yang dipublikasikan" in \
                    response.get_data(as_text=True)
            elif rule.endpoint.startswith("display.public_"):
                assert response.status_code == 404, (url, method, response.status_code)
            elif rule.endpoint == "qr.survey_qr":
                # the public survey's QR (issue 15): an address, no data; unknown unit -> 404
                assert response.status_code == 404
                assert client.get("/survei/UJI/qr.png").mimetype == "image/png"
            elif rule.endpoint == "display.poster_public":
                # the lobby poster is public only for a unit that shows its IKM
                assert response.status_code == 404
                assert client.get("/papan/UJI").status_code == 404  # kiosk_show_ikm is off
            elif rule.endpoint.startswith("online."):
                # the public online survey: its own screens for an unknown unit, survey or
                # ticket (404), the code form, or a refused form post (400); never data
                assert response.status_code in (200, 400, 404), (url, method, response.status_code)
                assert response.headers.get("X-Kiosk") in ("notice", "ticket"), (url, method)
            else:
                # a paired-kiosk route: the pairing screen, nothing else
                assert response.headers.get("X-Kiosk") == "pair", (url, method, response.status_code)
                assert response.status_code in (200, 403)
    assert seen >= 8
