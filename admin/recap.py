"""Rekapitulasi IKM (admin): every unit side by side for a period; XLSX and PDF."""
from __future__ import annotations

import datetime as dt

from flask import make_response, render_template, request

from skm.extensions import db
from skm.reports.recap import SORT_KEYS, installation_recap, recap_pdf, recap_table, recap_xlsx
from skm.survey.period_admin import periods_newest_first

from . import bp
from .auth import roles_required
from .common import period_arg


def _params():
    periods = periods_newest_first(db.session)
    period = period_arg()
    if period is None:
        today = dt.date.today()
        period = next((p for p in periods if p.start_date <= today), periods[0] if periods else None)
    sort = request.args.get("sort", "unit")
    sort = sort if sort in SORT_KEYS else "unit"
    return periods, period, sort, request.args.get("arah") == "turun"


def _download(data: bytes, mimetype: str, name: str):
    response = make_response(data)
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/rekap")
@roles_required("admin")
def recap():
    periods, period, sort, descending = _params()
    table = recap_table(installation_recap(db.session, period, sort=sort, descending=descending)) if period else None
    return render_template("admin/recap/index.html", periods=periods, period=period, t=table, sort=sort,
                           descending=descending, sort_keys=SORT_KEYS)


@bp.route("/rekap.xlsx")
@roles_required("admin")
def recap_xlsx_download():
    _periods, period, sort, descending = _params()
    if period is None:
        return _download(b"", "text/plain", "kosong.txt")
    data = recap_xlsx(installation_recap(db.session, period, sort=sort, descending=descending))
    return _download(data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     f"rekapitulasi-ikm-{period.id}.xlsx")


@bp.route("/rekap.pdf")
@roles_required("admin")
def recap_pdf_download():
    _periods, period, sort, descending = _params()
    if period is None:
        return _download(b"", "text/plain", "kosong.txt")
    data = recap_pdf(installation_recap(db.session, period, sort=sort, descending=descending), dt.date.today())
    return _download(data, "application/pdf", f"rekapitulasi-ikm-{period.id}.pdf")
