"""Tables of the promo code service.

The models use their own declarative base whose metadata carries the bind key
``promo``, so the host's Flask-SQLAlchemy session routes them to the promo engine
while the host's own models keep using the host's engine untouched.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .times import utcnow

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


class Database(PromoModel):
    """A set of customer profiles (`db_id`)."""

    __tablename__ = "promo_database"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    custom_fields: Mapped[list[CustomField]] = relationship(
        back_populates="database", order_by="CustomField.id"
    )


class CustomField(PromoModel):
    """A custom profile field that a database declares."""

    __tablename__ = "promo_custom_field"
    __table_args__ = (UniqueConstraint("db_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    db_id: Mapped[int] = mapped_column(ForeignKey("promo_database.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))

    database: Mapped[Database] = relationship(back_populates="custom_fields")


class Profile(PromoModel):
    """One customer of a database."""

    __tablename__ = "promo_profile"
    __table_args__ = (
        Index("ix_promo_profile_email", "db_id", "email_key"),
        Index("ix_promo_profile_phone", "db_id", "phone_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(24), unique=True, default=new_profile_id)
    db_id: Mapped[int] = mapped_column(ForeignKey("promo_database.id", ondelete="CASCADE"))
    email: Mapped[str | None] = mapped_column(String(320))
    # Lookup keys: the identifiers as they are compared (see profiles.matching.email_key/phone_key).
    email_key: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    phone_key: Mapped[str | None] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set when the profile is deleted: its identifiers and fields are gone, its row stays so
    # that the codes it was given stay taken (profiles/deleting.py).
    deleted: Mapped[datetime | None] = mapped_column(DateTime)

    field_values: Mapped[list[ProfileFieldValue]] = relationship(
        back_populates="profile", cascade="all, delete-orphan"
    )


class ProfileFieldValue(PromoModel):
    """The value of one custom field for one profile."""

    __tablename__ = "promo_profile_field"
    __table_args__ = (Index("ix_promo_profile_field_lookup", "field_id", "value"),)

    profile_pk: Mapped[int] = mapped_column(
        ForeignKey("promo_profile.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("promo_custom_field.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(1024))

    profile: Mapped[Profile] = relationship(back_populates="field_values")
    field: Mapped[CustomField] = relationship()


class LoyaltyProgram(PromoModel):
    """A pool of promo codes (`loyalty_id`)."""

    __tablename__ = "promo_loyalty_program"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    # The default for codes created in this program: universal or personal.
    universal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The database whose customers it serves; a token limited to databases reaches only
    # their programs. None: unassigned, reachable only by unrestricted tokens.
    db_id: Mapped[int | None] = mapped_column(ForeignKey("promo_database.id", ondelete="SET NULL"))
    # A pool draw for a profile that holds a code of this program answers that code.
    one_per_profile: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    database: Mapped[Database | None] = relationship()


class PromoCode(PromoModel):
    """A promo code of a loyalty program."""

    __tablename__ = "promo_code"
    __table_args__ = (
        UniqueConstraint("loyalty_id", "code"),
        # The pool: personal codes never attached, in the order they are handed out, less
        # those a draw found expired (`lapsed`, see pool.py). Only they are in it, so a draw
        # costs the same at any program size and with any number of expired codes.
        Index(
            "ix_promo_code_pool",
            "loyalty_id",
            "id",
            # Spelled as SQLAlchemy renders the query's filter, so SQLite uses the index.
            sqlite_where=text("free = 1 AND lapsed = 0"),
            postgresql_where=text("free AND NOT lapsed"),
        ),
        # The page lists a program's codes newest first, paged by id (keyset, no OFFSET).
        Index("ix_promo_code_program", "loyalty_id", "id"),
        # The codes of a program by expiry: the few that expired earlier today (counts.py).
        Index(
            "ix_promo_code_expiry",
            "loyalty_id",
            "expire_date",
            sqlite_where=text("expire_date IS NOT NULL"),
            postgresql_where=text("expire_date IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loyalty_id: Mapped[int] = mapped_column(
        ForeignKey("promo_loyalty_program.id", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(String(255))
    universal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # True while a personal code is attached to nobody; always false for universal codes.
    free: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    expire_date: Mapped[datetime | None] = mapped_column(DateTime)
    activated: Mapped[datetime | None] = mapped_column(DateTime)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # When the merchant voided it: it is never attached again (not free, expired at that
    # time at the latest, its expiry fixed) and stays listed as voided.
    voided: Mapped[datetime | None] = mapped_column(DateTime)
    # True once a draw found this free code expired and took it out of the pool's index;
    # a new expire_date clears it.
    lapsed: Mapped[bool] = mapped_column(Boolean, server_default=false())


class Attachment(PromoModel):
    """One (code, profile) pair."""

    __tablename__ = "promo_attachment"
    __table_args__ = (
        UniqueConstraint("code_id", "profile_pk"),
        # A personal code is attached to at most one profile, enforced by the database.
        Index(
            "uq_promo_attachment_personal",
            "code_id",
            unique=True,
            sqlite_where=text("personal = 1"),
            postgresql_where=text("personal"),
        ),
        Index("ix_promo_attachment_profile", "profile_pk"),
        # A pool draw of a one-per-profile program, at most one per profile: two draws that
        # race on PostgreSQL (each on its own snapshot) cannot both attach. Other attachments
        # leave the column null and write no entry.
        Index(
            "uq_promo_attachment_one_per_profile",
            "one_per_profile_loyalty_id",
            "profile_pk",
            unique=True,
            sqlite_where=text("one_per_profile_loyalty_id IS NOT NULL"),
            postgresql_where=text("one_per_profile_loyalty_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("promo_code.id", ondelete="CASCADE"))
    profile_pk: Mapped[int] = mapped_column(ForeignKey("promo_profile.id", ondelete="CASCADE"))
    personal: Mapped[bool] = mapped_column(Boolean)
    attached: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The program, when a pool draw of a one-per-profile program made this attachment.
    one_per_profile_loyalty_id: Mapped[int | None] = mapped_column(Integer)

    code: Mapped[PromoCode] = relationship()
    profile: Mapped[Profile] = relationship()


class ProgramCount(PromoModel):
    """A part of a program's counts of codes by status, kept by triggers (revision 0009).

    A program's counts are the sums of its rows. Rows are keyed by the day its codes expire
    on, so that expired codes can be told from free ones at any time, and by a slot that
    spreads concurrent writers over rows (PostgreSQL); see counts.py.
    """

    __tablename__ = "promo_program_count"

    loyalty_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Days since 1970-01-01 (UTC) of the codes' expiry; NO_EXPIRY for codes that never expire.
    expires_day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    codes: Mapped[int] = mapped_column(Integer, default=0)
    # Neither voided, activated nor given out: free, or expired (counts.py tells them apart).
    unused: Mapped[int] = mapped_column(Integer, default=0)
    attached: Mapped[int] = mapped_column(Integer, default=0)
    activated: Mapped[int] = mapped_column(Integer, default=0)
    voided: Mapped[int] = mapped_column(Integer, default=0)


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


class IdempotencyKey(PromoModel):
    """The first answer of a writing call made with an Idempotency-Key, per token."""

    __tablename__ = "promo_idempotency_key"
    __table_args__ = (
        UniqueConstraint("token_id", "key"),
        Index("ix_promo_idempotency_key_created", "created"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("promo_api_token.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the verb and its parameters: the same key with others is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    # The answer's envelope as JSON; null only inside the transaction that claimed the key.
    answer: Mapped[str | None] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class WebhookState(PromoModel):
    """The pool state last reported for a program by the alert webhook: "low" or "empty"
    (no row, or "ok": nothing to report). Shared by every worker and kept across restarts,
    so that one crossing sends one event (promo_app/webhook)."""

    __tablename__ = "promo_webhook_state"

    loyalty_id: Mapped[int] = mapped_column(
        ForeignKey("promo_loyalty_program.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(16))
    changed: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class UploadJob(PromoModel):
    """A file of codes uploaded through the page, imported by a thread of the server."""

    __tablename__ = "promo_upload_job"
    __table_args__ = (Index("ix_promo_upload_job_loyalty_id_id", "loyalty_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loyalty_id: Mapped[int] = mapped_column(
        ForeignKey("promo_loyalty_program.id", ondelete="CASCADE")
    )
    filename: Mapped[str] = mapped_column(String(255))
    # Who uploaded it; None when the host's own login let the visitor in.
    admin_name: Mapped[str | None] = mapped_column(String(255))
    # queued, running, done, failed; interrupted once seen with a stale heartbeat.
    status: Mapped[str] = mapped_column(String(16), default="queued")
    file_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_read: Mapped[int] = mapped_column(BigInteger, default=0)
    # The counts of the batches committed so far: they match the codes in the program.
    inserted: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicated: Mapped[int] = mapped_column(BigInteger, default=0)
    invalid: Mapped[int] = mapped_column(BigInteger, default=0)
    # The first problem lines, as JSON [[line, code, outcome, why], ...].
    problems: Mapped[str] = mapped_column(Text, default="[]")
    # Why reading stopped early (a malformed CSV), or why the job failed.
    message: Mapped[str | None] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started: Mapped[datetime | None] = mapped_column(DateTime)
    finished: Mapped[datetime | None] = mapped_column(DateTime)
    # Written every few seconds by the server process that runs the job.
    heartbeat: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Event(PromoModel):
    """One change, as it happened: append-only, written in the transaction of the change.

    It names its program, code and profile by value (no foreign keys), so that it outlives
    them: a deleted program's history stays readable.
    """

    __tablename__ = "promo_event"
    __table_args__ = (
        # A program's recent events, and a code's history on the page.
        Index("ix_promo_event_program", "loyalty_id", "id"),
        Index("ix_promo_event_code", "loyalty_id", "code"),
        # No index on `at`: pruning reads the oldest ids (events.prune), one index fewer
        # for every attach to write.
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    # Who did it: the token's name, the admin's name, "page" (a host's own sign-in) or "cli".
    actor: Mapped[str] = mapped_column(String(255))
    db_id: Mapped[int | None] = mapped_column(Integer)
    loyalty_id: Mapped[int | None] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String(255))
    profile_id: Mapped[str | None] = mapped_column(String(24))
    # What else it says, as JSON: counts of a bulk change, the old and new expiry.
    detail: Mapped[str | None] = mapped_column(Text)
