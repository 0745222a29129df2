"""Printed reports: download page, generation (direct or as a polled job), lobby poster.

Access: admins and the managers of a unit. Operators do not get reports.
The lobby poster page (/papan/<UNIT>) is public, because the poster is what the unit
must publish anyway, but only for units that switched on "tampilkan IKM"
(Unit.kiosk_show_ikm); other units answer 404. It shows aggregates only.
"""
from __future__ import annotations

import os

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from skm.core.errors import DomainError
from skm.core.parsing import parse_id
from skm.extensions import db
from skm.followup.plans import plan_for_unit, plans_for_unit
from skm.models import Period, ReportJob, Unit
from skm.reports import data as R
from skm.reports import jobs as J
from skm.reports import texts as RT
from skm.reports.exports import EXPORT_LABELS
from skm.reports.render import build, filename
from skm.reports.settings import report_choice, save_report_choice
from skm.survey.reporting import default_period, period_respondents, reports_unavailable
from skm.web import wants_fragment

from . import bp
from .auth import require_unit, roles_required
from .common import period_arg, unit_picker

REPORT_ROLES = ("admin", "manager")
POSTER_REFRESH_SECONDS = 300

display_bp = Blueprint("display", __name__)


@bp.record_once
def _register_display(state):
    # The public lobby page lives outside /admin; registered with the admin blueprint
    # so create_app needs no change.
    state.app.register_blueprint(display_bp)


def _unit_or_404(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    require_unit(unit.id)
    return unit


def _periods():
    return db.session.scalars(select(Period).order_by(Period.start_date.desc())).all()


def _unit_page(unit: Unit, period: Period | None, choice_error: str | None = None, posted=None):
    """The Laporan page with `period` chosen: download buttons for the result-based
    documents, or why they are unavailable (no respondents in that period); the report
    date and signatories of the period (a refused form shows what was typed)."""
    jobs = db.session.scalars(
        select(ReportJob).where(ReportJob.unit_id == unit.id).order_by(ReportJob.id.desc()).limit(10)
    ).all()
    periods = _periods()
    if period is None and periods:
        period = periods[0]
    choice = report_choice(db.session, unit, period) if period else None
    form = dict(posted) if posted is not None else (
        {"report_date": choice.report_date.isoformat(), **{k: getattr(choice, k) for k in CHOICE_FIELDS}}
        if choice else {})
    return render_template("admin/reports/unit.html", unit=unit, periods=periods, kinds=R.KINDS, period=period,
                           choice=choice, choice_form=form, choice_error=choice_error,
                           unavailable=reports_unavailable(db.session, unit, period) if period else None,
                           default_intro=R.default_intro(unit), report_texts=RT.TEXTS,
                           own_texts=RT.stored_texts(db.session, unit),
                           notes=R.weak_element_notes(db.session, unit, period) if period else [],
                           plans=_plans(unit), jobs=jobs, percent=J.percent, is_stale=J.is_stale)


def _plans(unit: Unit):
    """RTL plans of the unit, if the follow-up module is installed (branch `rtl`)."""
    return plans_for_unit(db.session, unit)


@bp.route("/laporan")
@roles_required(*REPORT_ROLES)
def reports_home():
    return unit_picker("admin.reports_unit", "Laporan")


@bp.route("/units/<int:unit_id>/laporan")
@roles_required(*REPORT_ROLES)
def reports_unit(unit_id: int):
    unit = _unit_or_404(unit_id)
    period = period_arg("period_id")
    if period is None:
        if request.args.get("period_id"):
            flash("Periode tidak ditemukan; ditampilkan periode bawaan.")
        period = default_period(db.session, unit)
    return _unit_page(unit, period)


@bp.route("/units/<int:unit_id>/laporan/pendahuluan", methods=["POST"])
@roles_required(*REPORT_ROLES)
def reports_intro(unit_id: int):
    """The unit's report texts: Bab I (latar belakang), pengertian umum, sasaran, ruang
    lingkup, manfaat and the follow-up report's Bab I; all or nothing."""
    unit = _unit_or_404(unit_id)
    try:
        R.set_intro_text(db.session, unit, request.form.get("intro_text", ""))
        RT.save_unit_texts(db.session, unit, {t.key: request.form.get(t.key, "") for t in RT.TEXTS})
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc))
    else:
        db.session.commit()
        flash("Teks laporan disimpan.")
    return redirect(url_for("admin.reports_unit", unit_id=unit_id, _anchor="teks-laporan"))


