"""SQLite as the promo engine uses it: writers wait for each other, readers wait for nobody."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from promo_app.db.binding import begin_read_only
from promo_app.models import LoyaltyProgram

# SQLite's own locking rules (PostgreSQL locks rows): left out of the PostgreSQL pass.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def app_config():
    return {"PROMO_SQLITE_BUSY_TIMEOUT_MS": 200, "PROMO_SQLITE_WRITE_LOCK": "transaction"}


def test_in_transaction_mode_a_writer_holds_the_write_lock_from_its_first_statement(engine, shop):
    """BEGIN IMMEDIATE: a second writer waits (here up to the busy timeout), never
    slipping in between the first one's read and its write."""
    with Session(engine) as first, Session(engine) as second:
        first.scalar(select(LoyaltyProgram.name))  # only a read, yet it holds the lock
        with pytest.raises(OperationalError, match="database is locked"):
            second.scalar(select(LoyaltyProgram.name))


def test_a_read_only_transaction_neither_takes_nor_waits_for_the_lock(engine, shop):
    with Session(engine) as writer, Session(engine) as reader:
        writer.execute(update(LoyaltyProgram).values(name="Renamed"))
        begin_read_only(reader)
        names = reader.scalars(select(LoyaltyProgram.name)).all()
        writer.commit()
    assert "Renamed" not in names and "Welcome" in names
