"""A program's code list filtered by a customer (email, phone or profile id, found as the
customers page finds them), with the other filters, in the export, and as the selection
of a bulk action."""

from __future__ import annotations

# ruff: noqa: F811 (the page's fixtures, imported from its main test module)
import csv
import io

import pytest
from sqlalchemy import select

from promo_app.models import PromoCode
from tests.helpers import call
from tests.page.test_code_actions import ask, confirm
from tests.page.test_page import codes_listed, signed_in  # noqa: F401


def attach(client, shop, email: str, code: str, loyalty_id: int | None = None) -> None:
    params = {"token": shop.token, "db_id": shop.db_id, "email": email, "code": code}
    status, body = call(client, "attach", {**params, "loyalty_id": loyalty_id or shop.personal_id})
    assert status == 200, body


@pytest.fixture
def held(client, shop):
    """FREE-1 is alice's, FREE-2 bob's, FREE-3 nobody's; SUMMER (universal) is both's."""
    attach(client, shop, "alice@example.com", "FREE-1")
    attach(client, shop, "bob@example.com", "FREE-2")
    for email in ("alice@example.com", "bob@example.com"):
        attach(client, shop, email, "SUMMER", shop.universal_id)


def listed(client, loyalty_id: int, **args) -> list[str]:
    page = client.get(f"/admin/programs/{loyalty_id}", query_string=args)
    assert page.status_code == 200
    return codes_listed(page.text)


@pytest.mark.parametrize(
    ("by", "value", "codes"),
    [
        ("email", " ALICE@example.COM ", ["FREE-1"]),
        ("phone", "+7 900 000 00 01", ["FREE-1"]),
        ("phone", "+79000000002", ["FREE-2"]),
        ("email", "nobody@example.com", []),
        ("email", "nul\x00", []),
        ("nonsense", "bob@example.com", ["FREE-2"]),  # an unknown way reads as email
    ],
)
def test_the_code_list_shows_the_codes_a_customer_holds(signed_in, shop, held, by, value, codes):
    assert listed(signed_in, shop.personal_id, customer_by=by, customer=value) == codes


def test_a_customer_by_profile_id_and_on_a_universal_program(signed_in, shop, held):
    bob = shop.profiles["bob"]
    assert listed(signed_in, shop.personal_id, customer_by="profile_id", customer=bob) == ["FREE-2"]
    assert listed(
        signed_in, shop.universal_id, customer_by="email", customer="bob@example.com"
    ) == ["SUMMER"]


def test_the_customer_filter_combines_with_the_others(signed_in, shop, held):
    alice = {"customer_by": "email", "customer": "alice@example.com"}
    assert listed(signed_in, shop.personal_id, status="attached", **alice) == ["FREE-1"]
    assert listed(signed_in, shop.personal_id, status="free", **alice) == []
    assert listed(signed_in, shop.personal_id, q="FREE-2", **alice) == []
    page = signed_in.get(f"/admin/programs/{shop.personal_id}", query_string=alice).text
    assert 'value="alice@example.com"' in page and "No codes" not in page
    # The export of this filter holds the same codes.
    exported = signed_in.get(f"/admin/programs/{shop.personal_id}/export.csv", query_string=alice)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["code"] for row in rows] == ["FREE-1"]


def test_a_bulk_action_on_a_customers_codes_touches_only_theirs(signed_in, shop, held, session):
    asked = ask(signed_in, shop, action="detach", customer_by="email", customer="alice@example.com")
    assert asked.status_code == 200
    assert "Detach from their customers: 1 code?" in asked.text
    assert "held by the customer with email “alice@example.com”" in asked.text
    done = confirm(signed_in, shop, asked.text)
    assert done.status_code == 302
    assert "customer=alice@example.com" in done.headers["Location"]
    free = dict(session.execute(select(PromoCode.code, PromoCode.free)).all())
    assert free["FREE-1"] is True and free["FREE-2"] is False


def test_a_stale_confirmation_of_a_customers_codes_changes_nothing(
    signed_in, client, shop, held, session
):
    alice = {"customer_by": "email", "customer": "alice@example.com"}
    asked = ask(signed_in, shop, action="detach", **alice)
    assert "Detach from their customers: 1 code?" in asked.text
    attach(client, shop, "alice@example.com", "FREE-3")  # her selection grows meanwhile
    refused = confirm(signed_in, shop, asked.text)
    assert refused.status_code == 409
    assert "it was 1 codes to detach from their customers, it is 2 now" in refused.text
    free = dict(session.execute(select(PromoCode.code, PromoCode.free)).all())
    assert free["FREE-1"] is False and free["FREE-3"] is False


def test_a_bulk_action_on_a_customer_without_codes_is_refused(signed_in, shop, held):
    asked = ask(signed_in, shop, action="void", customer_by="email", customer="x@example.com")
    assert asked.status_code == 400
    assert "No code of this selection would change" in asked.text
