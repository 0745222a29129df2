"""Data exchange: import with preview, the import template, exports and the blank questionnaire."""
from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path

from flask import Response as FlaskResponse
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from skm.core.errors import DomainError
from skm.extensions import db
from skm.intake.importer import ImportRejected, import_previewed, preview_import, previous_import
from skm.models import Period, Unit
from skm.reports import exports, questionnaire
from skm.reports import jobs as J
from skm.survey.reporting import import_batch_span, period_respondents

from . import bp
from .auth import get_unit, roles_required
from .common import unit_picker

DATA_ROLES = ("admin", "manager")
IMPORT_ROLES = ("admin", "manager")  # a manager for their own units
ALL_ROLES = ("admin", "manager", "operator")
CHANNELS = {"import": "Impor (spreadsheet)", "paper": "Formulir kertas", "online": "Formulir daring"}
UPLOAD_MAX_AGE = 24 * 3600
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
XLSX_MIME = exports.XLSX_MIME


def _period_or_404(period_id: int) -> Period:
    period = db.session.get(Period, period_id)
    if period is None:
        abort(404)
    return period


def _upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_FOLDER"]) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sweep_uploads(folder: Path) -> None:
    """Forget previews nobody committed within a day."""
    limit = time.time() - UPLOAD_MAX_AGE
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            pass


def _download(content: bytes, filename: str, mimetype: str) -> FlaskResponse:
    response = FlaskResponse(content, content_type=mimetype)  # content_type: a charset given is kept, not doubled
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "data"


def _render_index(unit: Unit, errors: list[str] | None = None, status: int = 200, imported=None):
    periods = db.session.scalars(select(Period).order_by(Period.start_date.desc())).all()
    return render_template("admin/data/index.html", unit=unit, periods=periods, errors=errors or [], imported=imported,
                           channels=CHANNELS, can_import=current_user.role in IMPORT_ROLES), status


@bp.route("/data/")
@roles_required(*DATA_ROLES)
def data_index():
    return unit_picker("admin.data_unit", "Data & Excel")


@bp.route("/units/<int:unit_id>/data")
@roles_required(*DATA_ROLES)
def data_unit(unit_id: int):
    unit = get_unit(unit_id)
    batch = request.args.get("impor", "")
    span = import_batch_span(db.session, unit, int(batch)) if batch.isdigit() and len(batch) < 10 else None
    return _render_index(unit, imported=span)


@bp.route("/units/<int:unit_id>/data/kuesioner")
@roles_required(*ALL_ROLES)
def data_questionnaire(unit_id: int):
    unit = get_unit(unit_id)
    return render_template("admin/data/questionnaire_print.html", sheet=questionnaire.questionnaire_sheet(unit))


@bp.route("/units/<int:unit_id>/data/templat.xlsx")
@roles_required(*ALL_ROLES)
def data_template(unit_id: int):
    unit = get_unit(unit_id)
    return _download(exports.import_template_xlsx(unit), f"templat-impor-{_safe_name(unit.code)}.xlsx", XLSX_MIME)


def _import_sync_max() -> int:
    return int(current_app.config.get("IMPORT_SYNC_MAX_ROWS", J.DEFAULT_IMPORT_SYNC_MAX))


def _export_sync_max() -> int:
    return int(current_app.config.get("EXPORT_SYNC_MAX_RESPONDENTS", J.DEFAULT_EXPORT_SYNC_MAX))


def _export_args(unit_id: int, period_id: int, kind: str) -> tuple[Unit, Period]:
    unit = get_unit(unit_id)
    period = _period_or_404(period_id)
    if kind not in exports.EXPORT_LABELS:
        abort(404)
    return unit, period


@bp.route("/units/<int:unit_id>/data/ekspor/<int:period_id>/<kind>")
@roles_required(*DATA_ROLES)
def data_export(unit_id: int, period_id: int, kind: str):
    unit, period = _export_args(unit_id, period_id, kind)
    if J.needs_job(db.session, kind, unit, period, _export_sync_max()):
        # Too large for one request: a page with one button hands it to the queue worker.
        return render_template("admin/data/export_job.html", unit=unit, period=period, kind=kind,
                               label=exports.EXPORT_LABELS[kind],
                               respondents=period_respondents(db.session, unit, period))
    build, mimetype = exports.export_builders()[kind]
    content = build(db.session, unit, period)
    return _download(content, _export_name(unit, period, kind), mimetype)


def _export_name(unit: Unit, period: Period, kind: str) -> str:
    return f"{_safe_name(unit.code)}-{_safe_name(period.name)}-{kind}"


