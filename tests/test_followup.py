"""Follow-up plans (RTL): proposals, history, share done, overdue, effect, photos, report data."""
from __future__ import annotations

import datetime as dt
import io
import os
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from skm.core.clock import utcnow
from skm.core.errors import DomainError
from skm.followup import actions as followup_actions
from skm.followup import common, photos, progress, report_data
from skm.followup import plans as F
from skm.models import FollowUpHistory, FollowUpPhoto
from skm.survey.periods import quarter
from skm.survey.units import new_questionnaire_version
from tests.factories import make_period, make_response, make_unit, make_user

Q3 = dt.date(2023, 8, 1)
Q4 = dt.date(2023, 11, 1)


def tie_data(session, unit, day=Q3):
    """Two respondents. NRR: U2 2,50 (D); U5, U7 3,50 (B, a tie inside the lowest three); the rest 4,00."""
    make_response(session, unit, [4, 2, 4, 4, 3, 4, 4, 4, 4], day=day)
    make_response(session, unit, [4, 3, 4, 4, 4, 4, 3, 4, 4], day=day)


def codes(proposals):
    return [(p.code, p.source) for p in proposals]


@pytest.fixture
def setup(db):
    s = db.session
    unit = make_unit(s)
    period = make_period(s, quarter(2023, 3))
    manager = make_user(s, "manajer", "manager", [unit])
    tie_data(s, unit)
    s.commit()
    return s, unit, period, manager


def test_proposal_lowest_three(setup):
    s, unit, period, _ = setup
    choices = F.priority_choices(s, unit, period)
    proposed = [c for c in choices if c.proposed]
    # U2 lowest; U5/U7 tie at 3,50 inside the three: no tie at the cut-off.
    assert codes(proposed) == [("U2", "lowest"), ("U5", "lowest"), ("U7", "lowest")]
    assert proposed[0].nrr == Fraction(5, 2) and proposed[0].grade == "D"
    assert proposed[1].nrr == Fraction(7, 2) and proposed[1].grade == "B"
    assert all(not c.tie for c in choices)
    # Every element is offered, lowest first; U1 (4,00) is offered but not proposed.
    assert [c.code for c in choices][:4] == ["U2", "U5", "U7", "U1"]
    assert not next(c for c in choices if c.code == "U8").proposed


def test_proposal_includes_every_element_tied_at_the_cut_off(db):
    """U2 lowest; U5, U7 and U8 tie at 3,50 for the last two places: all three are proposed."""
    s = db.session
    unit = make_unit(s)
    make_response(s, unit, [4, 2, 4, 4, 3, 4, 4, 3, 4])
    make_response(s, unit, [4, 3, 4, 4, 4, 4, 3, 4, 4])
    period = make_period(s, quarter(2023, 3))
    proposed = [c for c in F.priority_choices(s, unit, period) if c.proposed]
    assert codes(proposed) == [("U2", "lowest"), ("U5", "lowest"), ("U7", "lowest"), ("U8", "lowest")]
    assert [c.tie for c in proposed] == ["", *["U5, U7 dan U8 sama-sama bernilai 3,500"] * 3]
    assert [p.element_code for p in F.create_plan(s, unit, period, None).priorities] == ["U2", "U5", "U7", "U8"]


def test_published_quarter_tie_in_the_rtl_proposal(db):
    """The published quarter (tests/data): U8 200/57, then U3, U5 and U9 all 204/57."""
    from skm.intake.importer import commit_import, preview_import

    s = db.session
    unit = make_unit(s, services=("Izin Usaha", "Cetak KTP"))
    path = Path(__file__).parent / "data" / "triwulan_published.csv"
    commit_import(s, unit, preview_import(s, unit, path.name, path.read_bytes()), channel="paper")
    period = make_period(s, quarter(2023, 3))
    proposed = [c for c in F.priority_choices(s, unit, period) if c.proposed]
    assert [c.code for c in proposed] == ["U8", "U3", "U5", "U9"]
    assert {c.nrr for c in proposed[1:]} == {Fraction(204, 57)}
    assert proposed[1].tie == "U3, U5 dan U9 sama-sama bernilai 3,579"


