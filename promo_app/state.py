"""The extension's state as every part reads it: its settings' defaults, the current
`PromoCodes`, and its session. A leaf: it imports nothing of the package."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy.orm import scoped_session

if TYPE_CHECKING:
    from .extension import PromoCodes


DEFAULTS: dict[str, object] = {
    # Where the API is mounted: the API answers at {prefix}/api/v1.1/promocodes/{verb}.
    "PROMO_URL_PREFIX": "",
    # The promo tables' database; None means the host's SQLALCHEMY_DATABASE_URI.
    "PROMO_DATABASE_URL": None,
    # Largest request body the API reads; larger ones get 413 Request too large.
    "PROMO_MAX_BODY_BYTES": 1024 * 1024,
    # How closely answers follow the marketing platform's developer guide: "extended" (data
    # that says what happened, unknown parameters refused) or "altcraft" (exactly what the
    # platform prints; see compat.py and docs/api.md).
    "PROMO_COMPAT": "extended",
    # Deprecated alias: True means PROMO_COMPAT = "altcraft".
    "PROMO_ATTACH_NULL_DATA": False,
    # Most codes one `import` call adds; the rest of its list is counted in discarded_by_limit.
    "PROMO_IMPORT_MAX_CODES": 10_000,
    # Most profiles one `profiles/import_batch` call takes; a longer list is refused (400).
    "PROMO_PROFILES_BATCH_MAX": 1_000,
    # True when PostgreSQL is reached through PgBouncer in transaction pooling mode: no
    # statement is prepared on the server (a prepared statement lives on one server
    # connection, and the next transaction may get another; docs/postgresql.md).
    "PROMO_PGBOUNCER": False,
    # How long a SQLite writer waits for another one before giving up.
    "PROMO_SQLITE_BUSY_TIMEOUT_MS": 10_000,
    # The page ({prefix}/admin). Who may see it: a callable taking no arguments; exactly True
    # lets the visitor in, anything else refuses (the host's own login decides). None: the
    # page's own sign-in, with admin users made by `flask promo create-admin`.
    "PROMO_ADMIN_AUTHORIZE": None,
    # With PROMO_ADMIN_AUTHORIZE: where to send a refused visitor who is not signed in (the
    # host's login URL; it gets ?next=<page URL>). None: Flask-Login's login_view if the host
    # has one, else 403. A signed-in visitor who is refused gets 403.
    "PROMO_ADMIN_LOGIN_URL": None,
    # With PROMO_ADMIN_AUTHORIZE: a callable taking no arguments that answers a refused
    # visitor itself (returns a response), instead of the login redirect or the 403 page.
    "PROMO_ADMIN_REFUSE": None,
    # Largest file the page's upload form takes; larger ones are refused and change nothing.
    "PROMO_MAX_UPLOAD_BYTES": 200 * 1024 * 1024,
    # Where uploaded files wait for their import job; None: `promo-uploads` in the instance
    # folder. Each server imports the files it received (a thread of the process).
    "PROMO_UPLOAD_FOLDER": None,
    # How often a running upload job says it is alive, and after how long without a word
    # the page shows it as interrupted (its process died: a worker killed or restarted).
    "PROMO_UPLOAD_HEARTBEAT_SECONDS": 5,
    "PROMO_UPLOAD_STALE_SECONDS": 60,
    # The page warns when a personal program has fewer free codes than this.
    "PROMO_LOW_CODES_THRESHOLD": 100,
    # The alert webhook: where a signed JSON event is POSTed when a personal program's pool
    # goes below PROMO_LOW_CODES_THRESHOLD or runs out (docs/deploy.md, "Alerts"). None: no
    # webhook, and no thread or work for it. With a URL the secret is required (16+ chars).
    "PROMO_WEBHOOK_URL": None,
    "PROMO_WEBHOOK_SECRET": None,
    # Tries per event, the wait before the first retry (doubled each time), one try's timeout.
    "PROMO_WEBHOOK_ATTEMPTS": 5,
    "PROMO_WEBHOOK_BACKOFF_SECONDS": 2.0,
    "PROMO_WEBHOOK_TIMEOUT_SECONDS": 5.0,
    # How often a process looks at the programs its attach calls drew from (once each).
    "PROMO_WEBHOOK_CHECK_SECONDS": 1.0,
    # Codes per page of a program's list.
    "PROMO_PAGE_SIZE": 50,
    # How long the answer of a call made with an Idempotency-Key is kept for its retries.
    "PROMO_IDEMPOTENCY_TTL_SECONDS": 24 * 60 * 60,
    # Every this many calls with a new key, a process also deletes expired keys (0: never).
    "PROMO_IDEMPOTENCY_PRUNE_EVERY": 100,
    # How many days the history (promo_event) keeps an event; None: forever. Old events are
    # pruned by the writers, every PROMO_EVENT_PRUNE_EVERY-th event of a process (0: never).
    "PROMO_EVENT_RETENTION_DAYS": None,
    "PROMO_EVENT_PRUNE_EVERY": 100,
    # Rate limits (Flask-Limiter). False: no limiter of ours at all.
    "PROMO_RATELIMIT_ENABLED": True,
    # Where the counts live: "memory://" (each process counts alone) or a Redis URL such as
    # "redis://127.0.0.1:6379/0" (shared by every process and server that uses it).
    "PROMO_RATELIMIT_STORAGE_URL": "memory://",
    # Flask-Limiter's strategy: "fixed-window", "moving-window" or "sliding-window-counter".
    "PROMO_RATELIMIT_STRATEGY": "fixed-window",
    # Prefix of the counters' keys in the storage (several apps can share one Redis).
    "PROMO_RATELIMIT_KEY_PREFIX": "promo",
    # Per API token, in the limits notation ("100 per second;10000 per hour"); None: no limit.
    # attach, and every other verb together.
    "PROMO_RATELIMIT_ATTACH": None,
    "PROMO_RATELIMIT_VERBS": None,
    # Failed sign-ins on the page, per admin name and per client address; once spent, the
    # sign-in answers 429 without checking the password.
    "PROMO_RATELIMIT_SIGN_IN_PER_NAME": "5 per minute;30 per hour",
    "PROMO_RATELIMIT_SIGN_IN_PER_IP": "20 per minute;200 per hour",
}


def current_promo() -> PromoCodes:
    return current_app.extensions["promo"]


def promo_session() -> scoped_session:
    """Return the session of the Flask-SQLAlchemy instance the extension was given."""
    return current_promo().db.session
