"""Follow-up plans (RTL) screens: plan from a period's results, mark actions, photos."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from skm.core.errors import DomainError
from skm.extensions import db
from skm.followup import actions, common, photos, progress, reminders
from skm.followup import plans as F
from skm.models import FollowUpAction, FollowUpPhoto, FollowUpPlan, FollowUpPriority, Period
from skm.web import wants_fragment

from . import bp
from .auth import get_unit, require_unit, roles_required
from .common import commit_or_rerender, unit_picker

ALL_ROLES = ("admin", "manager", "operator")
EDITORS = common.EDIT_ROLES


def _plan_or_404(plan_id: int) -> FollowUpPlan:
    plan = db.session.get(FollowUpPlan, plan_id) or abort(404)
    require_unit(plan.unit_id)
    return plan


def _action_or_404(action_id: int) -> FollowUpAction:
    action = db.session.get(FollowUpAction, action_id) or abort(404)
    require_unit(action.priority.plan.unit_id)
    return action


def _require_edit(unit_id: int) -> None:
    if not common.can_edit(current_user, unit_id):
        abort(403)


def _upload_root() -> str:
    return current_app.config["UPLOAD_FOLDER"]


def _max_photo_bytes() -> int:
    return int(current_app.config.get("RTL_PHOTO_MAX_BYTES", common.DEFAULT_MAX_PHOTO_BYTES))


def _form_date(name: str):
    """The raw date text; the domain validates it (so bad input gets a clear message)."""
    return request.form.get(name, "").strip() or None


# --------------------------------------------------------------------------- listing


@bp.route("/rtl/")
@roles_required(*ALL_ROLES)
def followup_index():
    return unit_picker("admin.followup_unit", "Rencana Tindak Lanjut (RTL)")


@bp.route("/units/<int:unit_id>/rtl")
@roles_required(*ALL_ROLES)
def followup_unit(unit_id: int):
    unit = get_unit(unit_id)
    today = progress.unit_today(unit)
    rows = progress.unit_periods(db.session, unit)
    plans = progress.unit_plans(db.session, unit, today)
    return render_template("admin/followup/unit.html", unit=unit, rows=rows, plans=plans,
                           summaries={s.plan.id: s for s in plans}, editable=common.can_edit(current_user, unit.id),
                           reminders=reminders.open_reminders(db.session, unit), schedule_label=common.schedule_label)


# --------------------------------------------------------------------------- plan


def _parse_forum_date():
    raw = _form_date("forum_date")
    return actions.parse_date(raw, "Tanggal forum konsultasi publik") if raw else None


@bp.route("/units/<int:unit_id>/rtl/period/<int:period_id>/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def followup_new(unit_id: int, period_id: int):
    unit = get_unit(unit_id)
    _require_edit(unit.id)
    period = db.session.get(Period, period_id) or abort(404)
    existing = F.plan_for(db.session, unit.id, period.id)
    if existing is not None:
        return redirect(url_for("admin.followup_plan", plan_id=existing.id))
    choices = F.priority_choices(db.session, unit, period)
    error = None
    selected = {c.code for c in choices if c.proposed}
    forum_date = ""
    if request.method == "POST":
        selected = set(request.form.getlist("codes"))
        forum_date = request.form.get("forum_date", "")
        try:
            plan = F.create_plan(db.session, unit, period, current_user, request.form.getlist("codes"),
                                 _parse_forum_date())
        except DomainError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            try:
                db.session.commit()
            except IntegrityError:  # another manager created it at the same moment
                db.session.rollback()
                existing = F.plan_for(db.session, unit.id, period.id) or abort(409)
                flash(f"RTL {period.name} untuk unit ini sudah ada.")
                return redirect(url_for("admin.followup_plan", plan_id=existing.id))
            flash(f"RTL {period.name} dibuat. Tambahkan rencana aksi untuk setiap prioritas.")
            return redirect(url_for("admin.followup_plan", plan_id=plan.id))
    return render_template("admin/followup/new.html", unit=unit, period=period, choices=choices,
                           selected=selected, forum_date=forum_date, error=error)


def _confirmed() -> bool:
    """The manager ticked "tetap simpan" under the date warnings (skm.followup.actions rules)."""
    return request.form.get("konfirmasi") == "1"


def _render_plan(plan: FollowUpPlan, errors: dict | None = None, drafts: dict | None = None,
                 confirms: dict | None = None):
    unit = plan.unit
    today = progress.unit_today(unit)
    return render_template(
        "admin/followup/plan.html", plan=plan, unit=unit, period=plan.period, today=today,
        share=progress.share_done(plan.actions), effects=progress.plan_effects(db.session, plan, today),
        overdue={a.id for a in plan.actions if progress.is_overdue(a, today)},
        editable=common.can_edit(current_user, unit.id), errors=errors or {}, drafts=drafts or {},
        confirms=confirms or {},
        default_year=plan.period.end_date.year + (1 if plan.period.end_date.month == 12 else 0),
        F=common,
    )


@bp.route("/rtl/plan/<int:plan_id>")
@roles_required(*ALL_ROLES)
def followup_plan(plan_id: int):
    return _render_plan(_plan_or_404(plan_id))


@bp.route("/rtl/plan/<int:plan_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def followup_plan_edit(plan_id: int):
    plan = _plan_or_404(plan_id)
    _require_edit(plan.unit_id)
    if plan.final:
        flash("RTL sudah final dan tidak dapat diubah lagi.")
        return redirect(url_for("admin.followup_plan", plan_id=plan.id))
    choices = F.priority_choices(db.session, plan.unit, plan.period)
    selected = {p.element_code for p in plan.priorities}
    forum_date = plan.forum_date.isoformat() if plan.forum_date else ""
    error = None
    if request.method == "POST":
        selected = set(request.form.getlist("codes"))
        forum_date = request.form.get("forum_date", "")
        try:
            F.update_plan(db.session, plan, current_user, request.form.getlist("codes"), _parse_forum_date(),
                          _upload_root())
        except DomainError as exc:
            db.session.rollback()
            error = str(exc)
            plan = _plan_or_404(plan_id)
        else:
            db.session.commit()
            flash("Prioritas RTL disimpan.")
            return redirect(url_for("admin.followup_plan", plan_id=plan.id))
    return render_template("admin/followup/edit.html", plan=plan, unit=plan.unit, period=plan.period,
                           choices=choices, selected=selected, forum_date=forum_date, error=error)


@bp.route("/rtl/plan/<int:plan_id>/final", methods=["POST"])
@roles_required(*EDITORS)
def followup_plan_final(plan_id: int):
    plan = _plan_or_404(plan_id)
    _require_edit(plan.unit_id)
    return commit_or_rerender(
        lambda: F.finalize_plan(db.session, plan, current_user),
        lambda error: _render_plan(_plan_or_404(plan_id), errors={"plan": error}),
        "RTL ditandai final. Realisasi setiap rencana aksi sekarang dapat diisi.",
        url_for("admin.followup_plan", plan_id=plan_id))


@bp.route("/rtl/plan/<int:plan_id>/reopen", methods=["POST"])
@roles_required("admin")
def followup_plan_reopen(plan_id: int):
    plan = _plan_or_404(plan_id)
    return commit_or_rerender(
        lambda: F.reopen_plan(db.session, plan, current_user),
        lambda error: _render_plan(_plan_or_404(plan_id), errors={"plan": error}),
        "RTL dibuka kembali sebagai draf.",
        url_for("admin.followup_plan", plan_id=plan_id))


# --------------------------------------------------------------------------- actions (plan part)


def _action_fields() -> dict:
    return {
        "program": request.form.get("program", ""),
        "year": request.form.get("year", ""),
        "quarters": request.form.getlist("quarters"),
        "pic": request.form.get("pic", ""),
    }


@bp.route("/rtl/priority/<int:priority_id>/actions", methods=["POST"])
@roles_required(*EDITORS)
def followup_action_add(priority_id: int):
    priority = db.session.get(FollowUpPriority, priority_id) or abort(404)
    require_unit(priority.plan.unit_id)
    _require_edit(priority.plan.unit_id)
    plan_id = priority.plan_id
    fields = _action_fields()
    try:
        actions.add_action(db.session, priority, current_user, **fields, confirmed=_confirmed())
    except DomainError as exc:
        db.session.rollback()
        confirm = isinstance(exc, actions.ConfirmationRequired)
        return _render_plan(_plan_or_404(plan_id), errors={priority_id: str(exc)}, drafts={priority_id: fields},
                            confirms={priority_id: exc.warnings} if confirm else None)
    db.session.commit()
    flash("Rencana aksi ditambahkan.")
    return redirect(url_for("admin.followup_plan", plan_id=plan_id, _anchor=f"prioritas-{priority_id}"))


@bp.route("/rtl/action/<int:action_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def followup_action_edit(action_id: int):
    action = _action_or_404(action_id)
    plan = action.priority.plan
    _require_edit(plan.unit_id)
    if plan.final:
        flash("RTL sudah final dan tidak dapat diubah lagi.")
        return redirect(url_for("admin.followup_action", action_id=action.id))
    error, confirm = None, None
    fields = {"program": action.program, "year": action.year, "quarters": [str(q) for q in action.quarters],
              "pic": action.pic}
    if request.method == "POST":
        fields = _action_fields()
        try:
            actions.update_action(db.session, action, current_user, **fields, confirmed=_confirmed())
        except DomainError as exc:
            db.session.rollback()
            error = str(exc)
            confirm = getattr(exc, "warnings", None)
            action = _action_or_404(action_id)
        else:
            db.session.commit()
            flash("Rencana aksi disimpan.")
            return redirect(url_for("admin.followup_plan", plan_id=plan.id))
    return render_template("admin/followup/action_edit.html", action=action, plan=action.priority.plan,
                           fields=fields, error=error, confirm=confirm)


@bp.route("/rtl/action/<int:action_id>/delete", methods=["POST"])
@roles_required(*EDITORS)
def followup_action_delete(action_id: int):
    action = _action_or_404(action_id)
    plan_id = action.priority.plan_id
    _require_edit(action.priority.plan.unit_id)
    return commit_or_rerender(
        lambda: actions.delete_action(db.session, action, current_user, _upload_root()),
        lambda error: _render_plan(_plan_or_404(plan_id), errors={"plan": error}),
        "Rencana aksi dihapus.",
        url_for("admin.followup_plan", plan_id=plan_id))


# --------------------------------------------------------------------------- realization


def _action_context(action: FollowUpAction, **extra) -> dict:
    plan = action.priority.plan
    today = progress.unit_today(plan.unit)
    ctx = {
        "action": action, "plan": plan, "unit": plan.unit, "period": plan.period,
        "effect": progress.plan_effects(db.session, plan, today).get(action.priority.element_code),
        "overdue": progress.is_overdue(action, today), "editable": common.can_edit(current_user, plan.unit_id),
        "F": common, "real_error": None, "photo_error": None, "saved": False, "form": None, "confirm": None,
    }
    ctx.update(extra)
    return ctx


@bp.route("/rtl/action/<int:action_id>")
@roles_required(*ALL_ROLES)
def followup_action(action_id: int):
    return render_template("admin/followup/action.html", **_action_context(_action_or_404(action_id)))


@bp.route("/rtl/action/<int:action_id>/realization", methods=["POST"])
@roles_required(*EDITORS)
def followup_realization(action_id: int):
    action = _action_or_404(action_id)
    _require_edit(action.priority.plan.unit_id)
    form = {k: request.form.get(k, "") for k in (
        "status", "realization", "done_start", "done_end", "obstacles", "pending_reason", "strategy",
        "target_date", "pending_pic")}
    partial = wants_fragment()
    try:
        actions.record_realization(db.session, action, current_user, **{
            k: (v.strip() or None) if k in ("done_start", "done_end", "target_date") else v
            for k, v in form.items()}, confirmed=_confirmed())
    except DomainError as exc:
        db.session.rollback()
        ctx = _action_context(_action_or_404(action_id), real_error=str(exc), form=form,
                              confirm=getattr(exc, "warnings", None))
    else:
        db.session.commit()
        if not partial:
            flash("Realisasi disimpan.")
            return redirect(url_for("admin.followup_action", action_id=action_id))
        ctx = _action_context(_action_or_404(action_id), saved=True)
    template = "admin/followup/_action_live.html" if partial else "admin/followup/action.html"
    return render_template(template, **ctx)


# --------------------------------------------------------------------------- photos


@bp.route("/rtl/action/<int:action_id>/photos", methods=["POST"])
@roles_required(*EDITORS)
def followup_photo_add(action_id: int):
    action = _action_or_404(action_id)
    _require_edit(action.priority.plan.unit_id)
    upload = request.files.get("photo")
    caption = request.form.get("caption", "")

    def add():
        if upload is None or not upload.filename:
            raise DomainError("Pilih berkas foto terlebih dahulu.")
        limit = _max_photo_bytes()
        data = upload.stream.read(limit + 1)  # never read more than one byte over the limit
        return photos.add_photo(db.session, action, current_user, data, upload.filename, caption, _upload_root(), limit)

    return commit_or_rerender(
        add,
        lambda error: render_template("admin/followup/action.html",
                                      **_action_context(_action_or_404(action_id), photo_error=error, caption=caption)),
        "Foto dokumentasi diunggah.",
        url_for("admin.followup_action", action_id=action_id, _anchor="foto"))


@bp.route("/rtl/photo/<int:photo_id>/delete", methods=["POST"])
@roles_required(*EDITORS)
def followup_photo_delete(photo_id: int):
    photo = db.session.get(FollowUpPhoto, photo_id) or abort(404)
    require_unit(photo.unit_id)
    _require_edit(photo.unit_id)
    action_id = photo.action_id
    photos.delete_photo(db.session, photo, current_user, _upload_root())
    db.session.commit()
    flash("Foto dihapus.")
    return redirect(url_for("admin.followup_action", action_id=action_id, _anchor="foto"))


@bp.route("/rtl/photo/<int:photo_id>/<any(full, thumb):size>")
@roles_required(*ALL_ROLES)
def followup_photo(photo_id: int, size: str):
    photo = db.session.get(FollowUpPhoto, photo_id) or abort(404)
    require_unit(photo.unit_id)
    try:
        path = photos.photo_path(_upload_root(), photo, thumb=size == "thumb")
    except DomainError:
        abort(404)
    try:
        response = send_file(path, mimetype=photo.mime_type, max_age=0, conditional=True)
    except FileNotFoundError:
        abort(404)
    response.headers["Cache-Control"] = "private, no-store"
    return response
