"""The queue worker: `flask --app wsgi skm worker` (make run starts it beside gunicorn)."""
from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--workers", type=click.IntRange(1, 32), default=None,
              help="Tugas yang dikerjakan bersamaan (bawaan: QUEUE_WORKERS, 2).")
@with_appcontext
def worker_command(workers):
    """Jalankan pekerja latar belakang (laporan besar, peringatan, pengingat RTL)."""
    from skm.core.database import write_intent
    from skm.queue import run_worker

    # The tasks open their own short transactions, like the web server's requests.
    write_intent.set(False)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    backend = "Redis" if str(app.config.get("QUEUE_URL") or "").startswith(("redis", "unix")) else "SQLite"
    click.echo(f"Pekerja latar belakang berjalan (antrean {backend}). Hentikan dengan Ctrl+C.", err=True)
    run_worker(app, workers)
