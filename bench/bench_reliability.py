"""10 000 kiosk surveys from 50 concurrent tablets against the production server.

gunicorn with gunicorn.conf.py serves a fresh database (SQLite, and PostgreSQL when
BENCH_DATABASE_URL is set); tablets are threads speaking HTTP (bench/http_tablet.py) with
random double taps (two identical concurrent requests) and resent final submits. Checked:
exactly one response per acknowledged survey token, zero server errors, and the results
(skm.results) equal to a recomputation from the stored rows and from what was sent.
Sizes: BENCH_RELIABILITY_SURVEYS (10000), BENCH_RELIABILITY_CLIENTS (50).
tests/test_reliability.py runs the same checks scaled down in CI.
"""
from __future__ import annotations

import os
import tempfile
import threading
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

from sqlalchemy import func, select

from bench import on_both_databases
from bench.http_tablet import HttpTablet, Stats, percentile

SURVEYS = int(os.environ.get("BENCH_RELIABILITY_SURVEYS", "10000"))
CLIENTS = int(os.environ.get("BENCH_RELIABILITY_CLIENTS", "50"))


def pair_devices(session, unit, n):
    from skm.kiosk import devices as D

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
    from skm.models import Answer, Element, KioskSurvey, Response
    from skm.scoring.results import Scope, compute_results

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


def run(url: str | None) -> None:
    from bench.server import free_port, prepare_database, start_server, stop
    from skm import create_app
    from skm.extensions import db
    from skm.models import Unit

    with tempfile.TemporaryDirectory(prefix="bench-rel-") as tmp:
        instance = Path(tmp)
        url = url or f"sqlite:///{instance / 'bench.sqlite3'}"
        credentials = prepare_database(instance, url, CLIENTS)
        port = free_port()
        with open(instance / "gunicorn.log", "w") as log:
            server = start_server(instance, url, port, log)
            stats = Stats()
            t0 = time.perf_counter()
            try:
                drive(f"http://127.0.0.1:{port}", credentials, SURVEYS, stats)
            finally:
                wall = time.perf_counter() - t0
                stop(server)
        os.environ["SKM_INSTANCE_PATH"] = tmp
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            unit = db.session.scalar(select(Unit).where(Unit.code == "LOAD"))
            ok = "ok"
            try:
                results = check_stored(db.session, unit, stats)
                respondents = results.respondents
            except AssertionError as exc:
                ok, respondents = f"FAILED: {exc!r}"[:300], "?"
            db.session.remove()
            db.engine.dispose()
        steps = [s for _, s in stats.latencies]
        statuses = Counter(stats.statuses)
        print(f"{url.split(':')[0]:10} {SURVEYS} surveys, {CLIENTS} clients: wall {wall:.1f} s, "
              f"{len(stats.acked) / wall:.1f} surveys/s, {len(stats.statuses)} requests, statuses {dict(statuses)}, "
              f"5xx {len(stats.server_errors)}, other errors {len(stats.errors)}, acknowledged {len(stats.acked)}, "
              f"stored respondents {respondents}; step p50 {percentile(steps, 50)*1000:.0f} ms "
              f"p95 {percentile(steps, 95)*1000:.0f} ms p99 {percentile(steps, 99)*1000:.0f} ms; checks {ok}")
        if stats.errors:
            print("   first errors:", stats.errors[:5])


def main() -> None:
    on_both_databases(run)


if __name__ == "__main__":
    main()
