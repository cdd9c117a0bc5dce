"""POST /api/v1.1/promocodes/generate: our extension that adds random codes from a pattern."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from promo_app.models import PromoCode
from tests.helpers import as_xml, call

OK = "Successful operation"


def program_codes(session, loyalty_id: int) -> set[str]:
    session.rollback()
    query = select(PromoCode.code).where(PromoCode.loyalty_id == loyalty_id)
    return set(session.scalars(query))


@pytest.mark.parametrize("fmt", ["json", "xml", "form"])
def test_generate_answers_the_new_codes(client, shop, session, fmt):
    before = program_codes(session, shop.personal_id)
    status, body = call(
        client,
        "generate",
        {
            "token": shop.token,
            "loyalty_id": shop.personal_id,
            "count": 5,
            "prefix": "SPRING-",
            "pattern": "****-****",
            "expire_date": "2031-04-30",
        },
        fmt,
    )
    assert (status, body["error"], body["error_text"]) == (200, 0, OK)
    added = program_codes(session, shop.personal_id) - before
    assert len(added) == 5 and all(code.startswith("SPRING-") for code in added)
    data = [{"code": code} for code in sorted(added)]
    if fmt == "json" or fmt == "form":
        assert sorted(body["data"], key=lambda item: item["code"]) == data
        assert (body["inserted"], body["redrawn"]) == (5, 0)
    else:
        items = body["data"]["item"]
        assert sorted(items, key=lambda item: item["code"]) == as_xml(data)["item"]
    expiry = session.scalars(select(PromoCode.expire_date).where(PromoCode.code.in_(added)))
    assert {moment.isoformat() for moment in expiry} == {"2031-04-30T23:59:59"}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"pattern": "SALE-2026", "count": 3}, "pattern", "at least one placeholder"),
        ({"pattern": "###", "count": 50, "force": True}, "count", "can make 125 codes"),
        ({"pattern": "####", "count": 5}, "pattern", "bits of randomness"),
        ({"pattern": "*******", "count": 10_001}, "count", "At most 10,000 codes a call"),
        ({"pattern": "*******", "count": 0}, "count", "greater than or equal to 1"),
        ({"pattern": "*******", "count": 2, "alphabet": "greek"}, "alphabet", "Must be one of"),
        ({"pattern": "*******"}, "count", "Missing data"),
    ],
)
def test_a_refused_generation_adds_nothing(client, shop, session, params, field, message):
    before = session.scalar(select(func.count()).select_from(PromoCode))
    status, body = call(
        client, "generate", {"token": shop.token, "loyalty_id": shop.personal_id, **params}
    )
    assert (status, body["error_text"]) == (400, "Incorrect request")
    assert message in " ".join(body["errors"][field])
    session.rollback()
    assert session.scalar(select(func.count()).select_from(PromoCode)) == before


def test_generate_needs_a_token_and_a_program(client, shop):
    params = {"loyalty_id": shop.personal_id, "pattern": "*******", "count": 1}
    assert call(client, "generate", params)[1]["error_text"] == "API token required"
    status, body = call(client, "generate", {**params, "token": shop.token, "loyalty_id": 999})
    assert (status, body["error_text"]) == (404, "Loyalty program not found")


def test_generated_codes_are_attached_like_any_other(client, shop):
    params = {"token": shop.token, "loyalty_id": shop.empty_id, "pattern": "*******", "count": 1}
    [item] = call(client, "generate", params)[1]["data"]
    status, body = call(
        client,
        "attach",
        {
            "token": shop.token,
            "db_id": shop.db_id,
            "loyalty_id": shop.empty_id,
            "email": "bob@example.com",
        },
    )
    assert (status, body["data"]["code"]) == (200, item["code"])
