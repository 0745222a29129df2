"""Static files (issue 14): the bytes of a tablet's first load of the kiosk, and what a revisit
and a reload ask of the server.

The production server (gunicorn with gunicorn.conf.py, 2 workers) runs twice on a fresh SQLite
instance with one paired tablet:
- "before": `SKM_STATIC_VERSIONING=false`, Flask serves /static/ as it did before issue 14
  (plain names, no compression, `Cache-Control: no-cache` with an ETag);
- "after": the default (skm.static_files: versioned names through WhiteNoise, gzip, immutable).
Headless Chromium (Playwright, Debian's /usr/bin/chromium) opens /kiosk/ as the tablet (first
visit, empty cache), then the same address in a new tab of the same browser (a revisit, e.g.
after the welcome screen's return), then reloads that tab (F5). Requests that reached the server
are counted from gunicorn's access log; bytes from the browser's own accounting
(`request.sizes()`: body bytes as sent on the wire, and the body after decoding).
Run: `.venv/bin/python -m bench bench_static`.
"""
from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
MODES = [("before (Flask, plain names)", "false"), ("after (WhiteNoise, versioned, gzip)", "true")]


def _static_requests(log: Path) -> list[str]:
    """'GET /static/... status' for each static request in gunicorn's access log."""
    time.sleep(0.5)  # let the workers write their lines
    return [f"{m.group(1)} {m.group(2)}" for m in
            re.finditer(r'"GET (/static/\S+) HTTP/[\d.]+" (\d{3})', log.read_text())]


def _visit(context, url):
    page = context.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(url)
    page.get_by_role("button", name="Sentuh untuk memulai").wait_for()
    page.wait_for_load_state("networkidle")
    return page, responses


def _bytes(responses) -> dict:
    total = {"html_wire": 0, "html_plain": 0, "static_wire": 0, "static_plain": 0, "headers": 0, "static": []}
    for response in responses:
        sizes = response.request.sizes()
        plain = len(response.body())
        wire = sizes["responseBodySize"]
        total["headers"] += sizes["responseHeadersSize"]
        if "/static/" in response.url:
            total["static_wire"] += wire
            total["static_plain"] += plain
            total["static"].append((response.url.split("/static/", 1)[1], plain, wire,
                                    response.headers.get("cache-control", ""),
                                    response.headers.get("content-encoding", "")))
        else:
            total["html_wire"] += wire
            total["html_plain"] += plain
    return total


def run_mode(versioning: str, playwright) -> dict:
    from bench.server import free_port, prepare_database, start_server, stop

    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        instance.mkdir()
        url = f"sqlite:///{instance / 'bench.sqlite3'}"
        [credential] = prepare_database(instance, url, 1)
        port = free_port()
        access = Path(tmp) / "access.log"
        with open(Path(tmp) / "server.log", "w") as log:
            server = start_server(instance, url, port, log, SKM_STATIC_VERSIONING=versioning,
                                  GUNICORN_CMD_ARGS=f"--access-logfile {access}")
            try:
                base = f"http://127.0.0.1:{port}"
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID")
                context.add_cookies([{"name": "skm_kiosk", "value": credential, "domain": "127.0.0.1",
                                      "path": "/kiosk"}])
                seen = len(_static_requests(access))  # start_server's own probe asked for none
                first, responses = _visit(context, f"{base}/kiosk/")
                first_load = _bytes(responses)
                after_first = _static_requests(access)
                revisit, _ = _visit(context, f"{base}/kiosk/")
                after_revisit = _static_requests(access)
                revisit.reload()
                revisit.get_by_role("button", name="Sentuh untuk memulai").wait_for()
                revisit.wait_for_load_state("networkidle")
                after_reload = _static_requests(access)
                browser.close()
            finally:
                stop(server)
    return {
        "first": first_load,
        "first_requests": after_first[seen:],
        "revisit_requests": after_revisit[len(after_first):],
        "reload_requests": after_reload[len(after_revisit):],
    }


def _kb(n: int) -> str:
    return f"{n / 1024:.1f} KB"


def main() -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        results = [(label, run_mode(versioning, playwright)) for label, versioning in MODES]
    print("| server | first load: HTML | static, decoded | static, on the wire | total on the wire "
          "| static requests: first / revisit / reload |")
    print("|---|---|---|---|---|---|")
    for label, r in results:
        f = r["first"]
        print(f"| {label} | {_kb(f['html_wire'])} | {_kb(f['static_plain'])} | {_kb(f['static_wire'])} "
              f"| {_kb(f['html_wire'] + f['static_wire'])} | {len(r['first_requests'])} / "
              f"{len(r['revisit_requests'])} / {len(r['reload_requests'])} |")
    for label, r in results:
        print(f"\n{label}:")
        for name, plain, wire, cache, encoding in r["first"]["static"]:
            print(f"  {name}: {plain} B decoded, {wire} B on the wire{' (' + encoding + ')' if encoding else ''}, "
                  f"Cache-Control: {cache or '-'}")
        print(f"  headers of all first-load responses: {r['first']['headers']} B")
        print(f"  revisit asked the server: {r['revisit_requests'] or 'nothing under /static/'}")
        print(f"  reload asked the server: {r['reload_requests'] or 'nothing under /static/'}")


if __name__ == "__main__":
    main()
