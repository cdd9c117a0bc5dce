"""A shop's tables: databases of profiles, loyalty programs, their codes and attachments, and
the counters the triggers keep."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..times import utcnow
from .base import PromoModel, new_profile_id


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
