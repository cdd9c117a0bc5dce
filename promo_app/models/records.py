"""What the service keeps beside the shop's data: idempotency keys, the webhook's state,
upload jobs and the history's events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..times import utcnow
from .base import PromoModel


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
        # A program's recent events, and a code's history on the page, newest first (the
        # code's `id` for PostgreSQL: a universal code may have millions). Each holds only
        # the events it serves: a profile's, a token's or a sign-in's are in neither.
        Index(
            "ix_promo_event_program",
            "loyalty_id",
            "id",
            sqlite_where=text("loyalty_id IS NOT NULL"),
            postgresql_where=text("loyalty_id IS NOT NULL"),
        ),
        Index(
            "ix_promo_event_code",
            "loyalty_id",
            "code",
            "id",
            sqlite_where=text("code IS NOT NULL"),
            postgresql_where=text("code IS NOT NULL"),
        ),
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
