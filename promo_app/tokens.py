"""API tokens: shown once when made, stored only as a hash, limited to databases, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .db.direct import DirectStatement
from .errors import AccessDenied, IncorrectRequest, InvalidToken, TokenRequired
from .models import ApiToken, TokenScope
from .profiles import get_database
from .times import utcnow


def hash_token(token: str) -> str:
    """Hash a token for storage; tokens are 256 random bits, so a plain SHA-256 suffices."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(session: Session, name: str, db_ids: list[int] | None = None) -> str:
    """Create a token named `name`, limited to `db_ids` if given; return the secret."""
    name = name.strip()
    if not name or len(name) > 255:
        raise IncorrectRequest({"name": ["A token name has 1 to 255 characters."]})
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise IncorrectRequest({"name": [f"A token named {name!r} exists already."]})
    for db_id in db_ids or []:
        get_database(session, db_id)
    secret = secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=hash_token(secret))
    token.scopes = [TokenScope(db_id=db_id) for db_id in dict.fromkeys(db_ids or [])]
    session.add(token)
    return secret


def revoke_token(session: Session, name: str) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise IncorrectRequest({"name": [f"No token is named {name!r}."]})
    token.revoked = token.revoked or utcnow()
    return token


@dataclass(frozen=True)
class Grant:
    """What a live token allows: the databases it is limited to (none listed: all of them)."""

    token_id: int
    db_ids: frozenset[int]


def _token_query():
    """Build the token check once: the token and its scopes in one statement, bound per call."""
    tokens, scopes = ApiToken.__table__, TokenScope.__table__
    return (
        select(tokens.c.id, scopes.c.db_id)
        .select_from(tokens.outerjoin(scopes, scopes.c.token_id == tokens.c.id))
        .where(tokens.c.token_hash == bindparam("token_hash"), tokens.c.revoked.is_(None))
    )


_TOKEN_QUERY = DirectStatement(_token_query())


def authenticate(connection: Connection, secret: str | None) -> Grant:
    """Return what the live token whose secret is `secret` allows."""
    if not secret:
        raise TokenRequired()
    rows = _TOKEN_QUERY.rows(connection, {"token_hash": hash_token(secret)})
    if not rows:
        raise InvalidToken()
    return Grant(rows[0][0], frozenset(db_id for _token, db_id in rows if db_id is not None))


def check_database_access(grant: Grant, db_id: int) -> None:
    """Refuse a token limited to other databases than `db_id`."""
    if grant.db_ids and db_id not in grant.db_ids:
        raise AccessDenied()
