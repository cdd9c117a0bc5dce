"""API tokens: shown once when made, stored only as a hash, limited to databases, revocable."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from .errors import AccessDenied, IncorrectRequest, InvalidToken, TokenRequired
from .models import ApiToken, TokenScope, utcnow
from .profiles import get_database


def hash_token(token: str) -> str:
    """Hash a token for storage; tokens are 256 random bits, so a plain SHA-256 suffices."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(session: Session, name: str, db_ids: list[int] | None = None) -> str:
    """Create a token named `name`, limited to `db_ids` if given; return the secret."""
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


def authenticate(session: Session, secret: str | None) -> ApiToken:
    """Return the live token whose secret is `secret`."""
    if not secret:
        raise TokenRequired()
    # The scopes come in the same query: every call checks them next.
    token = (
        session.scalars(
            select(ApiToken)
            .options(joinedload(ApiToken.scopes))
            .where(ApiToken.token_hash == hash_token(secret), ApiToken.revoked.is_(None))
        )
        .unique()
        .first()
    )
    if token is None:
        raise InvalidToken()
    return token


def check_database_access(token: ApiToken, db_id: int) -> None:
    """Refuse a token limited to other databases than `db_id`."""
    allowed = {scope.db_id for scope in token.scopes}
    if allowed and db_id not in allowed:
        raise AccessDenied()
