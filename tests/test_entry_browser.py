"""Paper entry in a real browser, typed with the keyboard only (no mouse, no fill())."""
from __future__ import annotations

import datetime as dt
import os

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from skm.models import Response
from tests.factories import PASSWORD, make_unit, make_user

pytestmark = pytest.mark.browser


def _shot(page, artifacts, name):
    folder = os.path.join(artifacts, "data")
    os.makedirs(folder, exist_ok=True)
    page.screenshot(path=os.path.join(folder, name), full_page=True)


def _focused(page) -> str:
    return page.evaluate("document.activeElement && (document.activeElement.id || document.activeElement.tagName)")


def test_paper_form_typed_with_keystrokes_only(db, live_server, page, artifacts):
    unit = make_unit(db.session, services=("Izin Usaha", "Cetak KTP"))
    user = make_user(db.session, "operator1", "operator", [unit])
    db.session.commit()
    unit_id, user_id = unit.id, user.id
    cetak_ktp = next(s.id for s in unit.services if s.name == "Cetak KTP")
    db.session.rollback()  # end the read transaction: SQLite would lock the server's writes
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    # Every resource loads (favicon aside: the app has none), and the CSP blocks nothing.
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)

    # Log in with the keyboard too.
    page.goto(f"{live_server}/admin/login")
    page.focus("input[name=username]")
    page.keyboard.type("operator1")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/admin/")

    page.goto(f"{live_server}/admin/units/{unit_id}/entry")
    page.wait_for_selector("#entry-form[data-ready]")
    assert _focused(page) == "f-jam"  # ready for the first keystroke
    kb = page.keyboard
    kb.press("Shift+Tab")
    assert _focused(page) == "f-tanggal"
    kb.type("01-08-2023")
    kb.press("Tab")
    kb.type("1")  # time slot 08.00–12.00, focus moves on by itself
    assert _focused(page) == "f-layanan"
    kb.type("1")  # option "1 – Cetak KTP" (services are listed by name)
    kb.press("Tab")
    kb.type("p")  # gender, upper-cased, moves on
    assert _focused(page) == "f-usia"
    kb.type("35")
    kb.press("Tab")
    kb.type("S1")
    kb.press("Tab")
    kb.type("Swasta")
    kb.press("Tab")
    assert _focused(page) == "f-U1"
    kb.type("5")  # refused on the spot: hint shown, focus stays
    assert _focused(page) == "f-U1"
    assert page.locator("#f-U1").input_value() == ""
    hint = page.locator("tr:has(#f-U1) .js-hint")
    assert hint.is_visible() and "hanya 1, 2, 3 atau 4" in hint.inner_text()
    _shot(page, artifacts, "entry-1-refused-5.png")
    kb.type("434432431")  # nine ratings, one keystroke each
    assert _focused(page) == "f-saran"
    assert not hint.is_visible()
    kb.type("Ruang tunggu panas")
    _shot(page, artifacts, "entry-2-filled.png")
    kb.press("Enter")
    page.wait_for_selector("text=Formulir tersimpan")
    page.wait_for_selector("#entry-form[data-ready]")
    _shot(page, artifacts, "entry-3-saved.png")
    assert "sudah memasukkan 1 formulir" in page.locator("#count-today").inner_text()
    assert page.locator("#f-tanggal").input_value() == "01-08-2023"  # the last date again
    assert _focused(page) == "f-jam"

    saved = db.session.scalar(select(Response))
    assert saved.channel == "paper" and saved.created_by_id == user_id
    assert saved.survey_date == dt.date(2023, 8, 1) and saved.time_slot == "08.00-12.00"
    assert saved.service_id == cetak_ktp
    assert (saved.gender, saved.age, saved.education, saved.occupation) == ("P", 35, "S1", "SWASTA")
    assert saved.suggestion == "Ruang tunggu panas"
    assert {a.element.code: a.rating for a in saved.answers} == {
        "U1": 4, "U2": 3, "U3": 4, "U4": 4, "U5": 3, "U6": 2, "U7": 4, "U8": 3, "U9": 1}
    saved_id = saved.id
    db.session.rollback()

    # Second form: skip U5 with Tab; the server refuses and puts the cursor on U5.
    kb.type("2")
    kb.press("Tab")  # no service
    kb.type("L")
    kb.type("62")
    kb.press("Tab")
    kb.press("Tab")  # no education
    kb.press("Tab")  # no occupation
    kb.type("3333")
    kb.press("Tab")  # U5 left empty
    kb.type("3333")
    kb.press("Enter")
    page.wait_for_selector("#form-errors")
    page.wait_for_selector("#entry-form[data-ready]")
    assert "U5 belum diisi" in page.locator("#err-U5").inner_text()
    assert _focused(page) == "f-U5"
    _shot(page, artifacts, "entry-4-missing-rating.png")
    kb.type("2")
    kb.press("Enter")
    page.wait_for_selector("text=Formulir tersimpan")
    page.wait_for_selector("#entry-form[data-ready]")
    assert "sudah memasukkan 2 formulir" in page.locator("#count-today").inner_text()
    assert len(db.session.scalars(select(Response)).all()) == 2
    db.session.rollback()

    # Undo the second form from the keyboard: Shift+Tab twice from the first field reaches the button.
    kb.press("Shift+Tab")
    kb.press("Shift+Tab")
    assert _focused(page) == "undo"
    _shot(page, artifacts, "entry-5-undo-focused.png")
    kb.press("Enter")
    page.wait_for_selector("text=dibatalkan dan dihapus")
    _shot(page, artifacts, "entry-6-undone.png")
    assert "sudah memasukkan 1 formulir" in page.locator("#count-today").inner_text()
    remaining = db.session.scalars(select(Response)).all()
    assert [r.id for r in remaining] == [saved_id]
    db.session.rollback()
    assert page.locator("#undo").count() == 0  # one level of undo only
    assert errors == []


