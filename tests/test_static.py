"""Issue 14, static files: content-hashed names cached for good, gzip copies, plain names
still served briefly (skm.static_files)."""
from __future__ import annotations

import gzip
import os
import re
import threading
import time
from pathlib import Path

import pytest

from skm import create_app
from skm import static_files as S
from tests.factories import make_unit
from tests.kiosk_helpers import pair_tablet

VERSIONED = re.compile(r'(?:src|href)="(/static/([^"]+)\.([0-9a-f]{12})(\.[a-z]+))"')


def _source(app, url: str) -> bytes:
    """The static folder's bytes behind a versioned URL."""
    match = re.fullmatch(r"/static/(.+)\.[0-9a-f]{12}(\.[a-z]+)", url)
    assert match, url
    return Path(app.static_folder, match.group(1) + match.group(2)).read_bytes()


def _max_age(response) -> int:
    return int(re.search(r"max-age=(\d+)", response.headers["Cache-Control"]).group(1))


def test_kiosk_page_links_versioned_names_cached_for_good_and_gzipped(app, db):
    tablet = pair_tablet(app, db, make_unit(db.session))
    html = tablet.home(htmx=False).get_data(as_text=True)
    urls = [m.group(1) for m in VERSIONED.finditer(html)]
    assert {re.sub(r"\.[0-9a-f]{12}", "", u) for u in urls} == {
        "/static/css/kiosk.css", "/static/js/htmx-2.0.8.min.js", "/static/js/kiosk.js"}
    assert not re.search(r'(?:src|href)="/static/[^"]*(?<!\.[0-9a-f]{12})\.(?:css|js)"', html)
    client = app.test_client()
    for url in urls:
        source = _source(app, url)
        packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert packed.status_code == 200
        assert "immutable" in packed.headers["Cache-Control"] and _max_age(packed) >= 365 * 24 * 3600
        assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
        assert len(packed.data) < len(source) / 2 and gzip.decompress(packed.data) == source
        plain = client.get(url)  # a client that does not take gzip gets the file itself
        assert "Content-Encoding" not in plain.headers and plain.data == source
        assert plain.headers["X-Content-Type-Options"] == "nosniff"
        again = client.get(url, headers={"If-None-Match": plain.headers["ETag"]})
        assert again.status_code == 304 and not again.data


def test_admin_pages_link_versioned_names(app, client):
    html = client.get("/admin/login").get_data(as_text=True)
    names = {m.group(2) + m.group(4) for m in VERSIONED.finditer(html)}
    assert {"css/admin.css", "js/htmx-2.0.8.min.js", "favicon.svg"} <= names
    assert "/static/css/admin.css" not in html


