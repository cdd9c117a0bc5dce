"""What tests share beside fixtures: calling a verb and reading its envelope as a client would."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import xmltodict

# The page's admin user that the `admin` fixture makes, and its password.
ADMIN = "boss"
PASSWORD = "correct horse battery"


def call(client, verb: str, params: dict[str, Any], fmt: str = "json", **kwargs: Any):
    """POST `params` to a verb as JSON, XML or a form; return (HTTP status, envelope)."""
    path = f"/api/v1.1/promocodes/{verb}"
    if fmt == "json":
        response = client.post(path, json=params, **kwargs)
    elif fmt == "xml":
        body = xmltodict.unparse({"xml": params})
        response = client.post(path, data=body, content_type="application/xml", **kwargs)
    else:
        response = client.post(path, data=params, **kwargs)
    return response.status_code, parse_envelope(response)


def parse_envelope(response) -> dict[str, Any]:
    """Read an answer as a user's client would, in the format the server chose."""
    if response.mimetype == "application/xml":
        document = xmltodict.parse(response.data, force_list=("field",))["xml"]
        document["error"] = int(document["error"])
        if "errors" in document:
            # <errors><field name="db_id">message</field>...</errors>, as JSON has it
            fields: dict[str, list[str]] = {}
            for field in document["errors"]["field"]:
                fields.setdefault(field["@name"], []).append(field.get("#text", ""))
            document["errors"] = fields
        return document
    assert response.mimetype == "application/json", response.data
    return json.loads(response.data)


def as_xml(value: Any) -> Any:
    """Write expected JSON `data` the way an XML answer reads back through xmltodict:
    text everywhere, booleans as true/false, "" and null as empty elements (None), and a
    list as repeated root <data> elements: xmltodict reads several as a list, one as that
    item alone, and the empty list's one empty <data/> as None."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return {key: as_xml(item) for key, item in value.items()}
    if isinstance(value, list):
        if not value:
            return None
        items = [as_xml(item) for item in value]
        return items if len(items) > 1 else items[0]
    return str(value)


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """Ask a server the tests started to stop; kill it if it has not within `timeout` s."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def recorded_statements(engine, monkeypatch) -> Iterator[list[str]]:
    """Yield a list that gathers, while the block runs, every statement sent on `engine`:
    those through SQLAlchemy's cursor and those of `DirectStatement.rows`, which bypass it."""
    from sqlalchemy import event

    from promo_app.db.direct import DirectStatement

    statements: list[str] = []
    direct_rows = DirectStatement.rows

    def recording(self, connection, params):
        statements.append(str(self.statement))
        return direct_rows(self, connection, params)

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    monkeypatch.setattr(DirectStatement, "rows", recording)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
        monkeypatch.setattr(DirectStatement, "rows", direct_rows)
