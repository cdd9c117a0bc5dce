"""SQLite as the promo engine uses it: writers wait for each other, readers wait for nobody."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from promo_app.db.binding import begin_read_only
from promo_app.models import LoyaltyProgram

# SQLite's own locking rules (PostgreSQL locks rows): left out of the PostgreSQL pass.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def app_config():
    return {"PROMO_SQLITE_BUSY_TIMEOUT_MS": 200}


def test_a_read_only_transaction_neither_takes_nor_waits_for_the_lock(engine, shop):
    with Session(engine) as writer, Session(engine) as reader:
        writer.execute(update(LoyaltyProgram).values(name="Renamed"))
        begin_read_only(reader)
        names = reader.scalars(select(LoyaltyProgram.name)).all()
        writer.commit()
    assert "Renamed" not in names and "Welcome" in names
