"""A floor for the attach benchmark: a minimal Flask view that runs the same SQL as a pool
draw (token, profile, the draw, the attachment, its history event, one transaction) straight
on sqlite3, with none of the service's checks: no marshmallow, no XML, no error envelope, no
pool. The shop's counting triggers run here as in the service: they are the schema's; and
the write lock is waited for as the service does.

It shows what Flask and SQLite themselves cost on the machine: the service's throughput
set against this floor says how much its own code adds. Not a product path.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from datetime import UTC, datetime

from flask import Flask, Response, request

# The service's way of waiting for SQLite's write lock (tries every millisecond or less),
# not SQLite's busy handler, which sleeps up to 100 ms at a time and, with two workers
# writing, would make this floor slower than the service it is a floor for.
from promo_app.db.sqlite_lock import begin_immediate

app = Flask(__name__)
DATABASE = os.environ["DATABASE_URL"].removeprefix("sqlite:///")
_local = threading.local()

TOKEN = (
    "SELECT t.id, s.db_id FROM promo_api_token t"
    " LEFT OUTER JOIN promo_api_token_scope s ON s.token_id = t.id"
    " WHERE t.token_hash = ? AND t.revoked IS NULL"
)
PROFILE = "SELECT id, profile_id FROM promo_profile WHERE db_id = ? AND profile_id = ? LIMIT 2"
# The draw as the service makes it (attach.py, pool.py): the head of the pool by the pool's
# partial index (free, not lapsed), the expiry checked on that one row.
TAKE = (
    "UPDATE promo_code SET free = 0 WHERE id = (SELECT id FROM promo_code"
    " WHERE loyalty_id BETWEEN ? AND ? AND free = 1 AND lapsed = 0"
    " ORDER BY loyalty_id, id LIMIT 1)"
    " AND free = 1 AND (expire_date IS NULL OR expire_date > ?) RETURNING id, code"
)
ATTACH = (
    "INSERT INTO promo_attachment (code_id, profile_pk, personal, attached,"
    " one_per_profile_loyalty_id) VALUES (?, ?, 1, ?,"
    " (SELECT id FROM promo_loyalty_program WHERE id = ? AND one_per_profile))"
)
EVENT = (
    "INSERT INTO promo_event (at, kind, actor, db_id, loyalty_id, code, profile_id)"
    " VALUES (?, 'attached', 'bench', ?, ?, ?, ?)"
)


def connection() -> sqlite3.Connection:
    if getattr(_local, "connection", None) is None:
        _local.connection = sqlite3.connect(DATABASE, isolation_level=None)
        _local.connection.execute("PRAGMA busy_timeout = 10000")
        _local.connection.execute("PRAGMA synchronous = NORMAL")
    return _local.connection


@app.post("/api/v1.1/promocodes/attach")
def attach() -> Response:
    params = request.get_json()
    db = connection()
    token_hash = hashlib.sha256(params["token"].encode()).hexdigest()
    if not db.execute(TOKEN, (token_hash,)).fetchall():
        return Response('{"error":401}', status=401, mimetype="application/json")
    [(profile_pk, profile_id)] = db.execute(PROFILE, (params["db_id"], params["profile_id"]))
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    begin_immediate(db.cursor(), timeout=10, busy_timeout_ms=10000)
    try:
        program = params["loyalty_id"]
        [(code_id, code)] = db.execute(TAKE, (program, program, now)).fetchall()
        db.execute(ATTACH, (code_id, profile_pk, now, program))
        db.execute(EVENT, (now, params["db_id"], params["loyalty_id"], code, profile_id))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    data = {"code": code, "loyalty_id": params["loyalty_id"], "profile_id": profile_id}
    body = {"data": {**data, "attached": now}, "error": 0, "error_text": "Successful operation"}
    return Response(json.dumps(body, separators=(",", ":")), mimetype="application/json")
