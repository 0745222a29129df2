"""Issue 17: follow-up dates are checked; unusual ones need the manager's confirmation."""
from __future__ import annotations

import datetime as dt

import pytest

from skm.followup import actions
from skm.followup import plans as F
from skm.followup.actions import ConfirmationRequired
from skm.models import FollowUpAction, User
from tests.test_followup_web import world  # noqa: F401  (Triwulan IV 2023 of DPM, manager "mgr")


def _plan(db, world, forum=dt.date(2024, 1, 15)):  # noqa: F811
    mgr = db.session.query(User).filter_by(username="mgr").one()
    plan = F.create_plan(db.session, world["unit"], world["period"], mgr, forum_date=forum)
    db.session.commit()
    return plan, mgr


@pytest.mark.parametrize(("year", "quarters", "expected"), [
    (2023, [4], ["di dalam periode yang disurvei (Triwulan IV 2023)"]),
    (2023, [2], ["sebelum periode yang disurvei", "sebelum Forum Konsultasi Publik (15 Januari 2024)"]),
    (2024, [1], []),  # the forum is in TW 1 2024 itself: fine
    (2024, [2, 3], []),
])
def test_schedule_inside_the_period_or_before_the_forum_needs_confirmation(db, world, year, quarters,  # noqa: F811
                                                                           expected):
    plan, mgr = _plan(db, world)
    priority = plan.priorities[0]
    if not expected:
        actions.add_action(db.session, priority, mgr, "Tambah loket", year, quarters, "Seksi Pelayanan")
        return
    with pytest.raises(ConfirmationRequired) as exc:
        actions.add_action(db.session, priority, mgr, "Tambah loket", year, quarters, "Seksi Pelayanan")
    for text in expected:
        assert any(text in w for w in exc.value.warnings), exc.value.warnings
    db.session.rollback()
    assert db.session.query(FollowUpAction).count() == 0
    action = actions.add_action(db.session, plan.priorities[0], mgr, "Tambah loket", year, quarters,
                                "Seksi Pelayanan", confirmed=True)
    assert action.year == year


def test_done_before_planned_needs_confirmation(db, world):  # noqa: F811
    plan, mgr = _plan(db, world)
    action = actions.add_action(db.session, plan.priorities[0], mgr, "Tambah loket", 2024, [2], "Seksi Pelayanan")
    for p in plan.priorities[1:]:
        actions.add_action(db.session, p, mgr, "Perbaiki", 2024, [2], "Seksi Pelayanan")
    F.finalize_plan(db.session, plan, mgr)
    db.session.commit()
    with pytest.raises(ConfirmationRequired) as exc:
        actions.record_realization(db.session, action, mgr, status="sudah", realization="Loket ditambah",
                                   done_start="2024-02-01")
    assert "sebelum jadwal rencananya (TW 2 2024, mulai 1 April 2024)" in exc.value.warnings[0]
    db.session.rollback()
    assert db.session.get(FollowUpAction, action.id).reported_at is None
    actions.record_realization(db.session, action, mgr, status="sudah", realization="Loket ditambah",
                               done_start="2024-04-10")  # in its quarter: no question
    actions.record_realization(db.session, action, mgr, status="sudah", realization="Loket ditambah",
                               done_start="2024-02-01", confirmed=True)
    assert action.done_start == dt.date(2024, 2, 1)


def test_the_pages_ask_for_confirmation_and_store_only_then(app, db, client, world):  # noqa: F811
    from tests.factories import login
    from tests.test_admin_pages import url

    plan, mgr = _plan(db, world)
    priority = plan.priorities[0]
    login(client, "mgr")
    add = url(app, "admin.followup_action_add", priority_id=priority.id)
    fields = {"program": "Tambah loket", "year": "2023", "quarters": ["4"], "pic": "Seksi Pelayanan"}
    page = client.post(add, data=fields)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Periksa tanggal" in text and 'name="konfirmasi"' in text
    assert "di dalam periode yang disurvei" in text
    assert db.session.query(FollowUpAction).count() == 0
    assert client.post(add, data={**fields, "konfirmasi": "1"}).status_code == 302
    action = db.session.query(FollowUpAction).one()
    edit = url(app, "admin.followup_action_edit", action_id=action.id)
    page = client.post(edit, data={**fields, "year": "2023", "quarters": ["1"]})
    assert page.status_code == 200 and 'name="konfirmasi"' in page.get_data(as_text=True)
    db.session.expire_all()
    assert action.quarters == [4]
    for p in plan.priorities[1:]:
        actions.add_action(db.session, p, mgr, "Perbaiki", 2024, [2], "Seksi Pelayanan")
    action.year, action.tw4, action.tw2 = 2024, False, True
    F.finalize_plan(db.session, plan, mgr)
    db.session.commit()
    real = url(app, "admin.followup_realization", action_id=action.id)
    done = {"status": "sudah", "realization": "Loket ditambah", "done_start": "2024-01-20"}
    page = client.post(real, data=done, headers={"HX-Request": "true"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="konfirmasi"' in text and "sebelum jadwal rencananya" in text
    db.session.expire_all()
    assert action.reported_at is None
    assert client.post(real, data={**done, "konfirmasi": "1"}).status_code == 302
    db.session.expire_all()
    assert action.done_start == dt.date(2024, 1, 20)
