"""Worst-case read cost of the respondent rollup (issue 14), on bench_results' stored data.

Pads every key cell of rollup_response_day with every age 15..99 (n = 0, so no figure changes),
times compute_results for the year and a quarter, then removes the padding again.
Usage: .venv/bin/python bench/pad_ages.py sqlite:////path/results-1000000.sqlite3 (or a PostgreSQL URL)
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time

from sqlalchemy import select, text


def main(url: str) -> None:
    os.environ.setdefault("SKM_INSTANCE_PATH", tempfile.mkdtemp())
    from skm import create_app
    from skm.extensions import db
    from skm.models import Unit
    from skm.scoring.results import Scope, compute_results

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        sqlite = url.startswith("sqlite")
        ages = " UNION ALL ".join(f"SELECT '{a}' AS v" for a in range(15, 100))
        with db.engine.begin() as conn:
            added = conn.execute(text(
                f"{'INSERT OR IGNORE INTO' if sqlite else 'INSERT INTO'} rollup_response_day "
                "(unit_id, day, service_key, channel, verified, excluded, field, value, n) "
                "SELECT DISTINCT k.unit_id, k.day, k.service_key, k.channel, k.verified, k.excluded, 'age', a.v, 0 "
                f"FROM rollup_response_day k CROSS JOIN ({ages}) a WHERE k.field = 'questionnaire'"
                + ("" if sqlite else " ON CONFLICT DO NOTHING"))).rowcount
            total = conn.execute(text("SELECT count(*) FROM rollup_response_day")).scalar()
        print(f"padding rows {added:,}; rollup_response_day rows {total:,}")
        unit = db.session.scalar(select(Unit).where(Unit.code == "BENCH"))
        try:
            for label, start, end in [("Tahun 2023", dt.date(2023, 1, 1), dt.date(2023, 12, 31)),
                                      ("Triwulan III 2023", dt.date(2023, 7, 1), dt.date(2023, 9, 30))]:
                best = float("inf")
                for _ in range(3):
                    db.session.expire_all()
                    t = time.perf_counter()
                    res = compute_results(db.session, Scope(unit.id, start, end), unit)
                    best = min(best, time.perf_counter() - t)
                    db.session.rollback()
                print(f"{db.engine.dialect.name} {label}: results with every age {best * 1000:.1f} ms "
                      f"({res.respondents:,} respondents)")
        finally:
            with db.engine.begin() as conn:
                conn.execute(text("DELETE FROM rollup_response_day WHERE n = 0"))


if __name__ == "__main__":
    main(sys.argv[1])