def test_tie_follows_questionnaire_position_not_code(db):
    """A unit that asks U9 before U8: tied elements are listed in questionnaire order."""
    s = db.session
    unit = make_unit(s)
    q = unit.current_questionnaire
    rows = [{"code": e.code, "name": e.name, "question": e.question, "labels": e.labels} for e in q.elements]
    rows[7], rows[8] = rows[8], rows[7]
    new_questionnaire_version(s, unit, rows)
    make_response(s, unit, {"U1": 4, "U2": 2, "U3": 4, "U4": 4, "U5": 3, "U6": 4, "U7": 4, "U8": 3, "U9": 3})
    make_response(s, unit, {"U1": 4, "U2": 3, "U3": 4, "U4": 4, "U5": 4, "U6": 4, "U7": 4, "U8": 4, "U9": 4})
    make_response(s, unit, {"U1": 4, "U2": 3, "U3": 4, "U4": 4, "U5": 4, "U6": 4, "U7": 4, "U8": 4, "U9": 4})
    period = make_period(s, quarter(2023, 3))
    proposed = [c.code for c in F.priority_choices(s, unit, period) if c.proposed]
    # U5, U8 and U9 tie at 3,67 at the cut-off: all three, in position order U5 (5), U9 (8), U8 (9).
    assert proposed == ["U2", "U5", "U9", "U8"]


def test_elements_graded_c_or_d_are_always_proposed(db):
    s = db.session
    unit = make_unit(s, rtl_priority_count=1)
    # U2 = 2,00 (D), U4 = 3,00 (C), U6 = 3,50 (B), rest 4.
    make_response(s, unit, [4, 2, 4, 3, 4, 3, 4, 4, 4])
    make_response(s, unit, [4, 2, 4, 3, 4, 4, 4, 4, 4])
    period = make_period(s, quarter(2023, 3))
    proposed = [c for c in F.priority_choices(s, unit, period) if c.proposed]
    assert codes(proposed) == [("U2", "lowest"), ("U4", "grade")]


def test_propose_count_is_configurable(setup):
    s, unit, period, _ = setup
    unit.rtl_priority_count = 1
    assert [c.code for c in F.priority_choices(s, unit, period) if c.proposed] == ["U2"]
    # Two: U5 and U7 tie at the cut-off, so both come.
    unit.rtl_priority_count = 2
    assert [c.code for c in F.priority_choices(s, unit, period) if c.proposed] == ["U2", "U5", "U7"]


def test_create_plan_stores_nrr_at_plan_time_and_manager_can_change_the_set(setup):
    s, unit, period, manager = setup
    plan = F.create_plan(s, unit, period, manager, forum_date=dt.date(2023, 10, 10))
    assert [(p.element_code, p.nrr, p.grade) for p in plan.priorities] == [
        ("U2", Fraction(5, 2), "D"), ("U5", Fraction(7, 2), "B"), ("U7", Fraction(7, 2), "B")]
    with pytest.raises(DomainError, match="sudah ada"):
        F.create_plan(s, unit, period, manager)
    F.update_plan(s, plan, manager, ["U2", "U8"], None)
    assert [p.element_code for p in plan.priorities] == ["U2", "U8"]
    assert plan.forum_date is None
    assert next(p for p in plan.priorities if p.element_code == "U8").source == "manual"
    with pytest.raises(DomainError, match="tidak ada"):
        F.update_plan(s, plan, manager, ["U2", "X1"], None)
    with pytest.raises(DomainError, match="paling sedikit"):
        F.update_plan(s, plan, manager, [], None)
    assert [p.element_code for p in plan.priorities] == ["U2", "U8"]


def test_plan_needs_results(db):
    s = db.session
    unit = make_unit(s)
    period = make_period(s, quarter(2024, 1))
    with pytest.raises(DomainError, match="Belum ada hasil"):
        F.create_plan(s, unit, period, None)


