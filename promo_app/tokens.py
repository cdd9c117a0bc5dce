"""API tokens: shown once when made, stored only as a hash, limited to databases, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from . import events
from .db.binding import promo_connection
from .db.direct import DirectStatement
from .errors import (
    AccessDenied,
    IncorrectRequest,
    InvalidToken,
    LoyaltyProgramNotFound,
    TokenRequired,
)
from .models import ApiToken, LoyaltyProgram, TokenProgramScope, TokenScope
from .profiles import get_database
from .times import utcnow
from .token_use import note_use


def hash_token(token: str) -> str:
    """Hash a token for storage; tokens are 256 random bits, so a plain SHA-256 suffices."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(
    session: Session,
    name: str,
    db_ids: list[int] | None = None,
    *,
    loyalty_ids: list[int] | None = None,
    read_only: bool = False,
    actor: str = events.CLI,
) -> str:
    """Create a token named `name`, limited to the databases `db_ids` and the programs
    `loyalty_ids` if given, and to reading if `read_only`; return the secret."""
    name = name.strip()
    if not name or len(name) > 255:
        raise IncorrectRequest({"name": ["A token name has 1 to 255 characters."]})
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise IncorrectRequest({"name": [f"A token named {name!r} exists already."]})
    for db_id in db_ids or []:
        get_database(session, db_id)
    for loyalty_id in loyalty_ids or []:
        if session.get(LoyaltyProgram, loyalty_id) is None:
            raise LoyaltyProgramNotFound({"loyalty_id": [f"No loyalty program {loyalty_id}."]})
    secret = secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=hash_token(secret), read_only=read_only)
    token.scopes = [TokenScope(db_id=db_id) for db_id in dict.fromkeys(db_ids or [])]
    token.program_scopes = [
        TokenProgramScope(loyalty_id=loyalty_id) for loyalty_id in dict.fromkeys(loyalty_ids or [])
    ]
    session.add(token)
    reach = {"db_ids": sorted(set(db_ids or [])), "loyalty_ids": sorted(set(loyalty_ids or []))}
    detail = {"token": name, **reach, "read_only": read_only}
    events.record(promo_connection(session), events.TOKEN_CREATED, actor, detail=detail)
    return secret


def revoke_token(session: Session, name: str, actor: str = events.CLI) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise IncorrectRequest({"name": [f"No token is named {name!r}."]})
    if token.revoked is None:
        token.revoked = utcnow()
        detail = {"token": name}
        events.record(promo_connection(session), events.TOKEN_REVOKED, actor, detail=detail)
    return token


@dataclass(frozen=True)
class Grant:
    """What a live token allows: the databases and the programs it is limited to (none
    listed: all of them), and whether it may only read."""

    token_id: int
    db_ids: frozenset[int]
    loyalty_ids: frozenset[int] = frozenset()
    read_only: bool = False
    name: str = ""  # the actor of the history's events

    @property
    def unrestricted(self) -> bool:
        return not (self.db_ids or self.loyalty_ids or self.read_only)


def _token_query():
    """Build the token check once: the token and its scopes in one statement, bound per call."""
    tokens, scopes = ApiToken.__table__, TokenScope.__table__
    programs = TokenProgramScope.__table__
    joined = tokens.outerjoin(scopes, scopes.c.token_id == tokens.c.id).outerjoin(
        programs, programs.c.token_id == tokens.c.id
    )
    return (
        select(
            tokens.c.id, tokens.c.read_only, scopes.c.db_id, programs.c.loyalty_id, tokens.c.name
        )
        .select_from(joined)
        .where(tokens.c.token_hash == bindparam("token_hash"), tokens.c.revoked.is_(None))
    )


_TOKEN_QUERY = DirectStatement(_token_query())


def authenticate(connection: Connection, secret: str | None) -> Grant:
    """Return what the live token whose secret is `secret` allows, noting its use
    (token_use.py: at most once a minute per token and process)."""
    if not secret:
        raise TokenRequired()
    rows = _TOKEN_QUERY.rows(connection, {"token_hash": hash_token(secret)})
    if not rows:
        raise InvalidToken()
    note_use(connection.engine, rows[0][0])
    return Grant(
        rows[0][0],
        frozenset(row[2] for row in rows if row[2] is not None),
        frozenset(row[3] for row in rows if row[3] is not None),
        bool(rows[0][1]),
        rows[0][4],
    )


def check_database_access(grant: Grant, db_id: int) -> None:
    """Refuse a token limited to other databases than `db_id`."""
    if grant.db_ids and db_id not in grant.db_ids:
        raise AccessDenied()