def test_plain_names_still_served_with_short_caching_and_security_headers(app, client):
    source = Path(app.static_folder, "css", "kiosk.css").read_bytes()
    response = client.get("/static/css/kiosk.css", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and gzip.decompress(response.data) == source
    assert "immutable" not in response.headers["Cache-Control"]
    assert _max_age(response) == S.UNVERSIONED_MAX_AGE
    # WhiteNoise answers before Flask: the same security headers as every other response.
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_static_files_carry_hsts_over_https(tmp_path, monkeypatch, static_build):
    monkeypatch.setenv("SKM_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SECRET_KEY": "k", "SECURE_COOKIES": True, "STATIC_BUILD_FOLDER": str(static_build),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    response = app.test_client().get("/static/favicon.svg")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_unknown_static_file_is_the_indonesian_404(client):
    response = client.get("/static/css/tidak-ada.1234567890ab.css")
    assert response.status_code == 404 and "Halaman tidak ditemukan" in response.get_data(as_text=True)
    assert client.get("/static/../skm/__init__.py").status_code == 404


def test_versioning_off_gives_plain_names_served_by_flask(tmp_path, monkeypatch):
    monkeypatch.setenv("SKM_INSTANCE_PATH", str(tmp_path))
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SECURE_COOKIES": False, "STATIC_VERSIONING": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    html = app.test_client().get("/admin/login").get_data(as_text=True)
    assert 'href="/static/css/admin.css"' in html
    assert not (tmp_path / "static-build").exists()


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_name_follows_content_and_old_copies_stay_for_old_pages(tmp_path):
    static, build = tmp_path / "static", tmp_path / "build"
    (static / "css").mkdir(parents=True)
    (static / "css" / "a.css").write_text("body { color: red; }\n" * 50)
    (static / "img.png").write_bytes(b"\x89PNG not really")
    (static / ".hidden").write_text("x")
    first = S.build(static, build)
    assert set(first) == {"css/a.css", "img.png"}
    digest = first["css/a.css"].split(".")[1]
    assert digest == S._digest((static / "css" / "a.css").read_bytes()) and len(digest) == 12
    tree = _tree(build)
    assert set(tree) == {first["css/a.css"], first["css/a.css"] + ".gz", first["img.png"]}  # no gzip of a png
    assert gzip.decompress(tree[first["css/a.css"] + ".gz"]) == (static / "css" / "a.css").read_bytes()

    assert S.build(static, build) == first and _tree(build) == tree  # same bytes, same names, same files

    (static / "css" / "a.css").write_text("body { color: blue; }\n" * 50)
    second = S.build(static, build)
    assert second["css/a.css"] != first["css/a.css"] and second["img.png"] == first["img.png"]
    assert (build / second["css/a.css"]).read_text().startswith("body { color: blue; }")
    assert (build / first["css/a.css"]).is_file()  # an old page may still ask for it

    week_ago = time.time() - S.KEEP_OLD_SECONDS - 60
    for name in (first["css/a.css"], first["css/a.css"] + ".gz"):
        os.utime(build / name, (week_ago, week_ago))
    (build / "css" / ".tmp-left-behind").write_text("x")
    os.utime(build / "css" / ".tmp-left-behind", (week_ago, week_ago))
    S.build(static, build)
    assert set(_tree(build)) == {second["css/a.css"], second["css/a.css"] + ".gz", second["img.png"]}


def test_workers_building_at_once_agree(tmp_path, monkeypatch):
    """gunicorn workers start together on a fresh install: same manifest, whole files."""
    static, build = tmp_path / "static", tmp_path / "build"
    static.mkdir()
    for i in range(20):
        (static / f"f{i}.js").write_text(f"console.log({i});\n" * 2000)
    monkeypatch.setattr(S, "_digests", {})
    results, errors = [], []

    def worker():
        try:
            results.append(S.build(static, build))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4 and all(r == results[0] for r in results)
    for name, versioned in results[0].items():
        assert (build / versioned).read_bytes() == (static / name).read_bytes()
        assert gzip.decompress((build / (versioned + ".gz")).read_bytes()) == (static / name).read_bytes()
    assert not [p for p in build.rglob(".tmp-*")]


@pytest.mark.parametrize(("name", "expected"), [
    ("css/kiosk.css", "css/kiosk.0123456789ab.css"),
    ("js/htmx-2.0.8.min.js", "js/htmx-2.0.8.min.0123456789ab.js"),
    ("LICENSE", "LICENSE.0123456789ab"),
    ("a.b/c", "a.b/c.0123456789ab"),
])
def test_versioned_name(name, expected):
    assert S.versioned_name(name, "0123456789ab") == expected


@pytest.mark.browser
def test_kiosk_revisit_asks_the_server_for_no_static_file(app, db, page, live_server, artifacts):
    from tests.kiosk_browser_helpers import paired_kiosk

    asked: list[str] = []
    served = app.wsgi_app

    def counting(environ, start_response):
        if environ["PATH_INFO"].startswith("/static/"):
            asked.append(environ["PATH_INFO"])
        return served(environ, start_response)

    app.wsgi_app = counting
    paired_kiosk(app, db, page, live_server)
    assert len(asked) == 3 and all(re.search(r"\.[0-9a-f]{12}\.(css|js)$", u) for u in asked), asked
    # Styled and scripted: the stylesheet and htmx loaded under their versioned names.
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"
    assert page.evaluate("typeof htmx") == "object"
    asked.clear()
    revisit = page.context.new_page()
    revisit.goto(f"{live_server}/kiosk/")
    revisit.get_by_role("button", name="Sentuh untuk memulai").wait_for()
    assert revisit.evaluate("typeof htmx") == "object"
    os.makedirs(os.path.join(artifacts, "kiosk"), exist_ok=True)
    revisit.screenshot(path=os.path.join(artifacts, "kiosk", "static-revisit-1280x800.png"))
    assert asked == []
