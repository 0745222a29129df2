"""Helpers for the kiosk's Playwright tests: a paired tablet, answering screens, waiting for
the database."""
from __future__ import annotations

import os
import time

from sqlalchemy import func, select

from skm.kiosk import devices as D
from skm.models import KioskSurvey, Response
from tests.factories import make_unit

AXE = os.path.join(os.path.dirname(__file__), "vendor", "axe-core", "axe.min.js")
RATINGS = [4, 3, 4, 1, 3, 4, 4, 3, 2]


def paired_kiosk(app, db, page, live_server, **unit_fields):
    """A unit with a PIN and a tablet paired to it, on its welcome screen."""
    unit_fields.setdefault("min_survey_seconds", 0)
    unit = make_unit(db.session, **unit_fields)
    D.set_kiosk_pin(db.session, unit, "2468")
    code = D.create_pairing(db.session, unit).pairing_code
    db.session.commit()
    elements = [e.code for e in unit.current_questionnaire.elements]
    db.session.rollback()  # release SQLite's write lock for the server threads
    page.goto(f"{live_server}/kiosk/pair/{code}")
    page.get_by_role("button", name="Pasangkan").click()
    page.get_by_role("button", name="Sentuh untuk memulai").wait_for()
    return unit, elements


def on(page, kind, step=None, timeout=15000):
    selector = f"#screen[data-kind={kind}]" + (f"[data-step='{step}']" if step else "")
    page.locator(selector).wait_for(timeout=timeout)
    page.locator(selector + ":not(.arming)").wait_for(timeout=timeout)  # it takes taps now


def tap(page, name):
    page.locator("#screen").get_by_role("button", name=name, exact=True).click()


def type_pad(page, digits, container="#screen"):
    for d in digits:
        page.locator(f"{container} [data-key='{d}']").click()


def answer_profile(page, service="Layanan A", gender="Perempuan", age="37", education="S1"):
    tap(page, "Sentuh untuk memulai")
    on(page, "service")
    tap(page, service)
    on(page, "gender")
    tap(page, gender)
    on(page, "age")
    type_pad(page, age)
    tap(page, "Lanjut")
    on(page, "education")
    tap(page, education)
    on(page, "occupation")


def answer_elements(page, elements, ratings=RATINGS):
    for code, rating in zip(elements, ratings):
        on(page, "element", f"el-{code}")
        page.locator(f"#screen button[name=value][value='{rating}']").click()
    on(page, "saran")


def wait_for(predicate, timeout=30.0, every=0.25):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return predicate()


def response_count(db):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Response).where(Response.channel == "kiosk"))


def survey_values(db, token):
    db.session.rollback()
    survey = db.session.scalar(select(KioskSurvey).where(KioskSurvey.token == token))
    return dict(survey.answers.get("values", {}))


def outbox_size(page):
    return page.evaluate("JSON.parse(localStorage.getItem('skm-kiosk-outbox') || '[]').length")


def serious_violations(page):
    """axe-core (vendored for tests) on the page: serious and critical violations only."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        with open(AXE, encoding="utf-8") as fh:  # evaluated over the debugging protocol: the CSP stays on
            page.evaluate(fh.read() + "\n;undefined")
    return page.evaluate("""async () => {
        const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '));
    }""")


def set_unit(db, unit, **fields):
    """Change a unit while the live server runs (SQLite may be busy for a moment)."""
    from sqlalchemy.exc import OperationalError

    for _ in range(40):
        try:
            for name, value in fields.items():
                setattr(unit, name, value)
            db.session.commit()
            db.session.rollback()
            return
        except OperationalError:
            db.session.rollback()
            time.sleep(0.25)
    raise AssertionError("database stayed locked")


def _refuse(route):
    route.abort("internetdisconnected")


def network(page, up):
    """Cut or restore the tablet's network: the browser's offline mode, and every request of
    the context refused (offline emulation alone does not cover the error page's reload)."""
    if up:
        page.context.unroute("**/*", _refuse)
        page.context.set_offline(False)
    else:
        page.context.set_offline(True)
        page.context.route("**/*", _refuse)
