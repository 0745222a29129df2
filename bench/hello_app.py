"""The production app plus a bare "hello" route, for bench/bench_load.py only.

A WSGI wrapper answers /__hello itself and passes everything else to the same app, so the
ceiling is measured on the same server, workers and config without adding a route to the
production app (wsgi.py never imports this module).
"""
from wsgi import app as skm_app


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/__hello":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [b"hello"]
    return skm_app(environ, start_response)
