"""Many tablets at once over real HTTP, with double taps and resent final submits.

The scaled-down CI version of bench/bench_reliability.py (10 000 surveys, 50 clients):
every acknowledged survey is stored exactly once, no answer is a server error, and the
period results equal a recomputation from the stored rows and from what the tablets sent.
"""
from __future__ import annotations

import os
import threading
from collections import Counter
from fractions import Fraction

from sqlalchemy import func, select

from bench.http_tablet import HttpTablet, Stats
from skm import devices as D
from skm.models import Answer, Element, Response, Unit
from skm.models_kiosk import KioskSurvey
from skm.results import Scope, compute_results
from tests.factories import make_unit

SURVEYS = int(os.environ.get("RELIABILITY_SURVEYS", "240"))
CLIENTS = int(os.environ.get("RELIABILITY_CLIENTS", "20"))


def kiosk_unit(session, **fields):
    """A unit whose survey is short (one profile question) so the load is mostly elements."""
    fields = {"min_survey_seconds": 0, "ask_age": False, "ask_education": False, "ask_occupation": False, **fields}
    return make_unit(session, "REL", "Unit Beban", services=("Layanan A", "Layanan B", "Layanan C"), **fields)


def pair_devices(session, unit, n):
    credentials = []
    for _ in range(n):
        device = D.create_pairing(session, unit)
        credentials.append(D.pair_device(session, device.pairing_code)[1])
    session.commit()
    return credentials


def drive(base_url, credentials, surveys, stats, double_tap=0.15, resend=0.2, seed=0):
    """Each credential is one tablet in its own thread; together they send `surveys` surveys."""
    per = [surveys // len(credentials) + (i < surveys % len(credentials)) for i in range(len(credentials))]

    def run(i):
        tablet = HttpTablet(base_url, credentials[i], seed=seed * 1000 + i, stats=stats)
        try:
            for _ in range(per[i]):
                tablet.survey(double_tap=double_tap, resend=resend)
        finally:
            tablet.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(credentials))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def check_stored(session, unit, stats):
    """Exactly one response per acknowledged token, none other; results = recomputation."""
    tokens = Counter(session.scalars(select(Response.token).where(Response.unit_id == unit.id)).all())
    assert all(n == 1 for n in tokens.values())
    assert set(tokens) == set(stats.acked) and len(stats.acked) == len(set(stats.acked))
    finished = session.scalar(select(func.count()).select_from(KioskSurvey).where(KioskSurvey.status == "finished"))
    assert finished == len(tokens)

    day_min, day_max = session.execute(select(func.min(Response.survey_date), func.max(Response.survey_date))).one()
    results = compute_results(session, Scope(unit.id, day_min, day_max), unit)
    assert results.respondents == len(tokens)

    # Recompute from the stored rows in Python, exactly (no SQL aggregate).
    rows = session.execute(
        select(Element.code, Answer.rating).join(Answer, Answer.element_id == Element.id)
        .join(Response, Response.id == Answer.response_id).where(Response.unit_id == unit.id)).all()
    by_code: dict[str, list[int]] = {}
    for code, rating in rows:
        by_code.setdefault(code, []).append(rating)
    nrr = {code: Fraction(sum(v), len(v)) for code, v in by_code.items()}
    ikm = sum(nrr.values()) / len(nrr) * 25
    assert {e.code: e.nrr for e in results.scores.elements} == nrr
    assert results.scores.ikm == ikm

    # ... and from what the tablets sent and saw acknowledged.
    codes = [e.code for e in unit.current_questionnaire.elements]
    sent = {code: [] for code in codes}
    for token in stats.acked:
        for code, rating in zip(codes, stats.ratings[token], strict=True):
            sent[code].append(rating)
    assert {c: sorted(v) for c, v in sent.items()} == {c: sorted(v) for c, v in by_code.items()}
    return results


def test_concurrent_tablets_with_double_taps_and_resends(app, db, live_server):
    unit = kiosk_unit(db.session)
    credentials = pair_devices(db.session, unit, CLIENTS)
    unit_id = unit.id
    db.session.remove()  # the server threads use their own sessions

    stats = Stats()
    drive(live_server, credentials, SURVEYS, stats)

    assert stats.server_errors == [] and stats.gone == 0
    assert stats.errors == []
    assert len(stats.acked) == SURVEYS
    assert set(stats.statuses) == {200}
    results = check_stored(db.session, db.session.get(Unit, unit_id), stats)
    assert results.respondents == SURVEYS
