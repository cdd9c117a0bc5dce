"""What a verb's shortcut (verb.py, `shortcut`) reads: the call's token and parameters,
read and validated once, for the shortcut and, when it hands the call over, for the full
path too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError

from ..compat import is_strict
from ..errors import PromoError
from ..rate_limits import counts_token_calls
from .idempotent import call_key
from .params import Outside, read_outside, read_params

# The largest body a shortcut reads before the token is checked: an attach call's is a few
# hundred bytes, and a caller without a valid token must not cost a long parse.
_SHORTCUT_BODY_BYTES = 4096


@dataclass(frozen=True)
class Parsed:
    """A call's parameters as read (`outside` the body, then all of them, `params`) and as
    the verb's schema loaded them (`args`). The full path (verb.load) takes them as they
    are, in place of reading the request again: it checks the token first, then goes on
    as if it had read and validated them itself, which it would have done without error."""

    outside: Outside
    params: dict[str, Any]
    args: dict[str, Any]

    @property
    def secret(self) -> str | None:
        """The token, when the call may be answered by a shortcut: given, and no
        idempotency key (a keyed call is the full path's, once for its key)."""
        secret = self.params.get("token")
        if not isinstance(secret, str) or not secret or call_key(self.args) is not None:
            return None
        return secret


def shortcut_args(verb: str, schema: Schema) -> Parsed | None:
    """The call's parameters, read and valid, if a shortcut may look at it: a small body, no
    rate limit to count. Anything else (and any error in reading or validating them) is for
    the full path, which reads them itself and answers in its own order."""
    length = request.content_length
    if length is None or length > _SHORTCUT_BODY_BYTES or counts_token_calls(verb):
        return None
    unknown = EXCLUDE if is_strict(current_app.config) else RAISE
    try:
        outside = read_outside()
        params = read_params(outside)
        args = schema.load(params, unknown=unknown)
    except (PromoError, ValidationError):
        return None
    return Parsed(outside, params, args)
