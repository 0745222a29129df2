"""Period results at scale (issue 14): the daily rollup against the raw GROUP BY.

One unit, three services, four channels, N responses over the year 2023 with nine answers
each (2 % excluded). For several periods it prints, side by side, the raw aggregate over the
answers (GROUP BY element with COUNT and SUM, the query results used to run) and
skm.scoring.results.compute_results, which reads the daily rollups (with and without the
profile breakdowns), and the ratio results / raw; it checks both give the same counts and sums.

The data is generated once and kept: SQLite in $BENCH_DATA_DIR/results-N.sqlite3 (default
/tmp/skm-bench-data), PostgreSQL in BENCH_DATABASE_URL (reused when it holds the same N).
Sizes: BENCH_SIZES=10000,100000,1000000 (default 1000000). BENCH_REFILL=1 regenerates everything,
BENCH_REBUILD=1 only the rollup tables (timed: the cost of `skm rebuild-rollups`).
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
import time

from sqlalchemy import func, select, text

from bench import on_both_databases

SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "1000000").split(",")]
DATA_DIR = os.environ.get("BENCH_DATA_DIR", os.path.join(tempfile.gettempdir(), "skm-bench-data"))
YEAR = dt.date(2023, 1, 1)
SCOPES = [  # label, start, end, service index or None, channel or None
    ("Tahun 2023", dt.date(2023, 1, 1), dt.date(2023, 12, 31), None, None),
    ("Triwulan III 2023", dt.date(2023, 7, 1), dt.date(2023, 9, 30), None, None),
    ("Agustus 2023", dt.date(2023, 8, 1), dt.date(2023, 8, 31), None, None),
    ("15 Agustus 2023 (1 hari)", dt.date(2023, 8, 15), dt.date(2023, 8, 15), None, None),
    ("Triwulan III, layanan B", dt.date(2023, 7, 1), dt.date(2023, 9, 30), 1, None),
    ("Triwulan III, kanal kios", dt.date(2023, 7, 1), dt.date(2023, 9, 30), None, "kiosk"),
]


def _fill(db, unit, n: int) -> None:
    """Insert n responses with nine answers each, server-side (fast)."""
    elements = [e.id for e in unit.current_questionnaire.elements]
    q = unit.current_questionnaire.id
    services = [s.id for s in unit.services]
    dialect = db.engine.dialect.name
    with db.engine.begin() as conn:
        if dialect == "sqlite":
            seq = f"WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < {n})"
            day = "date('2023-01-01', '+' || (x % 365) || ' days')"
        else:
            seq = f"WITH seq(x) AS (SELECT generate_series(1, {n}))"
            day = "DATE '2023-01-01' + (x % 365)"
        conn.execute(text(f"""{seq}
            INSERT INTO response (id, unit_id, service_id, questionnaire_id, channel, submitted_at, survey_date,
                                  gender, age, education, occupation, flagged, excluded, quarantined)
            SELECT x, {unit.id}, CASE x % 3 WHEN 0 THEN {services[0]} WHEN 1 THEN {services[1]} ELSE {services[2]} END,
                   {q}, CASE (x / 7) % 4 WHEN 0 THEN 'kiosk' WHEN 1 THEN 'paper' WHEN 2 THEN 'import' ELSE 'online' END,
                   CURRENT_TIMESTAMP, {day},
                   CASE x % 2 WHEN 0 THEN 'L' ELSE 'P' END, 17 + (x % 60),
                   CASE x % 4 WHEN 0 THEN 'SMA' WHEN 1 THEN 'S1' WHEN 2 THEN 'DIII' ELSE 'SMP' END,
                   CASE x % 3 WHEN 0 THEN 'SWASTA' WHEN 1 THEN 'PNS' ELSE 'WIRAUSAHA' END,
                   x % 50 = 0, x % 50 = 0, false
            FROM seq"""))
        values = " UNION ALL ".join(f"SELECT {eid} AS eid, {i} AS k" for i, eid in enumerate(elements))
        conn.execute(text(f"""
            INSERT INTO answer (response_id, element_id, rating, unit_id, service_id, survey_date, excluded)
            SELECT r.id, e.eid, 1 + ((r.id * 7 + e.k * 3 + r.id / 5) % 4), r.unit_id, r.service_id, r.survey_date,
                   r.excluded
            FROM response r CROSS JOIN ({values}) e"""))
        if dialect == "postgresql":
            conn.execute(text("SELECT setval('response_id_seq', (SELECT max(id) FROM response))"))


def _analyze(db) -> None:
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")


def _raw(db, unit, start, end, service_id, channel) -> tuple[float, dict]:
    """The raw aggregate: answers of the unit (or service) in the dates, not excluded."""
    where = "a.service_id = :k" if service_id else "a.unit_id = :k"
    join = "JOIN response r ON r.id = a.response_id AND r.channel = :c" if channel else ""
    sql = (f"SELECT a.element_id, COUNT(*), SUM(a.rating) FROM answer a {join} WHERE {where} "
           "AND a.survey_date BETWEEN :s AND :e AND a.excluded = false GROUP BY a.element_id")
    t = time.perf_counter()
    with db.engine.connect() as conn:
        rows = conn.execute(text(sql), {"k": service_id or unit.id, "s": start, "e": end, "c": channel}).all()
    return time.perf_counter() - t, {eid: (int(c), int(s)) for eid, c, s in rows}


def _results(db, scope, unit, with_profile: bool):
    from skm.scoring.results import compute_results

    db.session.expire_all()
    t = time.perf_counter()
    r = compute_results(db.session, scope, unit, with_profile=with_profile)
    elapsed = time.perf_counter() - t
    db.session.rollback()
    return elapsed, r


def _best(fn, *args, times: int = 3):
    best = None
    for _ in range(times):
        elapsed, value = fn(*args)
        if best is None or elapsed < best[0]:
            best = (elapsed, value)
    assert best is not None
    return best


def run(url: str | None) -> None:
    from skm import create_app
    from skm.extensions import db
    from skm.models import Element, Response, RollupAnswerDay, RollupResponseDay, Unit
    from skm.scoring.results import Scope
    from skm.scoring.rollup import rebuild_rollups
    from skm.survey.units import add_services, create_unit

    os.makedirs(DATA_DIR, exist_ok=True)
    for n in SIZES:
        tmp = tempfile.mkdtemp(prefix="skm-bench-")
        os.environ["SKM_INSTANCE_PATH"] = tmp
        path = os.path.join(DATA_DIR, f"results-{n}.sqlite3")
        app = create_app({"SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{path}", "SECRET_KEY": "bench"})
        with app.app_context():
            name = db.engine.dialect.name
            if os.environ.get("BENCH_REFILL"):
                db.drop_all()
            if os.environ.get("BENCH_REBUILD"):  # the rollup tables changed: new tables, same raw data
                for table in (RollupAnswerDay, RollupResponseDay):
                    table.__table__.drop(db.engine, checkfirst=True)
            db.create_all()
            unit = db.session.scalar(select(Unit).where(Unit.code == "BENCH"))
            fill = rebuild = None
            if unit is None or db.session.scalar(select(func.count(Response.id))) != n:
                db.session.rollback()
                db.drop_all()
                db.create_all()
                unit = create_unit(db.session, "BENCH", "Unit Bench")
                add_services(db.session, unit, ["A", "B", "C"])
                db.session.commit()
                t0 = time.perf_counter()
                _fill(db, unit, n)
                fill = time.perf_counter() - t0
                db.session.rollback()  # a fresh snapshot that sees the new rows
            if fill is not None or not db.session.scalar(select(func.count()).select_from(RollupResponseDay)):
                t0 = time.perf_counter()
                rebuild_rollups(db.session)
                db.session.commit()
                rebuild = time.perf_counter() - t0
                _analyze(db)
            rollup_rows = (db.session.scalar(select(func.count()).select_from(RollupAnswerDay)),
                           db.session.scalar(select(func.count()).select_from(RollupResponseDay)))
            made = ("reused stored data" if rebuild is None else
                    f"rebuild-rollups {rebuild:.1f} s" + (f" after generating in {fill:.0f} s" if fill else ""))
            print(f"{name} n={n:,}: rollup rows {rollup_rows[0]:,} (answers) + {rollup_rows[1]:,} (respondents); "
                  f"{made}")
            services = [s.id for s in unit.services]
            codes = dict(db.session.execute(select(Element.id, Element.code)).all())
            print(f"  {'period':<26}{'raw GROUP BY':>13}{'results':>10}{'no profile':>12}{'ratio':>7}"
                  f"{'respondents':>13}")
            for label, start, end, service, channel in SCOPES:
                service_id = services[service] if service is not None else None
                raw, raw_rows = _best(_raw, db, unit, start, end, service_id, channel)
                scope = Scope(unit.id, start, end, service_id, channel=channel)
                full, res = _best(_results, db, scope, unit, True)
                bare, _ = _best(_results, db, scope, unit, False)
                got = {e.code: (e.count, e.total) for e in res.scores.elements}
                assert got == {codes[eid]: v for eid, v in raw_rows.items()}, (got, raw_rows)
                print(f"  {label:<26}{raw * 1000:>10.1f} ms{full * 1000:>7.1f} ms{bare * 1000:>9.1f} ms"
                      f"{full / raw:>7.3f}{res.respondents:>13,}")
            db.session.remove()
            db.engine.dispose()


def main() -> None:
    on_both_databases(run)


if __name__ == "__main__":
    main()
