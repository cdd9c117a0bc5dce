"""Declare each API verb once: its route, its parameters, where it runs, its errors and its
answer. The view, the transaction and the envelope come from the declaration, and the
OpenAPI document reads the same registry.

A verb runs on one of three kinds of database access (`runs_on`):

- ``"connection"``: a plain connection of the promo engine, committed once at the end
  (the attach hot path: no ORM session work);
- ``"session"``: the extension's session, committed at the end;
- ``"snapshot"``: the token is read, that transaction ended, and the verb's answer is read
  in one read-only transaction that blocks no writer (a streamed export).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import current_app
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, scoped_session

from ..access import check_access
from ..compat import is_strict
from ..db.binding import begin_read_only, promo_connection
from ..errors import IncorrectRequest, PromoError, RaceLost
from ..rate_limits import check_token
from ..state import current_promo, promo_session
from ..tokens import authenticate
from .blueprint import bp
from .envelope import envelope, stream_envelope
from .idempotent import REPLAYED_HEADER, answer_keyed, call_key, with_key_param
from .params import flatten_errors, outside_token, read_outside, read_params
from .shortcut import Parsed, shortcut_args

RunsOn = Literal["connection", "session", "snapshot"]


@dataclass(frozen=True)
class Answer:
    """What a verb answers: `data`, and keys of the envelope beside it (import's counts)."""

    data: Any
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verb:
    """One verb as declared: what the view runs and what the OpenAPI document says."""

    name: str
    path: str
    schema: Schema
    runs_on: RunsOn
    summary: str
    description: str
    # The JSON Schema of `data` on success; under PROMO_COMPAT "altcraft" it is null where
    # `strict_null_data` says so, as the platform answers.
    data: dict[str, Any]
    errors: tuple[type[PromoError], ...]
    example: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    strict_null_data: bool = False
    # Errors the verb gives only under PROMO_COMPAT "altcraft".
    strict_errors: tuple[type[PromoError], ...] = ()
    # Whether it changes anything: a read-only token may call only the verbs that do not,
    # and a writing verb takes an idempotency key (header or parameter).
    writes: bool = True
    # Tried first on a "connection" verb, on the databases named in `shortcut_on`: answers
    # the common case in one statement with (engine, token secret, parameters), or None to
    # leave the call to the full path, which takes the parameters the shortcut read and
    # validated rather than read them again. It may raise the PromoError the full path
    # would, when its statement has told it that error for certain.
    shortcut: Callable[[Engine, str, dict[str, Any]], Any] | None = None
    shortcut_on: tuple[str, ...] = ()


VERBS: list[Verb] = []


def verb(
    name: str,
    schema: Schema,
    *,
    runs_on: RunsOn = "session",
    summary: str,
    description: str,
    data: dict[str, Any],
    errors: Iterable[type[PromoError]] = (),
    example: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    strict_null_data: bool = False,
    strict_errors: Iterable[type[PromoError]] = (),
    writes: bool | None = None,
    path: str | None = None,
    shortcut: Callable[[Engine, str, dict[str, Any]], Any] | None = None,
    shortcut_on: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare `POST {path}` (default ``/promocodes/{name}``) answered by the decorated
    function, which takes the database access of `runs_on` and the loaded parameters and
    returns `data`, an `Answer`, or (for ``"snapshot"``) an iterable to stream.

    A writing verb (all but ``"snapshot"`` ones, unless `writes` says otherwise) takes the
    `idempotency_key` parameter and the Idempotency-Key header."""
    writes = runs_on != "snapshot" if writes is None else writes
    declared = Verb(
        name=name,
        path=path or f"/promocodes/{name}",
        schema=with_key_param(schema) if writes else schema,
        runs_on=runs_on,
        summary=summary,
        description=description,
        data=data,
        errors=tuple(errors),
        example=example or {},
        extra=extra or {},
        strict_null_data=strict_null_data,
        strict_errors=tuple(strict_errors),
        writes=writes,
        shortcut=shortcut,
        shortcut_on=shortcut_on,
    )

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        view = _VIEWS[runs_on](declared, handler)
        view.__name__ = view.__qualname__ = name
        view.__doc__ = handler.__doc__
        bp.add_url_rule(declared.path, name, view, methods=["POST"])
        VERBS.append(declared)
        return handler

    return register


def load(
    declared: Verb, connection: Connection | None = None, parsed: Parsed | None = None
) -> dict[str, Any]:
    """Read the request's parameters, check its token, validate them with the verb's
    schema, then check that the token may reach the program they name (access.py).

    The token is checked before anything else, so a caller without one learns nothing
    about the parameters a verb takes; a token in the query string or the Authorization
    header is checked before the body is even read, so that a caller without a valid one
    costs no parse. The call then counts against the token's rate limit for the verb
    (429 when it is spent), and what it may reach is decided before the verb reads or
    writes anything. Returns the parameters with `api_token` added. The token is read on
    `connection`, or by default in the session's transaction. With `parsed` (what a
    shortcut read and validated before it handed the call over) nothing is read or
    validated again: the token is checked, then the rest as above.
    Under PROMO_COMPAT "altcraft" unknown body parameters are ignored, as a generic client
    of the platform may send the same ones on every call (the query string still takes
    only `token` and `format`).
    """
    connection = connection or promo_connection(promo_session())
    outside = read_outside() if parsed is None else parsed.outside
    early = outside_token(outside)
    token = authenticate(connection, early) if early else None
    params = read_params(outside) if parsed is None else parsed.params
    secret = params.get("token")
    if secret is not None and not isinstance(secret, str):
        raise IncorrectRequest({"token": ["Not a valid string."]})
    if token is None:
        token = authenticate(connection, secret)
    check_token(declared.name, token.token_id)
    # A shortcut's parameters are copied: the api_token added below is this call's own.
    args = _validated(declared, params) if parsed is None else dict(parsed.args)
    check_access(
        connection,
        token,
        loyalty_id=args.get("loyalty_id"),
        db_id=args.get("db_id"),
        writes=declared.writes,
    )
    args["api_token"] = token
    return args


def _validated(declared: Verb, params: dict[str, Any]) -> dict[str, Any]:
    unknown = EXCLUDE if is_strict(current_app.config) else RAISE
    try:
        return declared.schema.load(params, unknown=unknown)
    except ValidationError as error:
        raise IncorrectRequest(flatten_errors(error.messages)) from None


def _body(declared: Verb, answer: Any) -> dict[str, Any]:
    """Return the envelope's body (without error and error_text) for a verb's answer."""
    if declared.strict_null_data and is_strict(current_app.config):
        return {"data": None}
    if isinstance(answer, Answer):
        return {"data": answer.data, **answer.extra}
    return {"data": answer}


def _respond(body: dict[str, Any], replayed: bool = False):
    response = envelope(**body)
    if replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response


# How often a call that lost a race to a unique index is run again (see errors.RaceLost).
_RUNS = 3


def _run(
    declared: Verb,
    handler: Callable[..., Any],
    access: Connection | scoped_session,
    args: dict[str, Any],
) -> tuple[dict[str, Any], bool]:
    """Run the verb on `access` (a connection or the session); with an idempotency key, once
    for the key. A lost race is rolled back and run again, up to _RUNS times. Returns the
    envelope's body and whether it is an earlier call's, replayed."""
    key = call_key(args) if declared.writes else None
    for run in range(_RUNS):
        try:
            if key is None:
                return _body(declared, handler(access, args)), False
            connection = access if isinstance(access, Connection) else promo_connection(access)
            return answer_keyed(
                declared.name,
                connection,
                args,
                key,
                lambda: _body(declared, handler(access, args)),
            )
        except RaceLost:
            if run == _RUNS - 1:
                raise
            access.rollback()
    raise AssertionError("unreachable")


def _on_connection(declared: Verb, handler: Callable[..., Any]) -> Callable[[], Any]:
    def view():
        engine = current_promo().engine
        parsed = None
        if engine.dialect.name in declared.shortcut_on:
            parsed = shortcut_args(declared.name, declared.schema)
            secret = None if parsed is None else parsed.secret
            data = None if secret is None else declared.shortcut(engine, secret, parsed.args)
            if data is not None:
                return _respond(_body(declared, data))
        # A connection of its own, rolled back when it closes unless committed (on an
        # error too). The parameters the shortcut read, if it did, are not read again.
        with engine.connect() as connection:
            args = load(declared, connection, parsed)
            body, replayed = _run(declared, handler, connection, args)
            connection.commit()
        return _respond(body, replayed)

    return view


def _on_session(declared: Verb, handler: Callable[..., Any]) -> Callable[[], Any]:
    def view():
        args = load(declared)
        body, replayed = _run(declared, handler, promo_session(), args)
        promo_session().commit()
        return _respond(body, replayed)

    return view


def _on_snapshot(declared: Verb, handler: Callable[..., Any]) -> Callable[[], Any]:
    def view():
        args = load(declared)
        # The token was read in a transaction that, on SQLite, holds the write lock: end it.
        promo_session().commit()
        # Read the whole answer in one read-only transaction, a snapshot that blocks no
        # writer, in a session of its own: the stream is read after the request's teardown
        # has removed the request's session, so the stream closes this one when it ends.
        reader = Session(current_promo().engine)
        try:
            begin_read_only(reader)
            items = handler(reader, args)
        except BaseException:
            reader.close()
            raise
        return stream_envelope(_closing(items, reader))

    return view


def _closing(items: Iterable[Any], reader: Session) -> Iterator[Any]:
    """Yield `items`, then close `reader`, also when the client goes away mid-stream."""
    try:
        yield from items
    finally:
        reader.close()


_VIEWS = {"connection": _on_connection, "session": _on_session, "snapshot": _on_snapshot}
