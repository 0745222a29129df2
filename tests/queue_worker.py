"""A queue worker process for tests/test_queue_worker.py: the real consumer (skm.queue.run_worker)
with two probes: every job start and end is logged as a JSON line to $SKM_TEST_JOB_LOG, and
making a PDF or an export is held for $SKM_TEST_BUILD_SECONDS, so a test can kill the worker
mid-job and check the caps from the log."""
from __future__ import annotations

import json
import logging
import os
import time

from skm import create_app
from skm.queue import run_worker
from skm.reports import exports, jobs, render, workbooks

LOG = os.environ["SKM_TEST_JOB_LOG"]
HOLD = float(os.environ.get("SKM_TEST_BUILD_SECONDS", "0"))
_real_run_job = jobs.run_job
_real_build = render.build


def _note(event: str, job_id: int) -> None:
    with open(LOG, "a") as fh:
        fh.write(json.dumps({"event": event, "job": job_id, "pid": os.getpid(), "t": time.time()}) + "\n")
        fh.flush()


def run_job(app, job_id):
    _note("start", job_id)
    _real_run_job(app, job_id)
    _note("end", job_id)


def build(kind, session, unit, period, progress=None):
    time.sleep(HOLD)
    return _real_build(kind, session, unit, period, progress=progress)


def _held(builder):
    def held(*args, **kwargs):
        time.sleep(HOLD)
        return builder(*args, **kwargs)
    return held


jobs.run_job = run_job
render.build = build
# Exports are jobs too (exports.export_builders() looks these up when called).
exports.raw_responses_csv = _held(exports.raw_responses_csv)
exports.raw_responses_xlsx = _held(exports.raw_responses_xlsx)
workbooks.data_sheet_xlsx = _held(workbooks.data_sheet_xlsx)

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    with app.app_context():
        run_worker(app)
