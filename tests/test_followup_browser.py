"""Browser: a manager plans from the results and marks an action Sudah with a description and a photo."""
from __future__ import annotations

import datetime as dt
import os

import pytest
from PIL import Image, ImageDraw

from skm.followup import actions
from skm.models import FollowUpAction, FollowUpPhoto, FollowUpPlan
from skm.survey.periods import quarter
from tests.factories import browser_login, make_period, make_unit, make_user, watch_page_errors
from tests.test_followup import tie_data

pytestmark = pytest.mark.browser


@pytest.fixture
def shots(artifacts):
    folder = os.path.join(artifacts, "rtl")
    os.makedirs(folder, exist_ok=True)
    return folder


def sample_photo(path):
    image = Image.new("RGB", (1200, 800), (235, 240, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((100, 100, 1100, 700), outline=(11, 92, 173), width=12)
    draw.text((140, 140), "Papan informasi persyaratan", fill=(0, 0, 0))
    image.save(path, "JPEG")
    return path


def test_manager_plans_and_marks_an_action_sudah_with_photo(db, live_server, page, shots, tmp_path):
    s = db.session
    unit = make_unit(s, "DPM", "Dinas Penanaman Modal")
    make_period(s, quarter(2023, 4))
    tie_data(s, unit, day=dt.date(2023, 11, 2))
    make_user(s, "manajer", "manager", [unit])
    s.commit()
    errors = watch_page_errors(page)

    browser_login(page, live_server, "manajer")
    page.click("nav.mainnav >> text=RTL")
    page.wait_for_selector("text=Hasil per periode")
    page.screenshot(path=os.path.join(shots, "01-unit-periods.png"), full_page=True)

    # From the Triwulan IV results to a plan: the proposal is U2, U5, U7 (a tie decided by order).
    page.click("text=Buat RTL")
    assert page.is_checked("#code-U2") and page.is_checked("#code-U5") and page.is_checked("#code-U7")
    assert not page.is_checked("#code-U8")
    page.fill("input[name=forum_date]", "2024-01-15")
    page.screenshot(path=os.path.join(shots, "02-new-plan.png"), full_page=True)
    page.click("button:has-text('Buat RTL')")
    page.wait_for_selector("text=Rencana Tindak Lanjut – Triwulan IV 2023")
    for section in page.locator("section.priority").all():
        form = section.locator("form.rtl-form")
        form.locator("textarea[name=program]").fill("Memasang papan informasi persyaratan")
        form.locator("input[name=quarters][value='1']").check()
        form.locator("input[name=pic]").fill("Seksi Pelayanan")
        form.locator("button:has-text('Tambah')").click()
        page.wait_for_load_state()
    page.screenshot(path=os.path.join(shots, "03a-plan-draft.png"), full_page=True)
    dialogs = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.click("button:has-text('Tandai final')")
    assert "Tandai RTL final?" in dialogs[0] and page.locator(".badge.draft").count() == 1  # cancelled
    page.once("dialog", lambda d: d.accept())
    page.click("button:has-text('Tandai final')")
    page.wait_for_selector(".badge.final")
    assert "0 dari 3 RTL telah ditindaklanjuti (0%)" in page.inner_text("#share")
    page.screenshot(path=os.path.join(shots, "03-plan-final.png"), full_page=True)

    # Mark the first action Sudah with a description and a date; htmx swaps the section.
    page.locator("table.rtl-actions td.links a", has_text="Realisasi").first.click()
    page.wait_for_selector("form.realization-form")
    page.check("input[name=status][value=sudah]")
    assert not page.is_visible("textarea[name=pending_reason]")  # Belum-only fields hide
    page.fill("textarea[name=realization]", "Papan informasi persyaratan dipasang di ruang tunggu")
    page.fill("input[name=done_start]", "2024-02-05")
    url_before = page.url
    page.click("button:has-text('Simpan realisasi')")
    page.wait_for_selector("text=Realisasi disimpan.")
    assert page.url == url_before  # swapped in place, no reload
    assert page.inner_text("#status-badge") == "Sudah"
    assert "5 Februari 2024" in page.inner_text("#action-live")
    assert "manajer" in page.inner_text(".history-table")

    # Then a documentation photo with a caption.
    page.set_input_files("input[name=photo]", sample_photo(tmp_path / "papan.jpg"))
    page.fill("input[name=caption]", "Papan informasi di ruang tunggu")
    page.click("button:has-text('Unggah foto')")
    page.wait_for_selector("text=Foto dokumentasi diunggah.")
    thumb = page.locator(".photo-grid img").first
    thumb.wait_for()
    assert page.evaluate("img => img.complete && img.naturalWidth", thumb.element_handle()) == 320
    assert "Papan informasi di ruang tunggu" in page.inner_text(".photo-grid")
    page.screenshot(path=os.path.join(shots, "04-action-sudah-with-photo.png"), full_page=True)

    page.click("text=RTL Triwulan IV 2023")
    assert "1 dari 3 RTL telah ditindaklanjuti (33,33%)" in page.inner_text("#share")
    page.screenshot(path=os.path.join(shots, "05-plan-after.png"), full_page=True)
    assert errors == []

    s.expire_all()
    plan = s.query(FollowUpPlan).one()
    done = s.query(FollowUpAction).filter_by(status="sudah").one()
    assert done.realization.startswith("Papan informasi") and done.done_start == dt.date(2024, 2, 5)
    assert s.query(FollowUpPhoto).one().action_id == done.id and plan.final


def test_belum_needs_reason_and_the_error_comes_back_in_place(db, live_server, page, shots):
    from skm.followup import plans as F

    s = db.session
    unit = make_unit(s, "DPM", "Dinas Penanaman Modal", timezone="WITA")
    period = make_period(s, quarter(2023, 4))
    tie_data(s, unit, day=dt.date(2023, 11, 2))
    manager = make_user(s, "manajer", "manager", [unit])
    plan = F.create_plan(s, unit, period, manager)
    for p in plan.priorities:
        actions.add_action(s, p, manager, f"Program {p.element_code}", 2024, [1, 2], "Seksi Pelayanan")
    F.finalize_plan(s, plan, manager)
    action_id = plan.actions[1].id
    # Commit last and touch no attribute afterwards: outside a request every SQLite
    # transaction takes the write lock, which would block the server thread.
    s.commit()

    browser_login(page, live_server, "manajer")
    page.wait_for_selector("text=Keluar")
    page.goto(f"{live_server}/admin/rtl/action/{action_id}")
    page.check("input[name=status][value=belum]")
    assert not page.is_visible("textarea[name=realization]")  # Sudah-only fields hide
    assert page.input_value("input[name=pending_pic]") == "Seksi Pelayanan"
    page.click("button:has-text('Simpan realisasi')")
    page.wait_for_selector("#action-live .error")
    assert "Alasan belum dilaksanakan wajib diisi." in page.inner_text("#action-live .error")
    page.screenshot(path=os.path.join(shots, "06-belum-error.png"), full_page=True)
    page.fill("textarea[name=pending_reason]", "Anggaran belum tersedia")
    page.fill("textarea[name=strategy]", "Diusulkan pada APBD Perubahan")
    page.fill("input[name=target_date]", "2024-09-30")
    page.click("button:has-text('Simpan realisasi')")
    page.wait_for_selector("text=Realisasi disimpan.")
    assert page.inner_text("#status-badge") == "Belum"
    assert "30 September 2024" in page.inner_text("#action-live")
    assert "(WITA)" in page.inner_text(".history-table")
    page.screenshot(path=os.path.join(shots, "07-belum-saved.png"), full_page=True)
    s.expire_all()
    saved = s.get(FollowUpAction, action_id)
    assert (saved.status, saved.pending_reason, saved.target_date) == (
        "belum", "Anggaran belum tersedia", dt.date(2024, 9, 30))
