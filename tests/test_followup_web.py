"""RTL screens: the manager's path from results to a finished plan, roles, photos over HTTP."""
from __future__ import annotations

import datetime as dt
import io
import os
import re

import pytest
from PIL import Image

from skm.followup import actions, common
from skm.followup import plans as F
from skm.models import FollowUpAction, FollowUpPhoto, FollowUpPlan, User
from skm.survey.periods import quarter
from tests.factories import login, make_period, make_response, make_unit, make_user
from tests.test_followup import tie_data


def jpeg(size=(640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def world(db, no_csrf):
    s = db.session
    unit = make_unit(s, "DPM", "Dinas Penanaman Modal")
    other = make_unit(s, "KEL", "Kelurahan Sukamaju")
    period = make_period(s, quarter(2023, 4))
    tie_data(s, unit, day=dt.date(2023, 11, 2))
    make_response(s, other, [4] * 9, day=dt.date(2023, 11, 2))
    make_user(s, "admin", "admin")
    make_user(s, "mgr", "manager", [unit])
    make_user(s, "mgr2", "manager", [other])
    make_user(s, "op", "operator", [unit])
    s.commit()
    return {"unit": unit, "other": other, "period": period}


def make_final_plan(db, world):
    s = db.session
    mgr = s.query(User).filter_by(username="mgr").one()
    plan = F.create_plan(s, world["unit"], world["period"], mgr)
    for p in plan.priorities:
        actions.add_action(s, p, mgr, f"Program {p.element_code}", 2024, [1], "Seksi Pelayanan")
    F.finalize_plan(s, plan, mgr)
    s.commit()
    return plan


def test_manager_goes_from_results_to_a_final_plan(db, client, world):
    unit, period = world["unit"], world["period"]
    login(client, "mgr")
    page = client.get(f"/admin/units/{unit.id}/rtl").get_data(as_text=True)
    assert "Triwulan IV 2023" in page and "Buat RTL" in page
    new_url = f"/admin/units/{unit.id}/rtl/period/{period.id}/new"
    form = client.get(new_url).get_data(as_text=True)
    checked = re.findall(r'name="codes" value="(U\d)" id="code-U\d" checked', form)
    assert checked == ["U2", "U5", "U7"]
    # The manager changes the set: drops U7, adds U8; records the forum date.
    response = client.post(new_url, data={"codes": ["U2", "U5", "U8"], "forum_date": "2024-01-15"})
    assert response.status_code == 302
    plan = db.session.query(FollowUpPlan).one()
    assert [p.element_code for p in plan.priorities] == ["U2", "U5", "U8"]
    assert plan.forum_date == dt.date(2024, 1, 15)
    plan_url = f"/admin/rtl/plan/{plan.id}"
    # Finalizing without actions is refused with a clear message.
    refused = client.post(plan_url + "/final")
    assert refused.status_code == 200 and "harus memiliki rencana aksi" in refused.get_data(as_text=True)
    for p in plan.priorities:
        r = client.post(f"/admin/rtl/priority/{p.id}/actions",
                        data={"program": f"Perbaikan {p.element_name}", "year": "2024", "quarters": ["1", "2"],
                              "pic": "Seksi Pelayanan"})
        assert r.status_code == 302
    bad = client.post(f"/admin/rtl/priority/{plan.priorities[0].id}/actions",
                      data={"program": "Tanpa triwulan", "year": "2024", "pic": "X"})
    assert bad.status_code == 200 and "Pilih paling sedikit satu triwulan" in bad.get_data(as_text=True)
    assert "Tanpa triwulan" in bad.get_data(as_text=True)  # the draft is kept
    assert client.post(plan_url + "/final").status_code == 302
    db.session.expire_all()
    assert db.session.get(FollowUpPlan, plan.id).final
    page = client.get(plan_url).get_data(as_text=True)
    assert "0 dari 3 RTL telah ditindaklanjuti (0%)" in page
    assert "TW 1, TW 2 2024" in page and "15 Januari 2024" in page
    # Once final, the plan cannot be changed.
    assert client.get(plan_url + "/edit").status_code == 302
    again = client.post(f"/admin/rtl/priority/{plan.priorities[0].id}/actions",
                        data={"program": "x", "year": "2024", "quarters": ["1"], "pic": "X"})
    assert "sudah final" in again.get_data(as_text=True)
    # The unit page lists the plan across periods.
    assert "0 dari 3 RTL" in client.get(f"/admin/units/{unit.id}/rtl").get_data(as_text=True)


def test_marking_sudah_over_htmx_and_without(db, client, world):
    plan = make_final_plan(db, world)
    action = plan.actions[0]
    login(client, "mgr")
    url = f"/admin/rtl/action/{action.id}/realization"
    data = {"status": "sudah", "realization": "Papan informasi persyaratan dipasang",
            "done_start": "2024-02-05", "done_end": "", "obstacles": ""}
    partial = client.post(url, data=data, headers={"HX-Request": "true"})
    html = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in html and 'id="action-live"' in html
    assert "Realisasi disimpan" in html and "5 Februari 2024" in html and "mgr" in html
    # Bad date over htmx: status 200 (htmx swaps it), clear message, nothing changes.
    bad = client.post(url, data={**data, "status": "belum", "target_date": "besok"}, headers={"HX-Request": "true"})
    assert bad.status_code == 200 and "wajib diisi" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(FollowUpAction, action.id).status == "sudah"
    # Without htmx: redirect back to the page, which shows the history.
    plain = client.post(url, data={"status": "belum", "pending_reason": "Anggaran belum turun",
                                   "strategy": "Usulan APBD Perubahan", "target_date": "2024-09-30",
                                   "pending_pic": "Sekretariat"})
    assert plain.status_code == 302
    page = client.get(f"/admin/rtl/action/{action.id}").get_data(as_text=True)
    assert "Anggaran belum turun" in page and "Sudah" in page and "Belum" in page
    assert "30 September 2024" in page


def test_operator_reads_but_cannot_mark(db, client, world):
    plan = make_final_plan(db, world)
    action = plan.actions[0]
    login(client, "op")
    assert client.get(f"/admin/rtl/plan/{plan.id}").status_code == 200
    page = client.get(f"/admin/rtl/action/{action.id}").get_data(as_text=True)
    assert "Simpan realisasi" not in page and "Unggah foto" not in page
    r = client.post(f"/admin/rtl/action/{action.id}/realization",
                    data={"status": "sudah", "realization": "x", "done_start": "2024-01-01"})
    assert r.status_code == 403
    assert client.post(f"/admin/rtl/action/{action.id}/photos",
                       data={"photo": (io.BytesIO(jpeg()), "a.jpg")}).status_code == 403
    assert client.get(f"/admin/units/{world['unit'].id}/rtl/period/{world['period'].id}/new").status_code == 403
    db.session.expire_all()
    assert db.session.get(FollowUpAction, action.id).status == "belum"


def test_other_units_manager_sees_nothing(db, client, world):
    plan = make_final_plan(db, world)
    login(client, "mgr2")
    assert client.get(f"/admin/rtl/plan/{plan.id}").status_code == 403
    assert client.get(f"/admin/rtl/action/{plan.actions[0].id}").status_code == 403
    assert client.get(f"/admin/units/{world['unit'].id}/rtl").status_code == 403
    assert client.post(f"/admin/units/{world['unit'].id}/rtl/period/{world['period'].id}/new",
                       data={"codes": ["U2"]}).status_code == 403
    # Only their own unit appears.
    assert client.get("/admin/rtl/").headers["Location"].endswith(f"/admin/units/{world['other'].id}/rtl")


def test_photo_upload_and_who_may_fetch_it(db, client, app, world):
    plan = make_final_plan(db, world)
    action = plan.actions[0]
    login(client, "mgr")
    r = client.post(f"/admin/rtl/action/{action.id}/photos",
                    data={"photo": (io.BytesIO(jpeg()), "dokumentasi.jpg"), "caption": "Papan informasi"},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    photo = db.session.query(FollowUpPhoto).one()
    folder = os.path.join(app.config["UPLOAD_FOLDER"], "rtl", str(world["unit"].id))
    assert sorted(os.listdir(folder)) == sorted([photo.file_name, photo.thumb_name])
    page = client.get(f"/admin/rtl/action/{action.id}").get_data(as_text=True)
    assert f"/admin/rtl/photo/{photo.id}/thumb" in page and "Papan informasi" in page
    full = client.get(f"/admin/rtl/photo/{photo.id}/full")
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    assert "no-store" in full.headers["Cache-Control"]
    with Image.open(io.BytesIO(client.get(f"/admin/rtl/photo/{photo.id}/thumb").data)) as thumb:
        assert max(thumb.size) == common.THUMB_EDGE
    assert client.get(f"/admin/rtl/photo/{photo.id + 99}/full").status_code == 404
    assert client.get(f"/admin/rtl/photo/{photo.id}/../../secret_key").status_code == 404

    # The operator of the same unit may see it; the other unit's manager may not; nor anonymous.
    client.post("/admin/logout")
    login(client, "op")
    assert client.get(f"/admin/rtl/photo/{photo.id}/full").status_code == 200
    client.post("/admin/logout")
    login(client, "mgr2")
    assert client.get(f"/admin/rtl/photo/{photo.id}/full").status_code == 403
    assert client.get(f"/admin/rtl/photo/{photo.id}/thumb").status_code == 403
    client.post("/admin/logout")
    anonymous = client.get(f"/admin/rtl/photo/{photo.id}/full")
    assert anonymous.status_code == 302 and "/admin/login" in anonymous.headers["Location"]


@pytest.mark.parametrize("data, name, message", [
    (b"<?php echo 'hello'; ?>" * 20, "foto.jpg", "bukan gambar JPEG, PNG atau WebP"),
    (jpeg(), "../../../instance/secret_key", "Nama berkas tidak valid"),
    (jpeg((1600, 1600)), "besar.jpg", "Foto terlalu besar"),
])
def test_bad_photo_uploads_get_a_message_and_store_nothing(db, client, app, world, data, name, message):
    app.config["RTL_PHOTO_MAX_BYTES"] = 20_000
    plan = make_final_plan(db, world)
    action = plan.actions[0]
    login(client, "mgr")
    r = client.post(f"/admin/rtl/action/{action.id}/photos", data={"photo": (io.BytesIO(data), name)},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and message in r.get_data(as_text=True)
    assert db.session.query(FollowUpPhoto).count() == 0
    assert not os.path.exists(os.path.join(app.config["UPLOAD_FOLDER"], "rtl", str(world["unit"].id))) or \
        os.listdir(os.path.join(app.config["UPLOAD_FOLDER"], "rtl", str(world["unit"].id))) == []


def test_bad_forum_date_and_empty_choice_are_refused(db, client, world):
    login(client, "mgr")
    url = f"/admin/units/{world['unit'].id}/rtl/period/{world['period'].id}/new"
    r = client.post(url, data={"codes": ["U2"], "forum_date": "15/01/2024"})
    assert r.status_code == 200 and "Tanggal forum konsultasi publik tidak valid" in r.get_data(as_text=True)
    r = client.post(url, data={"forum_date": ""})
    assert r.status_code == 200 and "Pilih paling sedikit satu unsur" in r.get_data(as_text=True)
    r = client.post(url, data={"codes": ["U2", "<script>"]})
    assert r.status_code == 200 and "&lt;SCRIPT&gt;" in r.get_data(as_text=True)
    assert db.session.query(FollowUpPlan).count() == 0


def test_posts_need_the_csrf_token(db, client, app, world):
    plan = make_final_plan(db, world)
    login(client, "mgr")
    app.config["WTF_CSRF_ENABLED"] = True
    r = client.post(f"/admin/rtl/action/{plan.actions[0].id}/realization",
                    data={"status": "sudah", "realization": "x", "done_start": "2024-01-01"})
    assert r.status_code == 400


def test_admin_can_reopen_a_final_plan_managers_cannot(db, client, world):
    plan = make_final_plan(db, world)
    login(client, "mgr")
    assert client.post(f"/admin/rtl/plan/{plan.id}/reopen").status_code == 403
    client.post("/admin/logout")
    login(client, "admin")
    assert client.post(f"/admin/rtl/plan/{plan.id}/reopen").status_code == 302
    db.session.expire_all()
    assert not db.session.get(FollowUpPlan, plan.id).final


def test_overdue_and_effect_are_shown_on_the_plan(db, client, world):
    plan = make_final_plan(db, world)  # actions scheduled TW 1 2024, today is long after
    # Triwulan I 2024 results: U2 rises from 2,50 to 4,00.
    make_response(db.session, world["unit"], [4] * 9, day=dt.date(2024, 2, 1))
    db.session.commit()
    login(client, "mgr")
    page = client.get(f"/admin/rtl/plan/{plan.id}").get_data(as_text=True)
    assert "3 terlambat" in page and 'class="overdue"' in page
    assert "2,50" in page and "4,00" in page and "▲ +1,50" in page and "Triwulan I 2024" in page


def test_draft_plan_edit_priorities_and_actions(db, client, world):
    s = db.session
    mgr = s.query(User).filter_by(username="mgr").one()
    plan = F.create_plan(s, world["unit"], world["period"], mgr)
    action = actions.add_action(s, plan.priorities[0], mgr, "Lama", 2024, [1], "Seksi A")
    s.commit()
    plan_id, action_id = plan.id, action.id
    login(client, "mgr")
    edit = client.get(f"/admin/rtl/plan/{plan_id}/edit").get_data(as_text=True)
    assert re.findall(r'value="(U\d)" id="code-U\d" checked', edit) == ["U2", "U5", "U7"]
    r = client.post(f"/admin/rtl/plan/{plan_id}/edit", data={"codes": ["U2", "U8"], "forum_date": "2024-01-20"})
    assert r.status_code == 302
    bad = client.post(f"/admin/rtl/action/{action_id}/edit",
                      data={"program": "Baru", "year": "1999", "quarters": ["3"], "pic": "Seksi B"})
    assert bad.status_code == 200 and "antara 2000 dan 2100" in bad.get_data(as_text=True)
    r = client.post(f"/admin/rtl/action/{action_id}/edit",
                    data={"program": "Baru", "year": "2024", "quarters": ["3", "4"], "pic": "Seksi B"})
    assert r.status_code == 302
    page = client.get(f"/admin/rtl/plan/{plan_id}").get_data(as_text=True)
    assert "TW 3, TW 4 2024" in page and "Seksi B" in page and "20 Januari 2024" in page
    assert "U8 – Sarana dan prasarana" in page and "U5 – " not in page
    # The history names the old and new text.
    assert "Lama" in page and "TW 1 2024" in page
    assert client.post(f"/admin/rtl/action/{action_id}/delete").status_code == 302
    s.expire_all()
    assert s.get(FollowUpAction, action_id) is None
    assert "Baru" in client.get(f"/admin/rtl/plan/{plan_id}").get_data(as_text=True)  # kept in the history


def test_daily_reminders_for_overdue_actions(db, client, world):
    """The worker's daily run opens one reminder per overdue action, counts the days it kept
    reminding, shows them on the unit's RTL page and resolves the one reported done."""
    from skm.followup.reminders import open_reminders, remind_overdue
    from skm.models import FollowUpReminder

    plan = make_final_plan(db, world)  # three actions scheduled TW 1 2024
    unit = world["unit"]
    assert remind_overdue(db.session, dt.datetime(2024, 3, 30, 3)) == (0, 0)  # not over yet
    day1 = dt.datetime(2024, 4, 2, 3)  # 10:00 WIB, the quarter has ended
    assert remind_overdue(db.session, day1) == (3, 0)
    assert remind_overdue(db.session, day1 + dt.timedelta(hours=1)) == (0, 0)  # hourly run, same day
    assert remind_overdue(db.session, day1 + dt.timedelta(days=2)) == (0, 0)
    db.session.commit()
    assert [r.days for r in open_reminders(db.session, unit)] == [2, 2, 2]
    assert open_reminders(db.session, world["other"]) == []
    login(client, "mgr")
    page = client.get(f"/admin/units/{unit.id}/rtl").get_data(as_text=True)
    assert "Pengingat RTL terlambat (3)" in page and "terlambat sejak 2 April 2024" in page
    assert "sudah diingatkan 2 hari" in page and plan.actions[0].program in page and "jadwal TW 1 2024" in page
    # Reported done: its reminder is resolved on the next run and leaves the page.
    action = plan.actions[0]
    client.post(f"/admin/rtl/action/{action.id}/realization",
                data={"status": "sudah", "realization": "Selesai", "done_start": "2024-04-05", "done_end": "",
                      "obstacles": ""})
    db.session.rollback()
    assert remind_overdue(db.session, day1 + dt.timedelta(days=3)) == (0, 1)
    db.session.commit()
    page = client.get(f"/admin/units/{unit.id}/rtl").get_data(as_text=True)
    assert "Pengingat RTL terlambat (2)" in page and action.program not in page.split("Hasil per periode")[0]
    assert db.session.query(FollowUpReminder).count() == 3  # the resolved one is kept, closed
