"""One code per customer: in such a program a pool draw for a profile that holds a code of the
program answers that code, so that any retry is safe even without an idempotency key."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from promo_app.models import Attachment, Database, LoyaltyProgram, Profile, PromoCode
from promo_app.profiles import add_profile
from tests.helpers import call


@pytest.fixture
def once(runner, client, shop, session) -> int:
    """A one-per-profile program made with the CLI, with four codes imported by the API."""
    result = runner.invoke(args=["promo", "create-program", "Welcome once", "--one-per-profile"])
    assert result.exit_code == 0, result.output
    assert "a profile draws one code at most" in result.output
    loyalty_id = int(result.output.split()[-1])
    assert session.get(LoyaltyProgram, loyalty_id).one_per_profile is True
    session.rollback()
    codes = ["ONCE-1", "ONCE-2", "ONCE-3", "ONCE-4"]
    status, _ = call(
        client, "import", {"token": shop.token, "loyalty_id": loyalty_id, "codes": codes}
    )
    assert status == 200
    return loyalty_id


def draw(client, shop, loyalty_id, fmt="json", **params):
    body = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": loyalty_id, **params}
    return call(client, "attach", body, fmt)


def holdings(session, loyalty_id) -> list[tuple[str, str]]:
    """(code, profile email) of every attachment in the program, as the database has them."""
    rows = session.execute(
        select(PromoCode.code, Profile.email)
        .join(Attachment, Attachment.code_id == PromoCode.id)
        .join(Profile, Profile.id == Attachment.profile_pk)
        .where(PromoCode.loyalty_id == loyalty_id)
        .order_by(PromoCode.code)
    ).all()
    session.rollback()
    return [tuple(row) for row in rows]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_second_draw_answers_the_code_the_profile_holds(client, shop, session, once, fmt):
    status, first = draw(client, shop, once, fmt, email="alice@example.com")
    assert status == 200
    status, again = draw(client, shop, once, fmt, email="alice@example.com")
    assert status == 200
    assert again == first
    assert holdings(session, once) == [("ONCE-1", "Alice@Example.com")]


def test_other_profiles_still_draw_their_own_code(client, shop, session, once):
    draw(client, shop, once, email="alice@example.com")
    _, bob = draw(client, shop, once, email="bob@example.com")
    assert bob["data"]["code"] == "ONCE-2"
    assert holdings(session, once) == [
        ("ONCE-1", "Alice@Example.com"),
        ("ONCE-2", "bob@example.com"),
    ]


def test_a_code_attached_by_name_counts_as_held(client, shop, session, once):
    draw(client, shop, once, email="alice@example.com", code="ONCE-3")
    status, again = draw(client, shop, once, email="alice@example.com")
    assert (status, again["data"]["code"]) == (200, "ONCE-3")
    assert holdings(session, once) == [("ONCE-3", "Alice@Example.com")]


def test_after_a_detach_the_profile_draws_again(client, shop, session, once):
    draw(client, shop, once, email="alice@example.com")
    body = {
        "token": shop.token,
        "db_id": shop.db_id,
        "loyalty_id": once,
        "email": "alice@example.com",
        "code": "ONCE-1",
    }
    assert call(client, "detach", body)[0] == 200
    _, again = draw(client, shop, once, email="alice@example.com")
    assert again["data"]["code"] == "ONCE-1"  # free again, and the oldest


def test_a_holder_gets_its_code_when_the_pool_is_empty_and_others_get_409(
    client, shop, session, once
):
    database = session.get(Database, shop.db_id)
    add_profile(session, database, email="late@example.com")
    session.commit()
    for name in ("alice", "bob", "twin1", "twin2"):
        assert draw(client, shop, once, profile_id=shop.profiles[name])[0] == 200
    status, body = draw(client, shop, once, email="late@example.com")
    assert (status, body["error_text"]) == (409, "No promo codes available")
    status, body = draw(client, shop, once, email="alice@example.com")
    assert (status, body["data"]["code"]) == (200, "ONCE-1")


def test_an_ordinary_program_still_gives_a_second_code(client, shop, session):
    draw(client, shop, shop.personal_id, email="alice@example.com")
    _, again = draw(client, shop, shop.personal_id, email="alice@example.com")
    assert again["data"]["code"] == "FREE-2"


def test_errors_come_in_the_same_order_as_before(client, shop, once):
    status, body = draw(client, shop, 999_999, email="alice@example.com")
    assert (status, body["error_text"]) == (404, "Loyalty program not found")
    status, body = draw(client, shop, once, email="nobody@example.com")
    assert (status, body["error_text"]) == (404, "Profile not found")
