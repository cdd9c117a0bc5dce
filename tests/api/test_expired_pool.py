"""A pool that starts with expired codes: each draw still takes the oldest unexpired code,
and no draw walks past the expired ones again (pool.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from promo_app.code_actions import Selection, highest_id, run_action
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import LoyaltyProgram, PromoCode
from promo_app.times import utcnow
from tests.helpers import call

EXPIRED = 20_000


def add_program(session, batches: list[tuple[str, int, object]]) -> int:
    """A personal program filled batch by batch: (prefix, count, expire_date) in id order."""
    program = LoyaltyProgram(name="Month", universal=False)
    session.add(program)
    session.flush()
    for prefix, count, expire_date in batches:
        lines = (ImportLine(n, f"{prefix}-{n:06d}", expire_date=expire_date) for n in range(count))
        import_codes(session, program, lines)
    loyalty_id = program.id
    session.commit()
    return loyalty_id


def draw(client, shop, loyalty_id: int, who: str = "bob@example.com") -> str:
    status, body = call(
        client,
        "attach",
        {"token": shop.token, "db_id": shop.db_id, "loyalty_id": loyalty_id, "email": who},
    )
    assert status == 200, body
    return body["data"]["code"]


def pool_ahead_of(session, loyalty_id: int, code: str) -> int:
    """Codes still in the draw's index ahead of `code` (older and free): what a draw walks."""
    session.rollback()
    head_id = select(PromoCode.id).where(PromoCode.loyalty_id == loyalty_id, PromoCode.code == code)
    return session.scalar(
        select(func.count())
        .select_from(PromoCode)
        .where(
            PromoCode.loyalty_id == loyalty_id,
            PromoCode.free,
            PromoCode.lapsed.is_(False),
            PromoCode.id < head_id.scalar_subquery(),
        )
    )


def test_draws_take_the_oldest_unexpired_code_past_expired_ones(client, session, shop):
    past, later = utcnow() - timedelta(days=1), utcnow() + timedelta(days=30)
    loyalty_id = add_program(
        session,
        [("OLD", 3000, past), ("NEXT", 2, later), ("GONE", 50, past), ("NEW", 3, None)],
    )
    drawn = [draw(client, shop, loyalty_id) for _ in range(5)]
    assert drawn == ["NEXT-000000", "NEXT-000001", "NEW-000000", "NEW-000001", "NEW-000002"]
    status, body = call(
        client,
        "attach",
        {"token": shop.token, "db_id": shop.db_id, "loyalty_id": loyalty_id, "email": "x@y.z"},
    )
    status, body = call(
        client,
        "attach",
        {
            "token": shop.token,
            "db_id": shop.db_id,
            "loyalty_id": loyalty_id,
            "profile_id": shop.profiles["bob"],
        },
    )
    assert (status, body["error_text"]) == (409, "No promo codes available")
    # The expired codes are still there, and still expired, for the page and `get`.
    status, body = call(
        client, "get", {"token": shop.token, "loyalty_id": loyalty_id, "code": "OLD-000007"}
    )
    assert body["data"]["is_expired"] is True
    assert body["data"]["is_attached"] is False


def test_a_new_expire_date_brings_a_passed_over_code_back(client, session, shop):
    past = utcnow() - timedelta(days=1)
    loyalty_id = add_program(session, [("OLD", 10, past), ("NEW", 1, None)])
    assert draw(client, shop, loyalty_id) == "NEW-000000"
    later = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, body = call(
        client,
        "update",
        {"token": shop.token, "loyalty_id": loyalty_id, "code": "OLD-000004", "expire_date": later},
    )
    assert status == 200, body
    assert draw(client, shop, loyalty_id) == "OLD-000004"


def test_a_draw_never_walks_past_the_same_expired_codes_twice(client, session, shop):
    past = utcnow() - timedelta(days=1)
    loyalty_id = add_program(session, [("OLD", EXPIRED, past), ("NEW", 30, None)])
    first = draw(client, shop, loyalty_id)
    assert first == "NEW-000000"
    # A draw sweeps a bounded share (5,000 on PostgreSQL): a few draws finish the sweep.
    for _ in range(EXPIRED // 5_000 + 1):
        head = draw(client, shop, loyalty_id)
    assert head.startswith("NEW-")
    following = f"NEW-{int(head[4:]) + 1:06d}"
    assert pool_ahead_of(session, loyalty_id, following) == 0


@pytest.mark.sqlite_only
def test_a_draw_costs_the_same_with_expired_codes_ahead_as_without(
    app, client, session, shop, engine
):
    """Counted in SQLite's virtual machine steps, which do not depend on the machine's load."""
    past = utcnow() - timedelta(days=1)
    ahead = add_program(session, [("OLD", EXPIRED, past), ("NEW", 30, None)])
    clean = add_program(session, [("NEW", 30, None)])
    draw(client, shop, ahead)  # the draw that meets them
    steps = {"n": 0}

    def count(*_args):
        steps["n"] += 1

    def on_connect(dbapi_connection, _record):
        dbapi_connection.set_progress_handler(lambda: count() or 0, 100)

    engine.dispose()
    event.listen(engine, "connect", on_connect)
    try:
        measured = {}
        for name, loyalty_id in (("ahead", ahead), ("clean", clean)):
            draw(client, shop, clean if name == "clean" else ahead)  # warm the statements
            steps["n"] = 0
            for _ in range(10):
                draw(client, shop, loyalty_id)
            measured[name] = steps["n"]
    finally:
        event.remove(engine, "connect", on_connect)
        engine.dispose()
    assert measured["ahead"] <= 1.2 * measured["clean"] + 10, measured


def lapsed_program(client, session, shop) -> int:
    """A program whose ten expired codes a draw has already taken out of the pool's index."""
    past = utcnow() - timedelta(days=1)
    loyalty_id = add_program(session, [("OLD", 10, past), ("NEW", 1, None)])
    assert draw(client, shop, loyalty_id) == "NEW-000000"
    session.rollback()
    lapsed = select(func.count()).where(PromoCode.loyalty_id == loyalty_id, PromoCode.lapsed)
    assert session.scalar(lapsed) == 10
    session.rollback()
    return loyalty_id


def test_the_clis_new_expiry_for_a_program_brings_its_passed_over_codes_back(
    client, runner, session, shop
):
    loyalty_id = lapsed_program(client, session, shop)
    result = runner.invoke(args=["promo", "set-expiry", str(loyalty_id), "never"])
    assert result.exit_code == 0, result.output
    assert draw(client, shop, loyalty_id) == "OLD-000000"


@pytest.mark.parametrize("action", ["clear_expiry", "set_expiry"])
def test_the_pages_new_expiry_brings_passed_over_codes_back(client, session, shop, action):
    loyalty_id = lapsed_program(client, session, shop)
    selection = Selection(
        loyalty_id=loyalty_id,
        where=PromoCode.code.startswith("OLD-"),
        max_id=highest_id(session, loyalty_id),
        expire_date=utcnow() + timedelta(days=30),
    )
    assert sum(run_action(session, selection, action)) == 10
    assert draw(client, shop, loyalty_id) == "OLD-000000"
