"""gunicorn's settings for the standalone service: `gunicorn -c gunicorn.conf.py`.

`make run` serves with it, and the systemd unit of docs/deploy.md does too. Settings given on
gunicorn's command line (`--bind`, `--workers`) win over these.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os

wsgi_app = "wsgi:app"
bind = "127.0.0.1:5000"

# Sync workers, one request each. Not threads: while a SQLite writer waits for the write lock
# it says so through a per-process fcntl lock (db/sqlite_lock.py), which another thread of the
# same process would not see. Put nginx in front (docs/deploy.md), so that slow clients are
# buffered there and never hold a worker.
worker_class = "sync"
workers = int(os.environ.get("GUNICORN_WORKERS") or 2 * multiprocessing.cpu_count() + 1)

# The page's upload is imported by a thread of the worker (an upload job), not within its
# request; the request only receives, checks and saves the file. Behind nginx (which passes the
# body on once it has it all) that takes seconds. Sent straight to gunicorn by a browser on a
# slow link, the largest file the page takes (PROMO_MAX_UPLOAD_BYTES) must still arrive within
# the worker timeout: counted at 150 kB/s, and never below two minutes.
UPLOAD_RATE_FLOOR = 150_000  # bytes per second
_max_upload = json.loads(os.environ.get("PROMO_MAX_UPLOAD_BYTES") or str(200 * 1024 * 1024))
timeout = max(120, math.ceil(_max_upload / UPLOAD_RATE_FLOOR))

# On SIGHUP or SIGTERM a worker finishes the requests it has before it exits; HUP starts new
# workers with the new code first (a graceful restart: `systemctl reload promo`).
graceful_timeout = 30

# One line per request on stdout (systemd's journal, or the terminal of `make run`):
# client, request, status, bytes, microseconds.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(D)sus "%(a)s"'

# Only a proxy on this machine may say who the client is (see PROMO_PROXY_FIX).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
