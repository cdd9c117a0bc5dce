"""An import holding SQLite's write lock sees a writer of its own process wait for it, as it
sees one of another process: an upload job's thread imports beside the requests (and the
job's heartbeat) of its server process."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from promo_app.db.sqlite_lock import writers_waiting
from promo_app.models import LoyaltyProgram

# A SQLite setting (PostgreSQL locks rows): left out of the PostgreSQL pass.
pytestmark = pytest.mark.sqlite_only


def test_a_writer_that_holds_the_lock_sees_a_writer_of_its_own_process_wait(engine, shop):
    written = threading.Event()

    def write() -> None:
        with Session(engine) as other:
            other.execute(update(LoyaltyProgram).values(name="From another thread"))
            other.commit()
        written.set()

    with Session(engine) as holder:
        holder.execute(update(LoyaltyProgram).values(name="Holder"))
        assert not writers_waiting(holder)
        waiter = threading.Thread(target=write)
        waiter.start()
        deadline = time.monotonic() + 5
        while not writers_waiting(holder) and time.monotonic() < deadline:
            time.sleep(0.001)
        assert writers_waiting(holder)
        assert not written.is_set()
        holder.commit()
        waiter.join(timeout=10)
        assert written.is_set()
        assert not writers_waiting(holder)
    with Session(engine) as check:
        assert "From another thread" in check.scalars(select(LoyaltyProgram.name)).all()
