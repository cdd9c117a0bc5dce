"""Who may use the service: API tokens and their scopes, the page's admins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..times import utcnow
from .base import PromoModel, new_session_nonce


class ApiToken(PromoModel):
    """An API token, stored only as its SHA-256 hash."""

    __tablename__ = "promo_api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked: Mapped[datetime | None] = mapped_column(DateTime)
    # A read-only token may call get and export_all only.
    read_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Written at most once a minute per token and process (token_use.py): "about when".
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)

    scopes: Mapped[list[TokenScope]] = relationship(cascade="all, delete-orphan")
    program_scopes: Mapped[list[TokenProgramScope]] = relationship(cascade="all, delete-orphan")


class TokenScope(PromoModel):
    """A database a limited token may use; a token with none may use every database."""

    __tablename__ = "promo_api_token_scope"

    token_id: Mapped[int] = mapped_column(
        ForeignKey("promo_api_token.id", ondelete="CASCADE"), primary_key=True
    )
    db_id: Mapped[int] = mapped_column(
        ForeignKey("promo_database.id", ondelete="CASCADE"), primary_key=True
    )


class TokenProgramScope(PromoModel):
    """A loyalty program a token limited to programs may use; with none, every program
    (that its databases allow)."""

    __tablename__ = "promo_api_token_program"

    token_id: Mapped[int] = mapped_column(
        ForeignKey("promo_api_token.id", ondelete="CASCADE"), primary_key=True
    )
    loyalty_id: Mapped[int] = mapped_column(
        ForeignKey("promo_loyalty_program.id", ondelete="CASCADE"), primary_key=True
    )


class AdminUser(PromoModel):
    """Someone who may sign in to the page of the standalone app; the password is hashed."""

    __tablename__ = "promo_admin_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Carried by every page session of this admin; a new one (sign-out, a new password) ends
    # them all, on every server. None until the admin first signs in (rows made before it).
    session_nonce: Mapped[str | None] = mapped_column(String(64), default=new_session_nonce)
