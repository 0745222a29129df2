"""Static files under content-hashed names, gzip-compressed and cached for good (WhiteNoise).

At start-up every file of the static folder is hashed (SHA-256 of its bytes, 12 hex digits)
and copied once into the build folder under its versioned name, `css/kiosk.<hash>.css`, with
a gzip copy beside it (`css/kiosk.<hash>.css.gz`) for text files. `url_for('static',
filename='css/kiosk.css')` then gives `/static/css/kiosk.<hash>.css`, which WhiteNoise serves
from the build folder, gzip-encoded when the browser accepts it (`Vary: Accept-Encoding`), with
`Cache-Control: max-age=315360000, public, immutable`: a changed file gets a new name, so a
browser never has to ask for a name it already holds. The plain name (`/static/css/kiosk.css`:
pages cached before a deploy) is still served, from the same copy, with a short max-age.

The names depend on nothing but the files' bytes: gunicorn workers starting together compute
the same manifest and write the same bytes (each file to a private temporary name, then
renamed into place), with no shared memory or lock. Copies no current file needs are removed
after a week (an old page still open on a tablet may ask for them until then).

PDF templates name their resources `/static/...` literally (skm.reports.pdf resolves those
against the static folder itself); only the browser's URLs go through `url_for`.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

HASH_DIGITS = 12
# Text files get a gzip copy (images and fonts are compressed already or never sent to browsers).
COMPRESSIBLE = frozenset({".css", ".js", ".mjs", ".svg", ".json", ".map", ".txt", ".xml", ".html"})
# Served under their plain names (an old page's links): revalidated after a minute.
UNVERSIONED_MAX_AGE = 60
# A copy that no current file needs is kept this long for pages loaded before a deploy.
KEEP_OLD_SECONDS = 7 * 24 * 3600
TEMP_PREFIX = ".tmp-"

# (path, size, mtime) -> digest: an app created again in the same process (tests, CLI) does
# not read unchanged files again.
_digests: dict[tuple[str, int, int], str] = {}
# WhiteNoise's table {url: StaticFile} (headers and stat of each copy) for the same build, copies
# and headers: read-only once made, so apps created again in one process share it.
_tables: dict[tuple, dict] = {}


def versioned_name(name: str, digest: str) -> str:
    """`css/kiosk.css` -> `css/kiosk.<digest>.css` (the hash before the last extension)."""
    folder, slash, base = name.rpartition("/")
    stem, dot, extension = base.rpartition(".")
    if not stem:  # no extension (or a name like ".x")
        return f"{name}.{digest}"
    return f"{folder}{slash}{stem}.{digest}.{extension}"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:HASH_DIGITS]


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f"{TEMP_PREFIX}{target.name}.{os.getpid()}.{secrets.token_hex(4)}")
    with open(temp, "wb") as fh:
        fh.write(data)
    os.replace(temp, target)


def _source_files(static_dir: Path):
    for path in sorted(static_dir.rglob("*")):
        name = path.relative_to(static_dir).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in name.split("/")):
            yield name, path


def _compressible(target: Path) -> bool:
    return target.suffix.lower() in COMPRESSIBLE


def _gzip_path(target: Path) -> Path:
    return target.with_name(target.name + ".gz")


def _complete(target: Path) -> bool:
    return target.is_file() and (not _compressible(target) or _gzip_path(target).is_file())


def build(static_dir: Path, build_dir: Path) -> dict[str, str]:
    """The manifest {name: versioned name} of every file under static_dir, each versioned
    copy (and its .gz) written into build_dir when it is not there yet."""
    manifest: dict[str, str] = {}
    for name, path in _source_files(static_dir):
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        digest = _digests.get(key)
        if digest is None or not _complete(build_dir / versioned_name(name, digest)):
            # The bytes hashed are the bytes copied, even if the file changes meanwhile.
            data = path.read_bytes()
            digest = _digests[key] = _digest(data)
            target = build_dir / versioned_name(name, digest)
            if not target.is_file():
                _write_atomic(target, data)
            if _compressible(target) and not _gzip_path(target).is_file():
                _write_atomic(_gzip_path(target), gzip.compress(data, compresslevel=9, mtime=0))
        manifest[name] = versioned_name(name, digest)
    _prune(build_dir, manifest)
    return manifest


def _prune(build_dir: Path, manifest: dict[str, str]) -> None:
    """Remove copies no current file needs once older than KEEP_OLD_SECONDS, and temporary
    files a killed process left behind (after an hour)."""
    keep = set(manifest.values())
    keep |= {name + ".gz" for name in keep}
    now = time.time()
    for path in build_dir.rglob("*"):
        name = path.relative_to(build_dir).as_posix()
        if not path.is_file() or name in keep:
            continue
        limit = 3600 if path.name.startswith(TEMP_PREFIX) else KEEP_OLD_SECONDS
        try:
            if now - path.stat().st_mtime > limit:
                path.unlink()
        except OSError:  # another worker removed it first, or it is not ours to remove
            pass


def install(app: Flask) -> None:
    """Serve the static folder through WhiteNoise under versioned names, and make
    `url_for('static', ...)` give those names. Off with STATIC_VERSIONING=False (the
    default in debug mode, where files change while the server runs): Flask serves them."""
    from whitenoise import WhiteNoise

    from skm.web import security_headers

    if not app.config.get("STATIC_VERSIONING", not app.debug):
        return
    assert app.static_folder is not None  # create_app() sets it
    build_dir = Path(app.config.get("STATIC_BUILD_FOLDER") or Path(app.instance_path) / "static-build")
    manifest = build(Path(app.static_folder), build_dir)
    prefix = (app.static_url_path or "/static").rstrip("/") + "/"
    versioned_urls = {prefix + versioned for versioned in manifest.values()}
    extra_headers = security_headers(bool(app.config.get("SESSION_COOKIE_SECURE")))

    def add_headers(headers, path, url):
        # These responses never reach Flask's after_request: the same security headers here.
        for header, value in extra_headers.items():
            headers[header] = value

    server = WhiteNoise(
        app.wsgi_app,
        max_age=UNVERSIONED_MAX_AGE,
        allow_all_origins=False,
        add_headers_function=add_headers,
        immutable_file_test=lambda path, url: url in versioned_urls,
    )
    key = (str(build_dir), prefix, tuple(manifest.items()), tuple(extra_headers.items()))
    if key in _tables:
        server.files = _tables[key]
    else:
        for name, versioned in manifest.items():
            copy = str(build_dir / versioned)
            server.add_file_to_dictionary(prefix + versioned, copy)
            server.add_file_to_dictionary(prefix + name, copy)
        _tables[key] = server.files
    app.wsgi_app = server  # type: ignore[method-assign]
    app.extensions["skm_static_manifest"] = manifest

    @app.url_defaults
    def _versioned(endpoint, values):
        if endpoint == "static" and "filename" in values:
            values["filename"] = manifest.get(values["filename"], values["filename"])
