"""The page's customers: a merchant finds a customer by email, phone, profile id or custom
field and sees every code they hold, in every program, with links to the programs."""

from __future__ import annotations

import re

import pytest

from tests.api.profile_calls import profiles
from tests.helpers import call

from .test_page import PASSWORD, csrf_token, sign_in


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


def add_field(client, db_id, name: str, token: str | None = None):
    page = client.get(f"/admin/customers?db_id={db_id}")
    data = {"db_id": str(db_id), "name": name}
    data["csrf_token"] = token if token is not None else csrf_token(page.text)
    return client.post("/admin/customers/fields", data=data, follow_redirects=True)


def test_a_merchant_adds_a_custom_field_and_finds_customers_by_it(signed_in, client, shop):
    page = client.get(f"/admin/customers?db_id={shop.db_id}")
    assert "Custom fields of Shop: <code>card</code>." in page.text

    page = add_field(client, shop.db_id, " user_id ")
    assert "Database 1 has a new custom field &#39;user_id&#39;." in page.text
    assert "<code>card</code>, <code>user_id</code>." in page.text
    assert '<option value="field:user_id" >user_id (custom field)</option>' in page.text

    status, body = profiles(
        client,
        "import",
        {
            "token": shop.token,
            "db_id": shop.db_id,
            "email": "bob@example.com",
            "data": {"user_id": "u-7"},
        },
    )
    assert status == 200, body
    page = client.get(f"/admin/customers?db_id={shop.db_id}&by=field:user_id&value=u-7")
    assert found(page.text) == [shop.profiles["bob"]]


@pytest.mark.parametrize(
    ("name", "token", "message"),
    [
        ("email", None, "No field was added: &#39;email&#39; cannot be a custom field&#39;s name"),
        ("card", None, "No field was added: The custom field &#39;card&#39; is there already."),
        ("x" * 256, None, "No field was added: Field cannot be longer than 255 characters."),
        ("user_id", "forged", "No field was added: The form was too old"),
    ],
)
def test_a_refused_field_says_why_and_adds_nothing(signed_in, client, shop, name, token, message):
    page = add_field(client, shop.db_id, name, token)
    assert page.status_code == 200
    assert message in page.text
    assert "Custom fields of Shop: <code>card</code>." in page.text
