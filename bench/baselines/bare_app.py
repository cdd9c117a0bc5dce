"""The baseline of the attach benchmark: a bare Flask view that parses the same JSON body
and answers the same envelope, with no database, token, schema or profile lookup."""

from __future__ import annotations

import json

from flask import Flask, Response, request

app = Flask(__name__)


@app.post("/api/v1.1/promocodes/attach")
def attach() -> Response:
    params = request.get_json()
    data = {
        "code": "FREE-0000001",
        "loyalty_id": params["loyalty_id"],
        "profile_id": params["profile_id"],
        "attached": "2026-01-01T00:00:00Z",
    }
    body = {"data": data, "error": 0, "error_text": "Successful operation"}
    return Response(json.dumps(body, separators=(",", ":")), mimetype="application/json")
