# Production server settings for `make run` (gunicorn: a well-kept pre-fork WSGI server).
import multiprocessing
import os

workers = max(2, multiprocessing.cpu_count())
threads = 4
worker_class = "gthread"
timeout = 120  # large PDF reports
accesslog = "-"
forwarded_allow_ips = "127.0.0.1"
# Files the server creates (database, uploads, reports) are private to its account (see skm.core.files).
umask = 0o077
# SQLite: each worker checkpoints the WAL in a background thread every 2 s, so no request's
# commit does it (it stalled the slowest 1 % of kiosk steps). See skm.core.database.
os.environ.setdefault("SKM_SQLITE_CHECKPOINT_SECONDS", "2")
