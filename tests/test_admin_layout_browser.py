"""Issue 17: every admin page at 1366×768, screenshots in tests/artifacts/admin/, and every
table's header cells line up with its body columns (a page's CSS cannot turn a table part
into a flex box)."""
from __future__ import annotations

import os

import pytest

from tests.factories import browser_login
from tests.test_admin_access import _admin_rules, _is_old_address, _url, world  # noqa: F401  (the access walk's world)

pytestmark = pytest.mark.browser

# For each table: the x-range of every single-column cell, per row; rows are compared with the
# header row column by column (cells spanning several columns are skipped).
MISALIGNED = """
() => {
  const out = [];
  document.querySelectorAll('table').forEach((table, t) => {
    if (!table.offsetParent) return;
    const rows = Array.from(table.rows);
    const grid = rows.map(row => {
      const cols = {}; let i = 0;
      for (const cell of row.cells) {
        const r = cell.getBoundingClientRect();
        if (cell.colSpan === 1) cols[i] = [r.left, r.right];
        i += cell.colSpan;
      }
      return {cols, n: i, head: row.parentElement.tagName === 'THEAD' || Array.from(row.cells).every(c => c.tagName === 'TH')};
    });
    const header = grid.find(g => g.head);
    if (!header) return;
    grid.forEach((g, r) => {
      if (g === header) return;
      for (const [i, [l, rgt]] of Object.entries(g.cols)) {
        const h = header.cols[i];
        if (h && (Math.abs(h[0] - l) > 1.5 || Math.abs(h[1] - rgt) > 1.5))
          out.push(`table ${t} (${table.className || 'no class'}) row ${r} column ${i}: ` +
                   `header ${h[0].toFixed(0)}–${h[1].toFixed(0)}, cell ${l.toFixed(0)}–${rgt.toFixed(0)}`);
      }
    });
    // a table part laid out as a flex/grid box is not a table any more
    table.querySelectorAll('thead, tbody, tr, td, th').forEach(el => {
      const d = getComputedStyle(el).display;
      if (!d.startsWith('table')) out.push(`table ${t}: <${el.tagName.toLowerCase()} class="${el.className}"> is display:${d}`);
    });
    if (!getComputedStyle(table).display.startsWith('table'))
      out.push(`table ${t} (${table.className}) is display:${getComputedStyle(table).display}`);
  });
  return out;
}
"""


def test_every_admin_page_tables_line_up_at_1366(app, world, live_server, browser, artifacts):  # noqa: F811
    out = os.path.join(artifacts, "admin")
    os.makedirs(out, exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    page = context.new_page()
    browser_login(page, live_server, "admin")
    page.wait_for_url(f"{live_server}/admin/")
    problems, tables, pages = [], 0, 0
    for rule in _admin_rules(app):
        if "GET" not in rule.methods or rule.endpoint in ("admin.logout", "admin.login"):
            continue
        if _is_old_address(rule):  # only redirects to a page walked under /admin/units/<id>/
            continue
        url = _url(app, rule, world, "own")
        try:
            response = page.goto(live_server + url)
        except Exception:  # a download (xlsx, pdf, csv) is not a page
            continue
        if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        pages += 1
        tables += page.locator("table").count()
        problems += [f"{url}: {p}" for p in page.evaluate(MISALIGNED)]
        name = rule.endpoint.removeprefix("admin.")
        page.screenshot(path=os.path.join(out, f"1366-{name}.png"), full_page=True)
    context.close()
    assert pages >= 30 and tables >= 20, (pages, tables)
    assert problems == []
