"""Every visitor screen of the kiosk in both orientations: axe-core finds no serious or
critical violation, the controls fit without scrolling down to 1280×672 and 800×1180 (and
with an on-screen keyboard open on the text screens), and screenshots of each screen at
each size go to tests/artifacts/kiosk/ (named a11y-<screen>-<width>x<height>.png)."""
from __future__ import annotations

import os

import pytest

from tests.kiosk_browser_helpers import (
    answer_elements,
    on,
    paired_kiosk,
    serious_violations,
    set_unit,
    tap,
    type_pad,
)

pytestmark = pytest.mark.browser

ORIENTATIONS = [(1280, 800), (800, 1280)]
KEYBOARD_SAFE = [(1280, 672), (800, 1180)]
# An on-screen keyboard takes about 45 % of a landscape tablet and 30 % of a portrait one.
WITH_KEYBOARD = [(1280, 440), (800, 900)]
CONTROLS = ("#screen .foot .btn, #screen .btn-send, #screen .btn-skip, #screen .numpad .btn-primary, "
            "#screen .other-form .btn-primary, #screen .btn-start, #screen .btn-answer, #screen [data-done], "
            "#idle-overlay:not([hidden]) .btn")


HIDDEN = """(sel) => { window.scrollTo(0, 0);
    const idle = document.getElementById('idle-overlay');
    if (idle && !idle.hidden) { sel = '#idle-overlay .btn'; }
    return [...document.querySelectorAll(sel)].filter(b => b.offsetParent && !b.hidden).filter(b => {
        const r = b.getBoundingClientRect();
        if (r.top < 0 || r.bottom > window.innerHeight + 0.5 || r.right > window.innerWidth + 0.5) { return true; }
        // Not covered (by the sticky footer, a banner): a tap on its middle reaches it.
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return !(hit && (hit === b || b.contains(hit)));
    }).map(b => { const r = b.getBoundingClientRect(); const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return document.getElementById('screen').className + getComputedStyle(b).pointerEvents + ' covered by ' + (hit ? hit.outerHTML.slice(0, 80) : 'nothing') + ' ' + JSON.stringify(r); }); }"""


def _hidden_controls(page, selector=CONTROLS):
    """Controls not wholly inside the viewport and uncovered (as first shown, without scrolling)."""
    return page.evaluate(HIDDEN, selector)


LOW_BORDERS = """() => {
    const rgb = c => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
    const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
    const page = getComputedStyle(document.body).backgroundColor;
    return [...document.querySelectorAll('#screen .btn-choice, #screen .btn-answer, #screen .btn-key:not(.btn-primary), #screen .btn-restart, #idle-overlay .btn-choice')]
        .filter(b => b.offsetParent && getComputedStyle(b).borderTopStyle !== 'none')
        .map(b => [b.textContent.trim(), ratio(getComputedStyle(b).borderTopColor, page)])
        .filter(([, r]) => r < 3);
}"""


def check(page, folder, name, text_input=None):
    page.locator("#screen:not(.arming)").wait_for()  # a fresh screen takes taps after a moment
    assert page.evaluate(LOW_BORDERS) == [], f"{name}: button borders under 3:1"
    for width, height in ORIENTATIONS + KEYBOARD_SAFE:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(120)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} {width}x{height}: horizontal scroll of {overflow}px"
        assert _hidden_controls(page) == [], f"{name} {width}x{height}"
        page.screenshot(path=os.path.join(folder, f"a11y-{name}-{width}x{height}.png"))
        if (width, height) in ORIENTATIONS:
            assert serious_violations(page) == [], f"{name} {width}x{height}"
    if text_input:
        for width, height in WITH_KEYBOARD:
            page.set_viewport_size({"width": width, "height": height})
            page.focus(text_input)
            page.wait_for_timeout(120)
            hidden = page.evaluate(HIDDEN.replace("window.scrollTo(0, 0);", ""),
                                   "#screen .btn-send, #screen .btn-skip, #screen .other-form .btn-primary, #screen .foot .btn")
            assert hidden == [], f"{name} with keyboard {width}x{height}: {hidden}"
            page.screenshot(path=os.path.join(folder, f"a11y-{name}-keyboard-{width}x{height}.png"))
    page.set_viewport_size({"width": 1280, "height": 800})


@pytest.fixture
def folder(artifacts):
    path = os.path.join(artifacts, "kiosk")
    os.makedirs(path, exist_ok=True)
    return path


def test_every_visitor_screen_is_accessible_and_keyboard_safe(app, db, page, live_server, folder):
    app.config["KIOSK_IDLE_COUNTDOWN"] = 30
    app.config["KIOSK_COOLDOWN_SECONDS"] = 0  # the test starts a second survey right after a send
    page.goto(f"{live_server}/kiosk/")
    check(page, folder, "pair")
    unit, elements = paired_kiosk(app, db, page, live_server, thanks_seconds=60, ask_suggestion_on_low=True,
                                  services=("Izin Usaha", "Izin Mendirikan Bangunan", "Cetak KTP"))
    assert page.evaluate("document.querySelector('meta[name=viewport]').content").find("user-scalable=no") < 0
    assert page.locator("#screen h1").count() == 1
    check(page, folder, "welcome")
    tap(page, "Sentuh untuk memulai")
    on(page, "service")
    check(page, folder, "service")
    tap(page, "Cetak KTP")
    on(page, "gender")
    check(page, folder, "gender")
    tap(page, "Perempuan")
    on(page, "age")
    type_pad(page, "45")
    check(page, folder, "age")
    tap(page, "Lanjut")
    on(page, "education")
    check(page, folder, "education")
    tap(page, "S1")
    on(page, "occupation")
    check(page, folder, "occupation")
    tap(page, "Lainnya")
    on(page, "occupation", "occupation-other")
    check(page, folder, "occupation-other", text_input="#other-input")
    page.fill("#other-input", "Petani")
    tap(page, "Lanjut")
    on(page, "element")
    # After each swap focus is on the new question and a live region says it.
    assert page.evaluate("document.activeElement.tagName") == "H1"
    assert page.inner_text("#announce") == page.inner_text("#screen h1")
    assert page.locator("#screen fieldset legend").count() == 1
    check(page, folder, "element")
    answer_elements(page, elements, [1] + [3] * 8)
    back_to = page.locator("#screen .btn-back")
    back_to.click()
    on(page, "element", f"el-{elements[-1]}")
    assert page.locator("#screen button[aria-pressed=true]").count() == 1  # the remembered answer
    check(page, folder, "element-answered")
    page.locator("#screen button[name=value][value='3']").click()
    on(page, "saran")
    check(page, folder, "saran", text_input="#saran-input")
    tap(page, "Kirim penilaian")
    page.locator(".status-sent", has_text="Terkirim").wait_for()
    assert page.locator("#screen h1").count() == 1
    check(page, folder, "thanks")
    # The idle dialog, over a survey screen.
    set_unit(db, unit, idle_seconds=1)
    page.locator("#screen [data-done]").click()
    on(page, "welcome")
    tap(page, "Sentuh untuk memulai")
    on(page, "service")
    page.locator("#idle-overlay").wait_for(state="visible", timeout=5000)
    check(page, folder, "idle")
