"""The API's views: parse, call one verb, answer."""

from __future__ import annotations

from flask import current_app

from .. import verbs
from .blueprint import bp, load, session
from .schemas import AttachSchema
from .transport import envelope

attach_schema = AttachSchema()


@bp.post("/promocodes/attach")
def attach():
    args = load(attach_schema)
    result = verbs.attach(
        session(),
        args["api_token"],
        db_id=args["db_id"],
        loyalty_id=args["loyalty_id"],
        profile_key=args["profile_key"],
        code=args.get("code"),
    )
    session().commit()
    if current_app.config["PROMO_ATTACH_NULL_DATA"]:
        return envelope(None)
    return envelope(result.as_data())
