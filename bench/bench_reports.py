"""Printed reports at 100, 1 000 and 10 000 respondents (nine answers each,
one in five with a suggestion).

For every size the data goes into a fresh SQLite file once; each document is then
generated in its own child process, which reports its wall time and its peak resident
memory (resource.getrusage ru_maxrss: the whole process, interpreter and imports
included). Target from issue 7: the data sheet for 10 000 respondents in <= 10 s and
<= 300 MB. Sizes: BENCH_REPORT_SIZES=100,1000,10000 (default);
kinds: BENCH_REPORT_KINDS=pengolahan,laporan,poster (default).

    .venv/bin/python -m bench bench_reports
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

SIZES = [int(x) for x in os.environ.get("BENCH_REPORT_SIZES", "100,1000,10000").split(",")]
KINDS = os.environ.get("BENCH_REPORT_KINDS", "pengolahan,laporan,poster").split(",")
PERIOD = "Triwulan III 2023"


def _prepare(tmp: str, n: int) -> str:
    from bench.bench_results import _fill
    from skm import create_app
    from skm.extensions import db
    from skm.models import Period
    from skm.survey.units import add_services, create_unit

    os.environ["SKM_INSTANCE_PATH"] = tmp
    url = f"sqlite:///{tmp}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        unit = create_unit(db.session, "BENCH", "Unit Bench", city="Bandung", head_name="Kepala Bench")
        add_services(db.session, unit, ["A", "B", "C"])
        db.session.add(Period(name=PERIOD, kind="triwulan", start_date=__import__("datetime").date(2023, 7, 1),
                              end_date=__import__("datetime").date(2023, 9, 30), population=20000))
        db.session.commit()
        db.session.refresh(unit)
        _fill(db, unit, n)
        # One respondent in five leaves a suggestion (the results report's appendix 1).
        with db.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE response SET suggestion = 'Antrean di loket perlu dipercepat dan ruang "
                                 "tunggu diberi kipas angin, nomor ' || id WHERE id % 5 = 0")
        db.session.remove()
        db.engine.dispose()
    return url


def _child(url: str, tmp: str, kind: str) -> None:
    """Runs in the child: generate one document, print seconds, peak RSS and size as JSON."""
    os.environ["SKM_INSTANCE_PATH"] = tmp
    from skm import create_app
    from skm.extensions import db
    from skm.reports.render import build
    from skm.scoring.results import find_period
    from skm.survey.units import unit_by_code

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        unit = unit_by_code(db.session, "BENCH")
        period = find_period(db.session, PERIOD)
        start = time.perf_counter()
        data = build(kind, db.session, unit, period)
        seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "bytes": len(data)}))


def main() -> None:
    print(f"{'respondents':>11}  {'document':<11} {'seconds':>8} {'peak MB':>8} {'PDF KB':>8}")
    for n in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            url = _prepare(tmp, n)
            for kind in KINDS:
                out = subprocess.run([sys.executable, "-m", "bench.bench_reports", "--child", url, tmp, kind],
                                     capture_output=True, text=True, check=True)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"{n:>11}  {kind:<11} {r['seconds']:>8.2f} {r['peak_mb']:>8.0f} {r['bytes'] / 1024:>8.0f}",
                      flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
