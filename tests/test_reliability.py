"""Many tablets at once over real HTTP, with double taps and resent final submits.

The scaled-down CI version of bench/bench_reliability.py (10 000 surveys, 50 clients):
every acknowledged survey is stored exactly once, no answer is a server error, and the
period results equal a recomputation from the stored rows and from what the tablets sent.
"""
from __future__ import annotations

import os
import traceback

from flask import got_request_exception

from bench.bench_reliability import check_stored, drive, pair_devices
from bench.http_tablet import Stats
from skm.models import Unit
from tests.factories import make_unit

SURVEYS = int(os.environ.get("RELIABILITY_SURVEYS", "240"))
CLIENTS = int(os.environ.get("RELIABILITY_CLIENTS", "20"))


def kiosk_unit(session, **fields):
    """A unit whose survey is short (one profile question) so the load is mostly elements."""
    fields = {"min_survey_seconds": 0, "ask_age": False, "ask_education": False, "ask_occupation": False, **fields}
    return make_unit(session, "REL", "Unit Beban", services=("Layanan A", "Layanan B", "Layanan C"), **fields)


def test_concurrent_tablets_with_double_taps_and_resends(app, db, live_server):
    app.config["KIOSK_DEVICE_STARTS_PER_MINUTE"] = 0  # simulated tablets start surveys back to back
    # ... and are no abuse: no cool-down, no flags (flagged responses are quarantined, not counted).
    app.config.update(KIOSK_COOLDOWN_SECONDS=0, KIOSK_DEVICE_MAX_PER_WINDOW=10**6, KIOSK_SAME_ANSWERS_RUN=0)
    unit = kiosk_unit(db.session)
    credentials = pair_devices(db.session, unit, CLIENTS)
    unit_id = unit.id
    db.session.remove()  # the server threads use their own sessions

    failures = []

    def record(sender, exception, **extra):
        failures.append("".join(traceback.format_exception(exception))[-2500:])

    got_request_exception.connect(record, app)
    stats = Stats()
    try:
        drive(live_server, credentials, SURVEYS, stats)
    finally:
        got_request_exception.disconnect(record, app)

    assert failures == [] and stats.server_errors == [] and stats.gone == 0
    assert stats.errors == []
    assert len(stats.acked) == SURVEYS
    assert set(stats.statuses) == {200}
    results = check_stored(db.session, db.session.get(Unit, unit_id), stats)
    assert results.respondents == SURVEYS