def _posted_period() -> Period | None:
    """The period a posted form names (an ASCII id, skm.core.parsing), or None."""
    number = parse_id(request.form.get("period_id", ""))
    return db.session.get(Period, number) if number else None


@bp.route("/units/<int:unit_id>/laporan/analisis", methods=["POST"])
@roles_required(*REPORT_ROLES)
def reports_notes(unit_id: int):
    """The analysis and recommendation of each weak element of one period."""
    unit = _unit_or_404(unit_id)
    period = _posted_period()
    if period is None:
        flash("Pilih periode terlebih dahulu.")
        return redirect(url_for("admin.reports_unit", unit_id=unit.id))
    codes = [n.code for n in R.weak_element_notes(db.session, unit, period)]
    try:
        RT.save_element_notes(db.session, unit, period, codes, request.form)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc))
    else:
        db.session.commit()
        flash(f"Analisis dan rekomendasi periode {period.name} disimpan.")
    return redirect(url_for("admin.reports_unit", unit_id=unit.id, period_id=period.id, _anchor="analisis"))


CHOICE_FIELDS = ("head_name", "head_position", "head_rank", "head_nip", "officer_name", "officer_nip")


@bp.route("/units/<int:unit_id>/laporan/tanggal", methods=["POST"])
@roles_required(*REPORT_ROLES)
def reports_choice(unit_id: int):
    """Remember the report date and signatories of one period (skm.reports.settings)."""
    unit = _unit_or_404(unit_id)
    period = _posted_period()
    if period is None:
        flash("Pilih periode terlebih dahulu.")
        return redirect(url_for("admin.reports_unit", unit_id=unit.id))
    values = {k: request.form.get(k, "") for k in ("report_date", *CHOICE_FIELDS)}
    try:
        save_report_choice(db.session, unit, period, **values)
    except DomainError as exc:
        db.session.rollback()
        return _unit_page(unit, period, choice_error=str(exc), posted=values)  # 200, nothing saved
    db.session.commit()
    flash(f"Tanggal dan penanda tangan laporan periode {period.name} disimpan.")
    return redirect(url_for("admin.reports_unit", unit_id=unit.id, period_id=period.id))


def _parse_request(unit: Unit, values):
    """(kind, period, plan) from the form, or an Indonesian message."""
    kind = values.get("kind", "")
    if kind not in R.KINDS:
        return None, None, None, "Jenis dokumen tidak dikenal."
    period = None
    if kind not in ("kuesioner", "tindak-lanjut"):
        raw = values.get("period_id", "")
        period_id = parse_id(raw)
        period = db.session.get(Period, period_id) if period_id is not None else None
        if period is None:
            return None, None, None, "Pilih periode terlebih dahulu."
    plan = None
    if kind == "tindak-lanjut":

        raw = values.get("plan_id", "")
        plan_id = parse_id(raw)
        plan = plan_for_unit(db.session, unit, plan_id) if plan_id is not None else None
        if plan is None:
            return None, None, None, "Pilih rencana tindak lanjut terlebih dahulu."
    return kind, period, plan, None


def _sync_max() -> int:
    return int(current_app.config.get("REPORT_SYNC_MAX_RESPONDENTS", J.DEFAULT_SYNC_MAX))


