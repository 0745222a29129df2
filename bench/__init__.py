"""Benchmarks: `make bench` runs every bench_* module's main()."""
import os


def on_both_databases(run) -> None:
    """run(None) on SQLite, then run(url) on PostgreSQL when BENCH_DATABASE_URL is set."""
    run(None)
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        run(url)
    else:
        print("(set BENCH_DATABASE_URL=postgresql+psycopg://... to run on PostgreSQL too)")