@bp.route("/units/<int:unit_id>/data/ekspor/<int:period_id>/<kind>/job", methods=["POST"])
@roles_required(*DATA_ROLES)
def data_export_job(unit_id: int, period_id: int, kind: str):
    unit, period = _export_args(unit_id, period_id, kind)
    try:
        job, new = J.request_job(db.session, kind, unit, period, current_user, _export_name(unit, period, kind),
                                 _export_sync_max())
        job_id = job.id
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc))
        return redirect(url_for("admin.data_unit", unit_id=unit.id))
    db.session.commit()
    if new:  # identical pending requests share one job and one queue task
        J.launch(current_app._get_current_object(), job_id)
    return redirect(url_for("admin.report_job", job_id=job_id), code=303)


@bp.route("/units/<int:unit_id>/data/impor", methods=["POST"])
@roles_required(*IMPORT_ROLES)
def data_import_preview(unit_id: int):
    unit = get_unit(unit_id)
    upload = request.files.get("berkas")
    channel = request.form.get("kanal", "import")
    create_services = request.form.get("buat_layanan") == "1"
    if channel not in CHANNELS:
        return _render_index(unit, ["Kanal tidak dikenal."])
    if upload is None or not upload.filename:
        return _render_index(unit, ["Pilih berkas CSV atau XLSX untuk diunggah."])
    filename = os.path.basename(upload.filename.replace("\\", "/"))[:200]
    content = upload.read()
    try:
        preview = preview_import(db.session, unit, filename, content, create_services=create_services)
    except ImportRejected as exc:
        db.session.rollback()
        return _render_index(unit, exc.errors)
    finally:
        db.session.rollback()  # preview stores nothing
    duplicate = previous_import(db.session, unit, preview.fingerprint) if preview.ok else None
    token = None
    if preview.ok and duplicate is None:
        # Keep the bytes on disk (never in process memory) until the admin confirms.
        folder = _upload_dir()
        _sweep_uploads(folder)
        token = secrets.token_hex(16)
        (folder / f"{token}.bin").write_bytes(content)
        (folder / f"{token}.json").write_text(json.dumps({
            "unit_id": unit.id, "user_id": current_user.id, "filename": filename, "channel": channel,
            "create_services": create_services, "fingerprint": preview.fingerprint, "rows": len(preview.rows),
        }))
    return render_template("admin/data/import_preview.html", unit=unit, preview=preview, token=token,
                           duplicate=duplicate, channel=channel, channels=CHANNELS,
                           max_errors=1000)


@bp.route("/units/<int:unit_id>/data/impor/simpan", methods=["POST"])
@roles_required(*IMPORT_ROLES)
def data_import_commit(unit_id: int):
    unit = get_unit(unit_id)
    token = request.form.get("token", "")
    folder = _upload_dir()
    meta_path, data_path = folder / f"{token}.json", folder / f"{token}.bin"
    if not TOKEN_RE.match(token) or not meta_path.exists() or not data_path.exists():
        return _render_index(unit, ["Pratinjau impor sudah kedaluwarsa atau sudah disimpan. Unggah berkasnya lagi."])
    meta = json.loads(meta_path.read_text())
    if meta["unit_id"] != unit.id or meta["user_id"] != current_user.id:
        abort(403)
    # Claim the preview atomically: of two clicks on "Simpan", only one gets past here.
    claimed = folder / f"{token}.claimed"
    try:
        os.rename(meta_path, claimed)
    except OSError:
        return _render_index(unit, ["Pratinjau impor sudah kedaluwarsa atau sudah disimpan. Unggah berkasnya lagi."])
    meta_path = claimed
    if int(meta.get("rows", 0)) > _import_sync_max():
        # A large file is stored by the queue worker; the job page shows how it goes. The
        # worker removes the files once it has stored (or refused) them.
        job = J.create_import_job(db.session, unit, current_user, meta["filename"], int(meta["rows"]), str(meta_path))
        job_id = job.id
        db.session.commit()
        J.launch(current_app._get_current_object(), job_id)
        return redirect(url_for("admin.report_job", job_id=job_id), code=303)
    try:
        batch = import_previewed(db.session, unit, meta["filename"], data_path.read_bytes(), meta["create_services"],
                                 meta["fingerprint"], meta["channel"], current_user.id)
        db.session.commit()  # the whole file in one transaction
    except (ImportRejected, DomainError) as exc:
        db.session.rollback()
        errors = exc.errors if isinstance(exc, ImportRejected) else [str(exc)]
        return _render_index(unit, ["Impor ditolak, tidak ada data yang disimpan."] + errors)
    finally:
        for path in (meta_path, data_path):
            try:
                path.unlink()
            except OSError:
                pass
    flash(f"{batch.row_count} responden dari {batch.filename} berhasil diimpor.")
    return redirect(url_for("admin.data_unit", unit_id=unit.id, impor=batch.id))