def test_fifty_forms_in_a_sitting_without_the_mouse(db, live_server, page, artifacts):
    """The issue's 'done when': 50 paper forms typed in one go; each save leaves the cursor
    ready for the next form, so the same keystrokes repeat 50 times."""
    import time

    unit = make_unit(db.session)
    make_user(db.session, "operator1", "operator", [unit])
    db.session.commit()
    unit_id = unit.id
    db.session.rollback()
    page.goto(f"{live_server}/admin/login")
    page.focus("input[name=username]")
    page.keyboard.type("operator1")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/admin/")
    page.goto(f"{live_server}/admin/units/{unit_id}/entry")
    page.wait_for_selector("#entry-form[data-ready]")
    kb = page.keyboard
    kb.press("Shift+Tab")
    kb.type("02-08-2023")
    kb.press("Tab")
    started = time.perf_counter()
    for i in range(50):
        page.wait_for_selector("#entry-form[data-ready]")  # entry.js has taken over the keys
        expect(page.locator("#f-jam")).to_be_focused()
        kb.type("12"[i % 2])
        kb.type("12"[(i // 2) % 2])  # service by its number, then Tab
        kb.press("Tab")
        kb.type("LP"[i % 2])
        kb.type(str(18 + i))
        kb.press("Tab")
        kb.type("SMA")
        kb.press("Tab")
        kb.type("PNS")
        kb.press("Tab")
        kb.type("".join(str(1 + (i + k) % 4) for k in range(9)))
        kb.type(f"saran {i}")
        kb.press("Enter")
        expect(page.locator("#count-today strong")).to_have_text(str(i + 1))
    elapsed = time.perf_counter() - started
    _shot(page, artifacts, "entry-7-fifty-forms.png")
    print(f"\n50 forms typed in {elapsed:.1f} s ({elapsed / 50 * 1000:.0f} ms per form incl. typing)")
    rows = db.session.scalars(select(Response).order_by(Response.id)).all()
    assert len(rows) == 50
    assert [r.suggestion for r in rows] == [f"saran {i}" for i in range(50)]
    assert [r.age for r in rows] == list(range(18, 68))
    assert all(r.survey_date == dt.date(2023, 8, 2) for r in rows)
    assert all(len(r.answers) == 9 for r in rows)
    db.session.rollback()
