"""What the API answers for a code the merchant voided: never attached again, never drawn."""

from __future__ import annotations

from sqlalchemy import select

from promo_app.code_actions import Selection, highest_id, run_action
from promo_app.models import PromoCode
from tests.helpers import call


def void(session, shop, code: str) -> None:
    where = PromoCode.code == code
    selection = Selection(shop.personal_id, where, highest_id(session, shop.personal_id))
    assert sum(run_action(session, selection, "void")) == 1


def test_a_voided_code_is_refused_and_a_detach_keeps_it_out_of_the_pool(client, shop, session):
    params = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id}
    alice = {**params, "email": "alice@example.com"}
    assert call(client, "attach", {**alice, "code": "FREE-1"})[0] == 200
    void(session, shop, "FREE-1")
    void(session, shop, "FREE-2")
    bob = {**params, "email": "bob@example.com"}
    status, body = call(client, "attach", {**bob, "code": "FREE-2"})
    assert (status, body["error_text"]) == (409, "Promo code has expired")
    # Alice's retry of her own attach still succeeds, as for any expired code (retry first).
    assert call(client, "attach", {**alice, "code": "FREE-1"})[0] == 200
    assert call(client, "detach", {**alice, "code": "FREE-1"})[0] == 200
    status, body = call(client, "attach", {**bob, "code": "FREE-1"})
    assert (status, body["error_text"]) == (409, "Promo code has expired")
    # The pool has FREE-3 only.
    assert call(client, "attach", bob)[1]["data"]["code"] == "FREE-3"
    assert (
        call(client, "attach", {**params, "profile_id": shop.profiles["twin1"]})[1]["error_text"]
        == "No promo codes available"
    )
    status, body = call(
        client,
        "update",
        {"token": shop.token, "loyalty_id": shop.personal_id, "code": "FREE-2", "activated": True},
    )
    assert (status, body["error_text"]) == (409, "Promo code has expired")
    session.rollback()
    voided = session.scalars(select(PromoCode).where(PromoCode.code == "FREE-1")).one()
    assert voided.voided is not None and voided.free is False
