"""The page's customers: a merchant finds a customer by email, phone, profile id or custom
field and sees every code they hold, in every program, with links to the programs."""

from __future__ import annotations

import re

import pytest

from tests.api.profile_calls import profiles
from tests.helpers import call

from .test_page import PASSWORD, sign_in


@pytest.fixture
def signed_in(client, runner):
    result = runner.invoke(args=["promo", "create-admin", "boss", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert sign_in(client).status_code == 302
    return client


def found(html: str) -> list[str]:
    return re.findall(r'<tr data-profile-id="([0-9a-f]{24})">', html)


def attach(client, shop, loyalty_id: int, **params):
    body = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": loyalty_id, **params}
    status, answer = call(client, "attach", body)
    assert status == 200, answer
    return answer["data"]


@pytest.mark.parametrize(
    ("by", "value", "who"),
    [
        ("email", " ALICE@example.com", ["alice"]),
        ("phone", "+7 900 000 00 01", ["alice"]),
        ("field:card", "1001", ["alice"]),
        ("email", "twin@example.com", ["twin1", "twin2"]),
        ("email", "nobody@example.com", []),
    ],
)
def test_find_a_customer_by_any_identifier(signed_in, shop, by, value, who):
    response = signed_in.get(
        "/admin/customers", query_string={"db_id": shop.db_id, "by": by, "value": value}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert found(html) == [shop.profiles[name] for name in who]
    if not who:
        assert "No customer of this database has" in html


def test_find_by_profile_id_and_see_every_code_in_every_program(signed_in, shop):
    alice = shop.profiles["alice"]
    first = attach(signed_in, shop, shop.personal_id, profile_id=alice)
    attach(signed_in, shop, shop.universal_id, profile_id=alice, code="SUMMER")
    html = signed_in.get(
        "/admin/customers", query_string={"db_id": shop.db_id, "by": "profile_id", "value": alice}
    ).get_data(as_text=True)
    assert found(html) == [alice]

    page = signed_in.get(f"/admin/customers/{alice}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Alice@Example.com" in html and "1001" in html
    rows = re.findall(
        r'<td><code>([^<]+)</code></td>\s*<td><a href="/admin/programs/(\d+)">([^<]+)</a>', html
    )
    assert rows == [
        (first["code"], str(shop.personal_id), "Welcome"),
        ("SUMMER", str(shop.universal_id), "Summer sale"),
    ]


def test_a_deleted_customers_codes_show_as_held_by_a_deleted_profile(client, signed_in, shop):
    bob = shop.profiles["bob"]
    code = attach(signed_in, shop, shop.personal_id, email="bob@example.com")["code"]
    params = {"token": shop.token, "db_id": shop.db_id, "profile_id": bob}
    assert profiles(signed_in, "delete", params)[0] == 200

    html = signed_in.get(f"/admin/customers/{bob}").get_data(as_text=True)
    assert "A deleted profile" in html and code in html
    program = signed_in.get(f"/admin/programs/{shop.personal_id}").get_data(as_text=True)
    assert f"deleted profile {bob}" in program
    search = signed_in.get(
        "/admin/customers", query_string={"db_id": shop.db_id, "by": "profile_id", "value": bob}
    ).get_data(as_text=True)
    assert found(search) == [bob] and "deleted profile" in search


def test_customer_pages_are_behind_the_sign_in_and_an_unknown_one_is_404(app, signed_in):
    assert signed_in.get("/admin/customers/" + "0" * 24).status_code == 404
    stranger = app.test_client()
    for path in ("/admin/customers", "/admin/customers/" + "0" * 24):
        response = stranger.get(path)
        assert (response.status_code, "/admin/login" in response.location) == (302, True)