def plan_with_actions(s, unit, period, user, n=3):
    plan = F.create_plan(s, unit, period, user)
    actions = [followup_actions.add_action(s, p, user, f"Program {p.element_code}", 2024, ["1", "2"], "Seksi Pelayanan")
               for p in plan.priorities][:n]
    return plan, actions


def test_action_validation_and_final_plan_is_locked(setup):
    s, unit, period, manager = setup
    plan = F.create_plan(s, unit, period, manager)
    prio = plan.priorities[0]
    for kwargs, message in [
        (dict(program="", year=2024, quarters=[1], pic="X"), "Program"),
        (dict(program="A", year="dua ribu", quarters=[1], pic="X"), "Tahun"),
        (dict(program="A", year=2024, quarters=[], pic="X"), "triwulan"),
        (dict(program="A", year=2024, quarters=["5"], pic="X"), "TW 1–4"),
        (dict(program="A", year=2024, quarters=[1], pic=" "), "Penanggung jawab"),
    ]:
        with pytest.raises(DomainError, match=message):
            followup_actions.add_action(s, prio, manager, **kwargs)
    assert prio.actions == []
    with pytest.raises(DomainError, match="rencana aksi"):
        F.finalize_plan(s, plan, manager)
    for p in plan.priorities:
        followup_actions.add_action(s, p, manager, "Program", 2024, [1, 4], "Seksi")
    assert plan.priorities[0].actions[0].quarters == [1, 4]
    F.finalize_plan(s, plan, manager)
    with pytest.raises(DomainError, match="final"):
        followup_actions.add_action(s, prio, manager, "Lagi", 2024, [1], "X")
    with pytest.raises(DomainError, match="final"):
        F.update_plan(s, plan, manager, ["U2"], None)


def test_status_changes_are_recorded_with_user_and_time(setup):
    s, unit, period, manager = setup
    plan, actions = plan_with_actions(s, unit, period, manager)
    action = actions[0]
    with pytest.raises(DomainError, match="final"):
        followup_actions.record_realization(s, action, manager, status="sudah", realization="x", done_start="2024-01-10")
    F.finalize_plan(s, plan, manager)
    other = make_user(s, "admin2", "admin")
    before = utcnow() - dt.timedelta(seconds=5)
    followup_actions.record_realization(s, action, manager, status="sudah", realization="Brosur persyaratan dicetak",
                         done_start="2024-01-10", done_end="2024-01-12", obstacles="Anggaran terbatas")
    s.commit()
    rows = s.scalars(select(FollowUpHistory).where(FollowUpHistory.action_id == action.id)
                     .order_by(FollowUpHistory.id)).all()
    by_field = {h.field: h for h in rows}
    assert by_field["status"].old_value is None and by_field["status"].new_value == "Sudah"  # first report
    assert by_field["status"].user_id == manager.id
    assert before <= by_field["status"].at <= utcnow() + dt.timedelta(seconds=5)
    assert by_field["realization"].new_value == "Brosur persyaratan dicetak"
    assert by_field["done_when"].new_value == "10 Januari s.d. 12 Januari 2024"
    assert "pending_pic" not in by_field and "strategy" not in by_field  # Belum-only fields untouched
    assert action.reported_by_id == manager.id and action.reported_at is not None

    # Back to Belum by another user: the reason, strategy, target and PJ are required.
    with pytest.raises(DomainError, match="Alasan"):
        followup_actions.record_realization(s, action, other, status="belum")
    assert action.status == "sudah"
    followup_actions.record_realization(s, action, other, status="belum", pending_reason="Pencetak rusak",
                         strategy="Sewa pencetak", target_date="2024-06-30", pending_pic="Subbag Umum")
    s.commit()
    last = s.scalars(select(FollowUpHistory).where(FollowUpHistory.action_id == action.id,
                                                   FollowUpHistory.field == "status")
                     .order_by(FollowUpHistory.id.desc())).first()
    assert (last.old_value, last.new_value, last.user_id) == ("Sudah", "Belum", other.id)
    # Saving the same values again records nothing new.
    count = len(action.history)
    followup_actions.record_realization(s, action, other, status="belum", pending_reason="Pencetak rusak",
                         strategy="Sewa pencetak", target_date="2024-06-30", pending_pic="Subbag Umum")
    s.commit()
    s.refresh(action)
    assert len(action.history) == count


