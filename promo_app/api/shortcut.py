"""What a verb's shortcut (verb.py, `shortcut`) reads: the call's token and parameters,
when the call is one a shortcut may answer on its own."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError

from ..compat import is_strict
from ..errors import PromoError
from ..rate_limits import counts_token_calls
from .idempotent import call_key
from .params import read_outside, read_params

# The largest body a shortcut reads before the token is checked: an attach call's is a few
# hundred bytes, and a caller without a valid token must not cost a long parse.
_SHORTCUT_BODY_BYTES = 4096


def shortcut_args(verb: str, schema: Schema) -> tuple[str, dict[str, Any]] | None:
    """The call's token and parameters, if its shortcut may answer it: a small body, valid
    parameters, a token, no idempotency key, no rate limit to count. Anything else is for
    the full path, which answers it in its own order."""
    length = request.content_length
    if length is None or length > _SHORTCUT_BODY_BYTES or counts_token_calls(verb):
        return None
    unknown = EXCLUDE if is_strict(current_app.config) else RAISE
    try:
        params = read_params(read_outside())
        args = schema.load(params, unknown=unknown)
        secret = params.get("token")
        if not isinstance(secret, str) or not secret or call_key(args) is not None:
            return None
    except (PromoError, ValidationError):
        return None
    return secret, args
