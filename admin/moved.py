"""Old addresses of a unit's pages, answered with a permanent redirect to /admin/units/<id>/….

Every page that belongs to one unit lives under /admin/units/<unit_id>/ (endpoint names
did not change, so url_for calls keep working). Bookmarks and printed links to the old
addresses get 308 Permanent Redirect (method and body kept, so an old form still posts),
with the query string kept. The redirect happens while the URL is matched, before any
view or login check, and reveals nothing: the new address checks roles and the unit.
The results dashboard and alerts took the unit from ?unit=; admin/dashboard.py redirects
those itself (the old address without a unit still opens the user's first unit).
"""
from __future__ import annotations

from werkzeug.routing import MapAdapter

from . import bp

# (old rule, endpoint of the page now under /admin/units/<unit_id>/…)
MOVED = [
    ("/entry/<int:unit_id>", "admin.entry_form"),
    ("/entry/<int:unit_id>/undo", "admin.entry_undo"),
    ("/data/<int:unit_id>", "admin.data_unit"),
    ("/data/<int:unit_id>/kuesioner", "admin.data_questionnaire"),
    ("/data/<int:unit_id>/templat.xlsx", "admin.data_template"),
    ("/data/<int:unit_id>/ekspor/<int:period_id>/<kind>", "admin.data_export"),
    ("/data/<int:unit_id>/impor", "admin.data_import_preview"),
    ("/data/<int:unit_id>/impor/simpan", "admin.data_import_commit"),
    ("/rtl/unit/<int:unit_id>", "admin.followup_unit"),
    ("/rtl/unit/<int:unit_id>/period/<int:period_id>/new", "admin.followup_new"),
    ("/unit/<int:unit_id>/laporan", "admin.reports_unit"),
    ("/unit/<int:unit_id>/laporan/pendahuluan", "admin.reports_intro"),
    ("/unit/<int:unit_id>/laporan/unduh", "admin.reports_download"),
    ("/unit/<int:unit_id>/laporan/job", "admin.reports_start_job"),
    ("/unit/<int:unit_id>/papan", "admin.poster_preview"),
]


def _redirect_to(endpoint: str):
    def target(adapter: MapAdapter, **values) -> str:
        url = adapter.build(endpoint, values)
        query = adapter.query_args
        return f"{url}?{query}" if isinstance(query, str) and query else url

    return target


for _rule, _endpoint in MOVED:
    bp.add_url_rule(_rule, endpoint="moved_" + _endpoint.removeprefix("admin."), redirect_to=_redirect_to(_endpoint),
                    methods=["GET", "POST"])