@pytest.mark.parametrize("kwargs, message", [
    (dict(status="selesai"), "Sudah atau Belum"),
    (dict(status="sudah", realization="", done_start="2024-01-01"), "Uraian"),
    (dict(status="sudah", realization="x"), "Tanggal pelaksanaan wajib"),
    (dict(status="sudah", realization="x", done_start="31-01-2024"), "tidak valid"),
    (dict(status="sudah", realization="x", done_start="2024-02-10", done_end="2024-02-01"), "sebelum"),
    (dict(status="belum", pending_reason="a", strategy="b", target_date="", pending_pic="c"), "Target"),
    (dict(status="sudah", realization="x" * 5001, done_start="2024-01-01"), "terlalu panjang"),
])
def test_bad_realization_is_refused_and_changes_nothing(setup, kwargs, message):
    s, unit, period, manager = setup
    plan, actions = plan_with_actions(s, unit, period, manager)
    F.finalize_plan(s, plan, manager)
    s.commit()
    count = s.query(FollowUpHistory).count()
    with pytest.raises(DomainError, match=message):
        followup_actions.record_realization(s, actions[0], manager, **kwargs)
    assert actions[0].status == "belum" and actions[0].reported_at is None
    assert s.query(FollowUpHistory).count() == count


def test_share_done_with_zero_some_and_all(setup):
    s, unit, period, manager = setup
    plan, actions = plan_with_actions(s, unit, period, manager)
    F.finalize_plan(s, plan, manager)
    assert progress.share_done([]).text == "0 dari 0 RTL telah ditindaklanjuti (–)"
    share = progress.share_done(plan.actions)
    assert (share.done, share.total, share.percent) == (0, 3, 0)
    assert share.text == "0 dari 3 RTL telah ditindaklanjuti (0%)"
    followup_actions.record_realization(s, actions[0], manager, status="sudah", realization="x", done_start="2024-01-05")
    share = progress.share_done(plan.actions)
    assert share.percent == Fraction(100, 3)
    assert share.text == "1 dari 3 RTL telah ditindaklanjuti (33,33%)"
    for a in actions[1:]:
        followup_actions.record_realization(s, a, manager, status="sudah", realization="y", done_start="2024-02-05")
    assert progress.share_done(plan.actions).text == "3 dari 3 RTL telah ditindaklanjuti (100%)"
    # Two of three: 66,666… rounds half up to 66,67.
    followup_actions.record_realization(s, actions[2], manager, status="belum", pending_reason="a", strategy="b",
                         target_date="2024-09-01", pending_pic="c")
    assert progress.share_done(plan.actions).text == "2 dari 3 RTL telah ditindaklanjuti (66,67%)"


def test_overdue_when_the_last_scheduled_quarter_has_passed(setup):
    s, unit, period, manager = setup
    plan, actions = plan_with_actions(s, unit, period, manager)  # TW 1, TW 2 of 2024
    action = actions[0]
    assert not progress.is_overdue(action, dt.date(2024, 6, 30))
    assert progress.is_overdue(action, dt.date(2024, 7, 1))
    F.finalize_plan(s, plan, manager)
    followup_actions.record_realization(s, action, manager, status="sudah", realization="x", done_start="2024-07-02")
    assert not progress.is_overdue(action, dt.date(2024, 7, 1))
    summary = progress.unit_plans(s, unit, dt.date(2024, 7, 1))[0]
    assert summary.overdue == 2 and summary.share.done == 1
    assert common.quarter_end(2024, 1) == dt.date(2024, 3, 31) and common.quarter_end(2024, 4) == dt.date(2024, 12, 31)


