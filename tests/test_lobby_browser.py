"""Issue 17: the lobby page /papan/<CODE> fits a 1280×800 screen as well as 1080p: no
scrollbars, every element inside the viewport (screenshots in tests/artifacts/publik/)."""
from __future__ import annotations

import os

import pytest

from tests.factories import make_response
from tests.publication_fixtures import build_public_world

pytestmark = pytest.mark.browser

OUTSIDE = """
() => {
  const w = window.innerWidth, h = window.innerHeight, out = [];
  const doc = document.documentElement;
  if (doc.scrollHeight > h || doc.scrollWidth > w) out.push(`page ${doc.scrollWidth}×${doc.scrollHeight} in ${w}×${h}`);
  document.querySelectorAll('main *').forEach(el => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return;
    if (r.left < -0.5 || r.top < -0.5 || r.right > w + 0.5 || r.bottom > h + 0.5)
      out.push(`<${el.tagName.toLowerCase()} class="${el.className}"> ${r.left|0},${r.top|0}–${r.right|0},${r.bottom|0}`);
  });
  return out;
}
"""


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1920, 1080)])
def test_lobby_page_fits_the_screen(app, db, live_server, browser, artifacts, width, height):
    world = build_public_world(db.session, app.config["UPLOAD_FOLDER"])
    unit = world.pub
    unit.kiosk_show_ikm = True
    unit.name = "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Bengkayang"
    period = world.periods[(2024, 1)]
    for i, education in enumerate(("TS", "SD", "SMP", "SMA", "DIII", "S1", "S2", "S3")):
        make_response(db.session, unit, [3] * 9, day=period.start_date, gender="LP"[i % 2], education=education)
    db.session.commit()
    context = browser.new_context(viewport={"width": width, "height": height}, locale="id-ID")
    page = context.new_page()
    page.goto(f"{live_server}/papan/{unit.code}")
    text = page.inner_text("body")
    assert "Loket antrean kedua dibuka" in text and "S3" in text  # the full page, not a short one
    out = os.path.join(artifacts, "publik")
    os.makedirs(out, exist_ok=True)
    page.screenshot(path=os.path.join(out, f"papan-{width}x{height}.png"))
    problems = page.evaluate(OUTSIDE)
    context.close()
    assert problems == []
