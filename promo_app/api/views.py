"""The API's views: parse, call one verb, answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import current_app, jsonify, url_for
from sqlalchemy.orm import Session

from .. import verbs
from ..engine import begin_read_only
from ..extension import current_promo
from .blueprint import bp, load, session
from .openapi import build_document
from .schemas import (
    ActivateSchema,
    AttachSchema,
    DetachSchema,
    ExportAllSchema,
    GetSchema,
    ImportSchema,
    UpdateSchema,
)
from .transport import envelope, stream_envelope

attach_schema = AttachSchema()
import_schema = ImportSchema()
get_schema = GetSchema()
activate_schema = ActivateSchema()
update_schema = UpdateSchema()
detach_schema = DetachSchema()
export_all_schema = ExportAllSchema()


@bp.post("/promocodes/attach")
def attach():
    # A connection of its own, rolled back when it closes unless committed (on an error too).
    with current_promo().engine.connect() as connection:
        args = load(attach_schema, connection)
        result = verbs.attach(
            connection,
            args["api_token"],
            db_id=args["db_id"],
            loyalty_id=args["loyalty_id"],
            profile_key=args["profile_key"],
            code=args.get("code"),
        )
        connection.commit()
    if current_app.config["PROMO_ATTACH_NULL_DATA"]:
        return envelope(None)
    return envelope(result.as_data())


@bp.post("/promocodes/import")
def import_():
    args = load(import_schema)
    result = verbs.import_(
        session(),
        args["api_token"],
        loyalty_id=args["loyalty_id"],
        codes_given=args["codes"],
        limit=current_app.config["PROMO_IMPORT_MAX_CODES"],
    )
    session().commit()
    return envelope(
        result.data,
        inserted=result.inserted,
        duplicated=result.duplicated,
        discarded_by_limit=result.discarded_by_limit,
    )


@bp.post("/promocodes/get")
def get():
    args = load(get_schema)
    data = verbs.get(session(), args["api_token"], loyalty_id=args["loyalty_id"], code=args["code"])
    session().commit()
    return envelope(data)


@bp.post("/promocodes/activate")
def activate():
    args = load(activate_schema)
    data = verbs.activate(
        session(), args["api_token"], loyalty_id=args["loyalty_id"], code=args["code"]
    )
    session().commit()
    return envelope(data)


@bp.post("/promocodes/update")
def update():
    args = load(update_schema)
    changes = {name: args[name] for name in ("activated", "expire_date") if name in args}
    data = verbs.update(
        session(), args["api_token"], loyalty_id=args["loyalty_id"], code=args["code"], **changes
    )
    session().commit()
    return envelope(data)


@bp.post("/promocodes/detach")
def detach():
    args = load(detach_schema)
    data = verbs.detach(
        session(),
        args["api_token"],
        db_id=args["db_id"],
        loyalty_id=args["loyalty_id"],
        profile_key=args["profile_key"],
        code=args["code"],
    )
    session().commit()
    return envelope(data)


@bp.post("/promocodes/export_all")
def export_all():
    args = load(export_all_schema)
    # The token was read in a transaction that, on SQLite, holds the write lock: end it.
    session().commit()
    # Read the whole export in one read-only transaction, a snapshot that blocks no writer,
    # in a session of its own: the stream is read after the request's teardown has removed
    # the request's session, so the stream closes this one when it ends.
    reader = Session(current_promo().engine)
    try:
        begin_read_only(reader)
        items = verbs.export_all(reader, args["api_token"], loyalty_id=args["loyalty_id"])
    except BaseException:
        reader.close()
        raise
    return stream_envelope(_closing(items, reader))


def _closing(items: Iterator[dict[str, Any]], reader: Session) -> Iterator[dict[str, Any]]:
    """Yield `items`, then close `reader`, also when the client goes away mid-stream."""
    try:
        yield from items
    finally:
        reader.close()


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API, as mounted in this app."""
    server = url_for(".openapi").removesuffix("/openapi.json")
    return jsonify(build_document(server, current_app.config["PROMO_ATTACH_NULL_DATA"]))
