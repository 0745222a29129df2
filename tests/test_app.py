import os

import pytest

from skm import create_app
from tests.factories import login, make_user


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("SKM_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SKM_SECRET_KEY", raising=False)
    cfg = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    first = create_app(cfg).config["SECRET_KEY"]
    second = create_app(cfg).config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert oct(os.stat(tmp_path / "secret_key").st_mode & 0o777) == "0o600"


def test_security_headers_and_vary(client):
    response = client.get("/admin/login")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "HX-Request" in response.headers["Vary"]
    assert "Masuk" in response.get_data(as_text=True)


def test_login_and_wrong_password(db, client):
    make_user(db.session)
    db.session.commit()
    bad = login(client, password="salah-sekali")
    assert "Nama pengguna atau kata sandi salah" in bad.get_data(as_text=True)
    good = login(client)
    assert good.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_admin_requires_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_login_without_csrf_token_is_refused(db, client):
    make_user(db.session)
    db.session.commit()
    response = client.post("/admin/login", data={"username": "admin", "password": "rahasia-123"})
    assert response.status_code == 400
    assert "kedaluwarsa" in response.get_data(as_text=True)


def test_htmx_vendored_with_version_in_name(app):
    path = os.path.join(app.static_folder, "js", "htmx-2.0.8.min.js")
    assert os.path.getsize(path) > 10000
    with open(path) as fh:
        assert 'version:"2.0.8"' in fh.read().replace(" ", "")


@pytest.mark.parametrize(("headers", "fragment"), [
    ({}, False),
    ({"HX-Request": "true"}, True),
    ({"HX-Request": "true", "HX-Boosted": "true"}, False),  # a boosted link wants the page
    ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False),  # htmx 2 history miss
])
def test_fragments_only_for_plain_htmx_requests(db, client, headers, fragment):
    html = client.get("/kiosk/", headers=headers).get_data(as_text=True)
    assert ("<html" not in html) is fragment
    assert 'id="screen"' in html
