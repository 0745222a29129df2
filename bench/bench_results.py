"""Period results at 10 000, 100 000 and 1 000 000 responses (nine answers each).

Prints the time and peak Python memory of skm.results.compute_results beside the raw
SQL aggregate (GROUP BY element with COUNT and SUM) on the same data. SQLite always;
PostgreSQL too when BENCH_DATABASE_URL is set (e.g. postgresql+psycopg://postgres@127.0.0.1/skm_bench).
Sizes: BENCH_SIZES=10000,100000,1000000 (default).
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
import tracemalloc

from sqlalchemy import text

from bench import on_both_databases

SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "10000,100000,1000000").split(",")]
START, END = dt.date(2023, 7, 1), dt.date(2023, 9, 30)


def _fill(db, unit, n: int) -> None:
    """Insert n responses with nine answers each, server-side (fast)."""
    from skm.models import Answer, Response

    elements = [e.id for e in unit.current_questionnaire.elements]
    q = unit.current_questionnaire.id
    services = [s.id for s in unit.services]
    dialect = db.engine.dialect.name
    with db.engine.begin() as conn:
        if dialect == "sqlite":
            seq = f"WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < {n})"
            day = "date('2023-07-01', '+' || (x % 92) || ' days')"
        else:
            seq = f"WITH seq(x) AS (SELECT generate_series(1, {n}))"
            day = "DATE '2023-07-01' + (x % 92)"
        conn.execute(text(f"""{seq}
            INSERT INTO response (id, unit_id, service_id, questionnaire_id, channel, submitted_at, survey_date,
                                  gender, age, education, occupation, flagged, excluded)
            SELECT x, {unit.id}, CASE x % 3 WHEN 0 THEN {services[0]} WHEN 1 THEN {services[1]} ELSE {services[2]} END,
                   {q}, 'kiosk', CURRENT_TIMESTAMP, {day},
                   CASE x % 2 WHEN 0 THEN 'L' ELSE 'P' END, 17 + (x % 60),
                   CASE x % 4 WHEN 0 THEN 'SMA' WHEN 1 THEN 'S1' WHEN 2 THEN 'DIII' ELSE 'SMP' END,
                   CASE x % 3 WHEN 0 THEN 'SWASTA' WHEN 1 THEN 'PNS' ELSE 'WIRAUSAHA' END, false, false
            FROM seq"""))
        values = " UNION ALL ".join(f"SELECT {eid} AS eid, {i} AS k" for i, eid in enumerate(elements))
        conn.execute(text(f"""
            INSERT INTO answer (response_id, element_id, rating, unit_id, service_id, survey_date, excluded)
            SELECT r.id, e.eid, 1 + ((r.id * 7 + e.k * 3 + r.id / 5) % 4), r.unit_id, r.service_id, r.survey_date, false
            FROM response r CROSS JOIN ({values}) e"""))
        if dialect == "postgresql":
            conn.execute(text("SELECT setval('response_id_seq', (SELECT max(id) FROM response))"))
    with db.engine.connect() as conn:
        if dialect == "sqlite":
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    del Answer, Response


def _raw(db, unit) -> float:
    t = time.perf_counter()
    with db.engine.connect() as conn:
        conn.execute(text(
            "SELECT element_id, COUNT(*), SUM(rating) FROM answer WHERE unit_id = :u "
            "AND survey_date BETWEEN :s AND :e AND excluded = false GROUP BY element_id"),
            {"u": unit.id, "s": START, "e": END}).all()
    return time.perf_counter() - t


def run(url: str | None) -> None:
    from skm import create_app
    from skm.extensions import db
    from skm.scoring.results import Scope, compute_results
    from skm.survey.units import add_services, create_unit

    for n in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["SKM_INSTANCE_PATH"] = tmp
            app = create_app({"SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{tmp}/bench.sqlite3",
                              "SECRET_KEY": "bench"})
            with app.app_context():
                db.drop_all()
                db.create_all()
                unit = create_unit(db.session, "BENCH", "Unit Bench")
                add_services(db.session, unit, ["A", "B", "C"])
                db.session.commit()
                t0 = time.perf_counter()
                _fill(db, unit, n)
                fill = time.perf_counter() - t0
                db.session.rollback()  # a fresh snapshot that sees the new rows
                raw = min(_raw(db, unit) for _ in range(3))
                best = None
                for _ in range(3):
                    db.session.expire_all()
                    tracemalloc.start()
                    t = time.perf_counter()
                    results = compute_results(db.session, Scope(unit.id, START, END), unit)
                    elapsed = time.perf_counter() - t
                    peak = tracemalloc.get_traced_memory()[1]
                    tracemalloc.stop()
                    best = min(best or (elapsed, peak), (elapsed, peak))
                    db.session.rollback()
                assert results.respondents == n
                name = db.engine.dialect.name
                print(f"{name:10} n={n:>9,}  results {best[0]*1000:8.1f} ms  raw query {raw*1000:8.1f} ms  "
                      f"ratio {best[0]/raw:5.2f}  peak py mem {best[1]/1e6:6.2f} MB  (fill {fill:.1f} s)")
                db.drop_all()
                db.session.remove()
                db.engine.dispose()


def main() -> None:
    on_both_databases(run)


if __name__ == "__main__":
    main()