def test_today_is_taken_in_the_units_time_zone(db):
    unit = make_unit(db.session, timezone="WIT")
    # 16.30 UTC on 30 June is already 1 July in Jayapura (UTC+9), still 30 June... in UTC.
    assert progress.unit_today(unit, dt.datetime(2024, 6, 30, 16, 30)) == dt.date(2024, 7, 1)
    unit.timezone = "WIB"
    assert progress.unit_today(unit, dt.datetime(2024, 6, 30, 16, 30)) == dt.date(2024, 6, 30)


def test_effect_compares_the_plan_period_with_the_following_one(setup):
    s, unit, period, manager = setup
    plan, _ = plan_with_actions(s, unit, period, manager)
    effects = progress.plan_effects(s, plan, today=dt.date(2023, 9, 30))
    assert effects["U2"].before == Fraction(5, 2)
    assert effects["U2"].after is None and effects["U2"].following_name == "Triwulan IV 2023"
    # Triwulan IV: U2 rises to 3,50; U5 falls to 3,00.
    make_response(s, unit, [4, 3, 4, 4, 3, 4, 4, 4, 4], day=Q4)
    make_response(s, unit, [4, 4, 4, 4, 3, 4, 4, 4, 4], day=Q4)
    effects = progress.plan_effects(s, plan, today=dt.date(2024, 1, 5))
    assert (effects["U2"].before, effects["U2"].after, effects["U2"].delta) == (Fraction(5, 2), Fraction(7, 2), 1)
    assert effects["U5"].delta == Fraction(-1, 2)
    assert effects["U2"].following_complete
    assert not progress.plan_effects(s, plan, today=dt.date(2023, 12, 1))["U2"].following_complete


# --------------------------------------------------------------------------- photos


def image_bytes(fmt="JPEG", size=(800, 600), mode="RGB", color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def final_action(setup):
    s, unit, period, manager = setup
    plan, actions = plan_with_actions(s, unit, period, manager)
    F.finalize_plan(s, plan, manager)
    s.commit()
    return s, unit, manager, actions[0]


def test_valid_photo_is_reencoded_and_thumbnailed(final_action, tmp_path):
    s, unit, manager, action = final_action
    root = str(tmp_path / "uploads")
    photo = photos.add_photo(s, action, manager, image_bytes("JPEG", (3000, 1000)), "kegiatan.jpeg",
                        "Penyuluhan persyaratan", root)
    s.commit()
    folder = os.path.join(root, "rtl", str(unit.id))
    assert sorted(os.listdir(folder)) == sorted([photo.file_name, photo.thumb_name])
    assert common.PHOTO_NAME.match(photo.file_name) and "kegiatan" not in photo.file_name
    with Image.open(os.path.join(folder, photo.file_name)) as full:
        assert full.format == "JPEG" and full.size == (2048, 683)
    with Image.open(os.path.join(folder, photo.thumb_name)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == common.THUMB_EDGE
    assert (photo.width, photo.height, photo.caption) == (2048, 683, "Penyuluhan persyaratan")
    assert any(h.field == "photo" for h in action.history)


def test_webp_becomes_jpeg_and_transparent_png_stays_png(final_action, tmp_path):
    s, unit, manager, action = final_action
    root = str(tmp_path)
    webp = photos.add_photo(s, action, manager, image_bytes("WEBP"), "a.webp", "", root)
    png = photos.add_photo(s, action, manager, image_bytes("PNG", mode="RGBA", color=(0, 0, 0, 0)), "b.png", "", root)
    assert webp.file_name.endswith(".jpg") and webp.mime_type == "image/jpeg"
    assert png.file_name.endswith(".png") and png.mime_type == "image/png"


@pytest.mark.parametrize("data, name, message", [
    (b"%PDF-1.4 not an image at all" * 10, "foto.jpg", "bukan gambar"),
    (b"MZ\x90\x00" + os.urandom(200), "foto.png", "bukan gambar"),
    (image_bytes("GIF", mode="P"), "foto.jpg", "JPEG, PNG atau WebP"),
    (image_bytes("PNG")[:-40], "foto.png", "rusak"),
    (image_bytes("JPEG"), "../../etc/cron.d/foto.jpg", "Nama berkas"),
    (image_bytes("JPEG"), "..\\..\\foto.jpg", "Nama berkas"),
    (image_bytes("JPEG"), "", "Nama berkas"),
])
def test_bad_uploads_are_refused_and_nothing_is_stored(final_action, tmp_path, data, name, message):
    s, unit, manager, action = final_action
    root = tmp_path / "uploads"
    with pytest.raises(DomainError, match=message):
        photos.add_photo(s, action, manager, data, name, "x", str(root))
    assert s.query(FollowUpPhoto).count() == 0
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))
    assert not (tmp_path.parent / "etc").exists()


