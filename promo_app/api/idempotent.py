"""The API's side of idempotency keys: the key of a call (the Idempotency-Key header or the
idempotency_key parameter), the parameter added to every writing verb, and its answer given
once (see idempotency.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app, request
from marshmallow import Schema, ValidationError, fields
from sqlalchemy.engine import Connection

from ..errors import IncorrectRequest
from ..idempotency import MAX_KEY_LENGTH, answer_once, check_key, request_hash

HEADER = "Idempotency-Key"
PARAM = "idempotency_key"
REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyKeyParam(fields.String):
    """An idempotency key: 1-255 printable characters, compared exactly."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        try:
            return check_key(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None


def with_key_param(schema: Schema) -> Schema:
    """Return an instance of `schema`'s class with the idempotency_key parameter added."""
    field = IdempotencyKeyParam(
        allow_none=True,
        metadata={
            "description": f"A key of yours (1-{MAX_KEY_LENGTH} characters) that makes a retry "
            "of this call answer the first call's answer instead of doing it again; or give "
            f"it as the {HEADER} header",
            "maxLength": MAX_KEY_LENGTH,
        },
    )
    keyed = type(f"Keyed{type(schema).__name__}", (type(schema),), {PARAM: field})
    return keyed()


def call_key(args: dict[str, Any]) -> str | None:
    """Return the call's idempotency key, from its header or its parameter, if it has one."""
    param = args.get(PARAM)
    header = request.headers.get(HEADER)
    if header is None:
        return param
    if len(header) > 1 and header[0] == header[-1] == '"':
        header = header[1:-1]  # a Structured Field string, as the IETF draft spells it
    try:
        header = check_key(header)
    except ValueError as error:
        raise IncorrectRequest({HEADER: [str(error)]}) from None
    if param is not None and param != header:
        raise IncorrectRequest(
            {PARAM: [f"Given twice with different values (in the {HEADER} header too)."]}
        )
    return header


def answer_keyed(
    verb_name: str,
    connection: Connection,
    args: dict[str, Any],
    key: str,
    work: Callable[[], dict[str, Any]],
) -> tuple[dict[str, Any], bool]:
    """Run `work` once for this token's `key`; return the envelope's body and whether it is
    the first call's, replayed."""
    config = current_app.config
    return answer_once(
        connection,
        token_id=args["api_token"].token_id,
        key=key,
        call_hash=request_hash(verb_name, args),
        ttl=timedelta(seconds=config["PROMO_IDEMPOTENCY_TTL_SECONDS"]),
        prune_every=config["PROMO_IDEMPOTENCY_PRUNE_EVERY"],
        work=work,
    )
