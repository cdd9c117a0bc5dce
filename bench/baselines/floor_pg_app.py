"""A floor for the attach benchmark on PostgreSQL: a minimal Flask view that runs the same
one statement as a pool draw (attach_pg.py's, compiled by SQLAlchemy once) straight on a
psycopg connection in autocommit, with none of the service's checks: no marshmallow, no XML,
no error envelope, no pool, no fallback. bench/latency_pg.py loads it beside the service.
Not a product path.
"""

from __future__ import annotations

import json
import os
import threading

import psycopg
from flask import Flask, Response, request
from sqlalchemy import make_url
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from promo_app import attach_pg
from promo_app.times import rfc3339, utcnow
from promo_app.tokens import hash_token

app = Flask(__name__)
_url = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql")
CONNINFO = _url.render_as_string(hide_password=False)
_compiled = attach_pg._DRAWS["profile_id"].statement.compile(dialect=PGDialect_psycopg())
SQL = str(_compiled)
DEFAULTS = {name: value for name, value in _compiled.params.items() if value is not None}
_local = threading.local()


def connection() -> psycopg.Connection:
    if getattr(_local, "connection", None) is None:
        _local.connection = psycopg.connect(CONNINFO, autocommit=True)
    return _local.connection


@app.post("/api/v1.1/promocodes/attach")
def attach() -> Response:
    params = json.loads(request.get_data())
    now = utcnow()
    row = (
        connection()
        .execute(
            SQL,
            {
                **DEFAULTS,
                "token_hash": hash_token(params["token"]),
                "db_id": params["db_id"],
                "program_id": params["loyalty_id"],
                "value": params["profile_id"],
                "field_name": "",
                "now": now,
            },
        )
        .fetchone()
    )
    if row is None:
        return Response('{"data":null,"error":409}', 409, mimetype="application/json")
    data = {
        "code": row[0],
        "loyalty_id": params["loyalty_id"],
        "profile_id": row[1],
        "attached": rfc3339(now),
    }
    body = {"data": data, "error": 0, "error_text": "Successful operation"}
    return Response(json.dumps(body), mimetype="application/json")
