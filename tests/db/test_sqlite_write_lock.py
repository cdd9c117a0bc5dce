"""SQLite takes the write lock at a transaction's
first write, so reads never wait and writers still never interleave."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from promo_app.attach import claim_free_code
from promo_app.db.sqlite_lock import writers_waiting
from promo_app.models import LoyaltyProgram, Profile, PromoCode
from promo_app.times import utcnow

# A SQLite setting (PostgreSQL locks rows): left out of the PostgreSQL pass.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def app_config():
    return {"PROMO_SQLITE_BUSY_TIMEOUT_MS": 200}


def test_reads_before_a_write_take_no_lock(engine, shop):
    with Session(engine) as reader, Session(engine) as writer:
        assert reader.scalar(select(LoyaltyProgram.name).limit(1)) == "Welcome"
        writer.execute(update(LoyaltyProgram).values(name="Renamed"))
        writer.commit()
        # The reader's next statement sees the commit, as under READ COMMITTED.
        assert reader.scalar(select(LoyaltyProgram.name).limit(1)) == "Renamed"


def test_a_writer_holds_the_lock_from_its_first_write_to_its_commit(engine, shop):
    with Session(engine) as first, Session(engine) as second:
        first.execute(update(LoyaltyProgram).values(name="First"))
        assert first.scalar(select(LoyaltyProgram.name).limit(1)) == "First"
        assert second.scalar(select(LoyaltyProgram.name).limit(1)) == "Welcome"
        with pytest.raises(OperationalError, match="database is locked"):
            second.execute(update(LoyaltyProgram).values(name="Second"))
        second.rollback()
        first.commit()
        second.execute(update(LoyaltyProgram).values(name="Second"))
        second.commit()
    with Session(engine) as check:
        assert check.scalar(select(LoyaltyProgram.name).limit(1)) == "Second"


def test_two_draws_take_different_codes(engine, shop):
    with Session(engine) as first, Session(engine) as second:
        program = first.get_one(LoyaltyProgram, shop.personal_id)
        alice = first.scalars(
            select(Profile).where(Profile.profile_id == shop.profiles["alice"])
        ).one()
        assert claim_free_code(first.connection(), program.id, alice, utcnow()).code == "FREE-1"
        program2 = second.get_one(LoyaltyProgram, shop.personal_id)
        bob = second.scalars(
            select(Profile).where(Profile.profile_id == shop.profiles["bob"])
        ).one()
        with pytest.raises(OperationalError, match="database is locked"):
            claim_free_code(second.connection(), program2.id, bob, utcnow())
        second.rollback()
        first.commit()
        assert claim_free_code(second.connection(), program2.id, bob, utcnow()).code == "FREE-2"
        second.commit()
    with Session(engine) as check:
        free = check.scalars(select(PromoCode.code).where(PromoCode.free)).all()
    assert free == ["FREE-3"]


WAITING_WRITER = """
import sys
from sqlalchemy import update
from promo_app import create_app
from promo_app.state import current_promo
from promo_app.models import LoyaltyProgram

app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "test"})
with app.app_context(), current_promo().engine.begin() as connection:
    print("writing", flush=True)
    connection.execute(update(LoyaltyProgram).values(name="From another process"))
print("written", flush=True)
"""


def test_a_writer_that_holds_the_lock_sees_a_writer_of_another_process_wait(
    database_url, engine, shop
):
    """What an import asks between its inserts: is anyone waiting for the write lock?"""
    with Session(engine) as holder:
        holder.execute(update(LoyaltyProgram).values(name="Holder"))
        assert not writers_waiting(holder)
        with subprocess.Popen(
            [sys.executable, "-c", WAITING_WRITER, database_url],
            stdout=subprocess.PIPE,
            text=True,
        ) as other:
            try:
                assert other.stdout.readline() == "writing\n"
                deadline = time.monotonic() + 10
                while not writers_waiting(holder) and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert writers_waiting(holder)
                holder.commit()
                assert other.stdout.readline() == "written\n"
                assert other.wait(timeout=10) == 0
            finally:
                other.kill()
        assert not writers_waiting(holder)
    with Session(engine) as check:
        assert "From another process" in check.scalars(select(LoyaltyProgram.name)).all()