# A download is a GET: it only reads, so on SQLite it never holds the write lock the
# kiosks need while the PDF renders. Only starting a background job writes (POST).
@bp.route("/units/<int:unit_id>/laporan/unduh")
@roles_required(*REPORT_ROLES)
def reports_download(unit_id: int):
    unit = _unit_or_404(unit_id)
    kind, period, plan, error = _parse_request(unit, request.args)
    if error:
        flash(error)
        return redirect(url_for("admin.reports_unit", unit_id=unit.id))
    if kind in R.RESULT_KINDS and reports_unavailable(db.session, unit, period):
        return _unit_page(unit, period)  # says why there is nothing to download
    name = filename(kind, unit, period)
    if J.needs_job(db.session, kind, unit, period, _sync_max()):
        return render_template("admin/reports/confirm_job.html", unit=unit, kind=kind, kinds=R.KINDS,
                               period=period, respondents=period_respondents(db.session, unit, period))
    try:
        data = build(kind, db.session, unit, period, plan=plan)
    except DomainError as exc:
        flash(str(exc))
        return redirect(url_for("admin.reports_unit", unit_id=unit.id))
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/units/<int:unit_id>/laporan/job", methods=["POST"])
@roles_required(*REPORT_ROLES)
def reports_start_job(unit_id: int):
    unit = _unit_or_404(unit_id)
    kind, period, _plan, error = _parse_request(unit, request.form)
    if error:
        flash(error)
        return redirect(url_for("admin.reports_unit", unit_id=unit.id))
    try:
        job, new = J.request_job(db.session, kind, unit, period, current_user, filename(kind, unit, period),
                                 _sync_max())
        job_id = job.id
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc))
        return _unit_page(unit, period)  # the page for that period, saying why
    # After the commit nothing here touches the ORM again: on SQLite a new transaction
    # in this POST would take the write lock the worker's progress updates need.
    db.session.commit()
    if new:  # the queue worker claims it (within the caps) and renders it; the page polls it
        J.launch(current_app._get_current_object(), job_id)
    return redirect(url_for("admin.report_job", job_id=job_id), code=303)


def _job_or_404(job_id: int) -> ReportJob:
    job = db.session.get(ReportJob, job_id)
    if job is None:
        abort(404)
    require_unit(job.unit_id)
    return job


@bp.route("/laporan/job/<int:job_id>")
@roles_required(*REPORT_ROLES)
def report_job(job_id: int):
    job = _job_or_404(job_id)
    template = "admin/reports/_job.html" if wants_fragment() else "admin/reports/job.html"
    return render_template(template, job=job, percent=J.percent(job), kinds={**R.KINDS, **EXPORT_LABELS, J.IMPORT_KIND: "Impor data"},
                           stale=J.is_stale(job), waiting=J.queue_position(db.session, job),
                           export=J.is_export(job.kind) or job.kind == J.IMPORT_KIND)


@bp.route("/laporan/job/<int:job_id>/unduh")
@roles_required(*REPORT_ROLES)
def report_job_download(job_id: int):
    job = _job_or_404(job_id)
    if job.status != "done" or not job.file_path or not os.path.isfile(job.file_path):
        flash("Dokumen belum selesai dibuat.")
        return redirect(url_for("admin.report_job", job_id=job.id))
    return send_file(job.file_path, mimetype=J.file_type(job.kind)[1], as_attachment=True,
                     download_name=job.filename, max_age=0)


def _poster_page(unit: Unit, period_name: str | None, public: bool):
    """The lobby poster of the named period, else of the reporting period (see
    skm.reports.data.lobby_poster); the page reloads itself."""
    period = None
    if period_name:
        period = db.session.scalar(select(Period).where(Period.name == period_name))
        if period is None:
            abort(404)
    context = R.lobby_poster(db.session, unit, period)
    # The online survey's QR in a corner (issue 15), while the unit's online survey is on.
    response = make_response(render_template("reports/poster_page.html", refresh=POSTER_REFRESH_SECONDS,
                                             public=public, qr_unit=unit if unit.online_enabled else None,
                                             **context))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/units/<int:unit_id>/papan")
@roles_required(*REPORT_ROLES)
def poster_preview(unit_id: int):
    unit = _unit_or_404(unit_id)
    return _poster_page(unit, request.args.get("periode"), public=False)


@display_bp.route("/papan/<code>")
def poster_public(code: str):
    unit = db.session.scalar(select(Unit).where(Unit.code == code.upper()))
    if unit is None or not unit.kiosk_show_ikm:
        abort(404)
    return _poster_page(unit, request.args.get("periode"), public=True)
