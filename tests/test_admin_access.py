"""Access control over every admin URL, unit isolation and CSRF on every form.

The walk reads app.url_map, so a route added later is covered automatically; a route
with a URL parameter this file does not know fails loudly instead of being skipped.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from admin.moved import MOVED
from skm.survey.unit_settings import store_logo
from tests.admin_fixtures import add_followup, build_world, tiny_png
from tests.factories import PASSWORD, login

PUBLIC = {"admin.login"}
LOGIN_ONLY = {"admin.logout", "admin.index"}  # any signed-in role
SKIP_IN_WALK = {"admin.logout", "admin.end_own_sessions"}  # would end the session mid-walk; tested on their own
# Dashboard pages also answer at their old address without a unit (/admin/results?unit=…),
# which only redirects to /admin/units/<id>/…; so do the old addresses in admin/moved.py.
# Both are tested in test_old_unit_addresses_redirect_permanently.
DASHBOARD = re.compile(r"^admin\.(results.*|alerts)$")


def _is_old_address(rule) -> bool:
    return rule.redirect_to is not None or (bool(DASHBOARD.match(rule.endpoint)) and "unit_id" not in rule.arguments)


def _admin_rules(app):
    # Deleting routes go last so that the objects they remove are still there for the others.
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.") and not _is_old_address(r)),
                  key=lambda r: ("delete" in r.endpoint, "action_delete" in r.endpoint, r.rule))


def _values(world, side: str) -> dict:
    own = side == "own"
    return {
        "unit_id": (world.unit_a if own else world.unit_b).id,
        "service_id": (world.service_a if own else world.service_b).id,
        "period_id": world.period.id,
        "user_id": world.operator.id,
        "response_id": world.response_a if own else world.response_b,
        "device_id": world.device_a if own else world.device_b,
        "filename": "x.png",
        "kind": "responden.xlsx",
        "size": "thumb",
        **(world.followup_a if own else world.followup_b),
        "job_id": world.job_a if own else world.job_b,  # report jobs (issue 7)
        # QR & tiket survei (issue 15)
        "paper": "a5",
        "batch": world.batch_a if own else world.batch_b,
        "ticket_id": world.ticket_a if own else world.ticket_b,
    }


def _url(app, rule, world, side: str) -> str:
    values = _values(world, side)
    unknown = [a for a in rule.arguments if a not in values]
    if unknown:
        pytest.fail(f"{rule.endpoint}: add a value for URL parameter(s) {unknown} to the access walk")
    with app.test_request_context():
        from flask import url_for

        url = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
    if DASHBOARD.match(rule.endpoint):
        url += f"?period={world.period.id}"
    return url


def _has_unit(rule) -> bool:
    unit_objects = {"unit_id", "device_id", "response_id", "plan_id", "priority_id", "action_id", "photo_id",
                    "job_id", "ticket_id"}
    return bool(unit_objects & set(rule.arguments))


def _call(client, rule, url):
    if "GET" in rule.methods:
        return client.get(url)
    return client.post(url, data={})


@pytest.fixture
def world(app, db, no_csrf):
    w = build_world(db.session)
    for unit in (w.unit_a, w.unit_b):
        store_logo(db.session, unit, tiny_png(), app.config["UPLOAD_FOLDER"])
    add_followup(db.session, w, app.config["UPLOAD_FOLDER"])
    from skm.models import ReportJob

    jobs = [ReportJob(unit_id=u.id, period_id=w.period.id, kind="laporan", filename="x.pdf")
            for u in (w.unit_a, w.unit_b)]
    db.session.add_all(jobs)
    db.session.flush()
    w.job_a, w.job_b = jobs[0].id, jobs[1].id
    from skm.online.ticket_admin import print_batch

    batches = [print_batch(db.session, u, None, 2) for u in (w.unit_a, w.unit_b)]
    w.batch_a, w.batch_b = batches[0][0].batch, batches[1][0].batch
    w.ticket_a, w.ticket_b = batches[0][0].id, batches[1][0].id
    db.session.commit()
    return w


def test_every_admin_route_declares_its_roles(app):
    missing = []
    for rule in _admin_rules(app):
        view = app.view_functions[rule.endpoint]
        if rule.endpoint not in PUBLIC | LOGIN_ONLY and not getattr(view, "allowed_roles", None):
            missing.append(rule.endpoint)
    assert missing == [], f"admin routes without roles_required: {missing}"


def test_anonymous_users_are_sent_to_login_everywhere(app, world, client):
    rules = _admin_rules(app)
    assert len(rules) >= 20
    for rule in rules:
        url = _url(app, rule, world, "own")
        response = _call(client, rule, url)
        if rule.endpoint in PUBLIC:
            assert response.status_code == 200, url
        else:
            assert response.status_code == 302, (url, response.status_code)
            assert "/admin/login" in response.headers["Location"], url


@pytest.mark.parametrize("role", ["admin", "manager", "operator"])
def test_role_walk_over_every_admin_url(app, world, client, role):
    username = {"admin": "admin", "manager": "manajer", "operator": "operator"}[role]
    assert login(client, username).status_code == 302
    checked = 0
    for rule in _admin_rules(app):
        if rule.endpoint in SKIP_IN_WALK or rule.endpoint in PUBLIC:
            continue
        allowed = getattr(app.view_functions[rule.endpoint], "allowed_roles", ("admin", "manager", "operator"))
        for side in ("own", "other"):
            if side == "other" and not _has_unit(rule):
                continue
            url = _url(app, rule, world, side)
            response = _call(client, rule, url)
            status = response.status_code
            assert status < 500, (role, url, status)
            if role not in allowed:
                assert status == 403, (role, url, status)
            elif side == "other" and role != "admin":
                # unit B's pages, whatever URL a user of unit A types
                assert status == 403, (role, url, status)
            else:
                assert status in (200, 302), (role, url, status)
            checked += 1
    assert checked >= 20


def test_logout_requires_post_and_ends_session(world, client):
    login(client, "manajer")
    assert client.get("/admin/logout").status_code == 405
    assert client.post("/admin/logout").status_code == 302
    assert client.get("/admin/results").status_code == 302


def test_unit_isolation_in_lists_and_actions(db, world, client):
    login(client, "manajer")
    home = client.get("/admin/").get_data(as_text=True)
    assert "Unit A" in home and "Unit B" not in home
    page = client.get(f"/admin/periods/{world.period.id}").get_data(as_text=True)
    assert "UA – Unit A" in page and "Unit B" not in page
    results = client.get("/admin/results", follow_redirects=True).get_data(as_text=True)
    assert "Unit B" not in results
    # a forged form naming unit B's response while on unit A changes nothing
    client.post(f"/admin/units/{world.unit_a.id}/results/flagged?period={world.period.id}",
                data={"response": [str(world.response_b)], "action": "exclude"})
    from skm.models import Response

    db.session.expire_all()
    assert db.session.get(Response, world.response_b).excluded is False
    assert client.post(f"/admin/periods/{world.period.id}/units/{world.unit_b.id}/close").status_code == 403
    # the manager of unit B sees B and not A
    client.post("/admin/logout")
    login(client, "manajerb")
    assert client.get(f"/admin/units/{world.unit_a.id}/results").status_code == 403
    assert client.get(f"/admin/units/{world.unit_b.id}/results").status_code == 200


# Rules with a unit_id that are not under /admin/units/<unit_id>/: a period's actions for
# one unit, listed on the period page.
PERIOD_UNIT_ACTIONS = {"admin.period_population", "admin.period_close", "admin.period_reopen"}


def test_every_unit_page_lives_under_units(app):
    outside = [r.rule for r in _admin_rules(app)
               if "unit_id" in r.arguments and not r.rule.startswith("/admin/units/<int:unit_id>")
               and r.endpoint not in PERIOD_UNIT_ACTIONS]
    assert outside == []


@pytest.mark.parametrize(("old", "endpoint"), MOVED)
def test_old_unit_addresses_redirect_permanently(app, world, client, old, endpoint):
    values = {"unit_id": world.unit_a.id, "period_id": world.period.id, "kind": "hasil.xlsx"}
    old_url = "/admin" + re.sub(r"<(?:[^>:]+:)?([^>]+)>", lambda m: str(values[m.group(1)]), old)
    with app.test_request_context():
        from flask import url_for

        new_url = url_for(endpoint, **{k: v for k, v in values.items() if f"{k}>" in old})
    assert new_url.startswith(f"/admin/units/{world.unit_a.id}/")
    for method in ("GET", "POST"):  # anonymous: the redirect reveals nothing and keeps method and query
        response = client.open(old_url + "?periode=3&x=a%20b", method=method)
        assert response.status_code == 308, (old_url, method)
        assert response.headers["Location"].endswith(new_url + "?periode=3&x=a%20b")
    assert client.get(old_url).headers["Location"].endswith(new_url)


@pytest.mark.parametrize("page", ["results", "results/sheet", "results/suggestions", "results/trend",
                                  "results/compare", "results/heatmap", "results/flagged", "alerts"])
def test_old_dashboard_addresses_redirect_to_the_units_page(world, client, page):
    a, b, period = world.unit_a.id, world.unit_b.id, world.period.id
    login(client, "manajer")
    r = client.get(f"/admin/{page}?unit={a}&period={period}&q=x")
    assert r.status_code == 301 and r.headers["Location"] == f"/admin/units/{a}/{page}?period={period}&q=x"
    r = client.get(f"/admin/{page}?period={period}")  # the menu link: the user's first unit, not permanent
    assert r.status_code == 302 and r.headers["Location"] == f"/admin/units/{a}/{page}?period={period}"
    assert client.get(f"/admin/{page}?unit={b}").status_code == 403  # another unit's id
    assert client.get(f"/admin/units/{a}/{page}?period={period}").status_code == 200


def test_old_flagged_form_post_keeps_its_method(world, client):
    login(client, "manajer")
    r = client.post(f"/admin/results/flagged?unit={world.unit_a.id}&period={world.period.id}",
                    data={"response": [str(world.response_a)], "action": "exclude"})
    assert r.status_code == 308
    assert r.headers["Location"] == f"/admin/units/{world.unit_a.id}/results/flagged?period={world.period.id}"


@pytest.mark.parametrize(("menu", "page"), [("entry/", "entry"), ("data/", "data"), ("rtl/", "rtl"),
                                            ("laporan", "laporan"), ("devices/", "devices")])
def test_menu_entries_share_one_unit_picker(world, client, menu, page):
    login(client, "admin")  # two units: pick one
    html = client.get(f"/admin/{menu}").get_data(as_text=True)
    assert "Pilih unit pelayanan" in html
    for unit in (world.unit_a, world.unit_b):
        assert f'href="/admin/units/{unit.id}/{page}"' in html and f"<strong>{unit.code}</strong>" in html
    if menu != "devices/":  # the tablet pages are the admin's only
        client.post("/admin/logout")
        login(client, "manajer")  # one unit: straight to it
        assert client.get(f"/admin/{menu}").headers["Location"] == f"/admin/units/{world.unit_a.id}/{page}"


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []  # [method, has_token, action]
        self._open = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._open = [attrs.get("method", "get").lower(), False, attrs.get("action", "")]
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and attrs.get("name") == "csrf_token" and attrs.get("value"):
            self._open[1] = True

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def test_every_post_form_on_every_admin_page_carries_a_csrf_token(app, world, client):
    app.config["WTF_CSRF_ENABLED"] = True
    assert login(client, "admin").status_code == 302
    post_forms = 0
    for rule in _admin_rules(app):
        if "GET" not in rule.methods or rule.endpoint in SKIP_IN_WALK:
            continue
        response = client.get(_url(app, rule, world, "own"))
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        parser = _Forms()
        parser.feed(response.get_data(as_text=True))
        for method, has_token, action in parser.forms:
            if method == "post":
                post_forms += 1
                assert has_token, (rule.rule, action)
    assert post_forms >= 15


def test_every_post_route_refuses_a_missing_csrf_token(app, world, client):
    app.config["WTF_CSRF_ENABLED"] = True
    assert login(client, "admin").status_code == 302
    refused = 0
    for rule in _admin_rules(app):
        if "POST" not in rule.methods:
            continue
        response = client.post(_url(app, rule, world, "own"), data={"username": "admin", "password": PASSWORD})
        assert response.status_code == 400, rule.rule
        assert "kedaluwarsa" in response.get_data(as_text=True)
        refused += 1
    assert refused >= 12