def test_oversize_photo_is_refused(final_action, tmp_path):
    s, unit, manager, action = final_action
    data = image_bytes("PNG", (1200, 1200))
    with pytest.raises(DomainError, match="terlalu besar"):
        photos.add_photo(s, action, manager, data, "besar.png", "", str(tmp_path), max_bytes=len(data) - 1)
    # A small file that decodes to a huge picture (a pixel bomb) is refused before decoding.
    bomb = io.BytesIO()
    Image.new("1", (9000, 9000)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < common.DEFAULT_MAX_PHOTO_BYTES
    with pytest.raises(DomainError, match="piksel"):
        photos.add_photo(s, action, manager, bomb.getvalue(), "bom.png", "", str(tmp_path))
    assert s.query(FollowUpPhoto).count() == 0


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (no real pixel data)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def test_photo_claiming_40000_square_pixels_is_refused_with_a_message(final_action, tmp_path):
    s, unit, manager, action = final_action
    with pytest.raises(DomainError, match="piksel"):
        photos.add_photo(s, action, manager, png_header_only(40000, 40000), "bom.png", "", str(tmp_path))
    assert s.query(FollowUpPhoto).count() == 0


def test_photo_path_refuses_names_we_did_not_generate(tmp_path):
    photo = FollowUpPhoto(unit_id=1, file_name="../../secret_key", thumb_name="x_t.jpg")
    with pytest.raises(DomainError):
        photos.photo_path(str(tmp_path), photo)


# --------------------------------------------------------------------------- report data


def test_followup_report_data_shape(final_action, tmp_path):
    s, unit, manager, action = final_action
    plan = action.priority.plan
    followup_actions.record_realization(s, action, manager, status="sudah", realization="Selesai", done_start="2024-02-01")
    photos.add_photo(s, action, manager, image_bytes(), "a.jpg", "Dokumentasi", str(tmp_path))
    second = plan.actions[1]
    followup_actions.record_realization(s, second, manager, status="belum", pending_reason="Anggaran",
                         strategy="Usul APBD-P", target_date="2024-10-01", pending_pic="Kasubbag")
    s.commit()
    data = report_data.followup_report_data(s, plan, upload_root=str(tmp_path), today=dt.date(2024, 8, 1))
    assert data["period"]["name"] == "Triwulan III 2023" and data["unit"]["code"] == "UJI"
    assert [p["code"] for p in data["priorities"]] == ["U2", "U5", "U7"]
    assert data["priorities"][0]["nrr"] == Fraction(5, 2) and data["priorities"][0]["kinerja"] == "Tidak Baik"
    first = data["actions"][0]
    assert first["status_label"] == "Sudah" and first["when"] == "1 Februari 2024"
    assert first["schedule"] == "TW 1, TW 2 2024" and first["quarters"] == [1, 2]
    assert first["photos"][0]["caption"] == "Dokumentasi" and os.path.isfile(first["photos"][0]["path"])
    assert first["photos"][0]["relative_path"].startswith(f"rtl/{unit.id}/")
    assert data["share"]["text"] == "1 dari 3 RTL telah ditindaklanjuti (33,33%)"
    assert [a["pending_reason"] for a in data["not_done"]] == ["Anggaran", ""]
    assert data["not_done"][0]["strategy"] == "Usul APBD-P" and data["not_done"][0]["overdue"]
    assert report_data.followup_report_data(s, plan)["actions"][0]["photos"][0]["path"] is None


def test_photos_wait_for_a_final_plan(setup, tmp_path):
    s, unit, period, manager = setup
    plan, actions = plan_with_actions(s, unit, period, manager)
    with pytest.raises(DomainError, match="final"):
        photos.add_photo(s, actions[0], manager, image_bytes(), "a.jpg", "", str(tmp_path))


def test_deleting_an_action_keeps_its_history_and_removes_its_photo_files(final_action, tmp_path):
    s, unit, manager, action = final_action
    plan = action.priority.plan
    root = str(tmp_path)
    photo = photos.add_photo(s, action, manager, image_bytes(), "a.jpg", "Dok", root)
    path = photos.photo_path(root, photo)
    F.reopen_plan(s, plan, manager)
    # Dropping U2 from the priorities removes its action and the photo files.
    F.update_plan(s, plan, manager, ["U5", "U7"], None, upload_root=root)
    s.commit()
    assert not os.path.exists(path) and s.query(FollowUpPhoto).count() == 0
    followup_actions.delete_action(s, plan.priorities[0].actions[0], manager, root)
    s.commit()
    assert [p.element_code for p in plan.priorities] == ["U5", "U7"] and len(plan.actions) == 1
    fields = [(h.field, h.old_value, h.new_value) for h in s.scalars(
        select(FollowUpHistory).where(FollowUpHistory.plan_id == plan.id).order_by(FollowUpHistory.id))]
    assert ("priority", "U2 Sistem, mekanisme, dan prosedur", None) in fields
    assert ("action", "U5: Program U5", None) in fields
    assert ("final", "Final", "Draf") in fields
    assert s.query(FollowUpHistory).filter(FollowUpHistory.field == "photo").count() == 1


def test_custom_period_has_no_following_period(db):
    s = db.session
    unit = make_unit(s)
    tie_data(s, unit)
    from skm.survey.periods import custom
    period = make_period(s, custom(dt.date(2023, 7, 1), dt.date(2023, 8, 17)))
    plan = F.create_plan(s, unit, period, None)
    effect = progress.plan_effects(s, plan, dt.date(2024, 1, 1))["U2"]
    assert effect.before == Fraction(5, 2) and effect.after is None and effect.following_name is None


def test_proposal_properties_on_random_results():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from skm.scoring.ikm import ElementTally, element_scores

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.tuples(st.integers(1, 40), st.integers(0, 120)), min_size=1, max_size=12),
           st.integers(0, 5))
    def check(rows, n):
        tallies = [ElementTally(f"U{i + 1}", f"Unsur {i + 1}", count, count + min(total, 3 * count), position=i)
                   for i, (count, total) in enumerate(rows)]
        scores = element_scores(tallies)
        chosen = F.propose_priorities(scores, n)
        codes_ = [p.code for p in chosen]
        assert len(codes_) == len(set(codes_))
        ranked = sorted(scores, key=lambda e: (e.nrr, e.position))
        # The n lowest and every element equal to the n-th (ties at the cut-off are never dropped).
        lowest = [e for e in ranked if n and e.nrr <= ranked[min(n, len(ranked)) - 1].nrr]
        assert {e.code for e in ranked[:n]} <= set(codes_)
        assert {e.code for e in scores if e.grade in "CD"} <= set(codes_)
        # Nothing else, and lowest first.
        assert set(codes_) == {e.code for e in lowest} | {e.code for e in scores if e.grade in "CD"}
        assert [p.nrr for p in chosen] == sorted(p.nrr for p in chosen)

    check()
