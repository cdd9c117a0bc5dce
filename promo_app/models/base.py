"""The declarative base of the promo tables, and the values their rows are made with.

The base's metadata carries the bind key ``promo``, so the host's Flask-SQLAlchemy session
routes these models to the promo engine while the host's own models keep the host's engine.
"""

from __future__ import annotations

import secrets

from sqlalchemy import (
    MetaData,
)
from sqlalchemy.orm import DeclarativeBase

BIND_KEY = "promo"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_session_nonce() -> str:
    """Return a fresh session nonce of an admin: every page session carries it."""
    return secrets.token_urlsafe(24)


def new_profile_id() -> str:
    """Return a fresh public profile id: 24 lowercase hex characters."""
    return secrets.token_hex(12)


class PromoModel(DeclarativeBase):
    metadata = MetaData(info={"bind_key": BIND_KEY}, naming_convention=NAMING_CONVENTION)
