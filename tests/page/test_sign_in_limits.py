"""The page's sign-in takes a few wrong passwords, then answers 429 for a while, per name and
per address, without looking at the password."""

from __future__ import annotations

import pytest

from tests.helpers import PASSWORD
from tests.page.test_page import csrf_token, sign_in


@pytest.fixture
def app_config():
    return {
        "PROMO_RATELIMIT_SIGN_IN_PER_NAME": "3 per hour",
        "PROMO_RATELIMIT_SIGN_IN_PER_IP": "5 per hour",
    }


def test_wrong_passwords_for_one_name_are_stopped_and_the_right_one_waits(client, admin):
    assert [sign_in(client, password="guess").status_code for _ in range(3)] == [401] * 3
    refused = sign_in(client)  # the right password, but the name's limit is spent
    assert refused.status_code == 429
    assert "Too many failed sign-ins. Try again in" in refused.text
    assert 3000 < int(refused.headers["Retry-After"]) <= 3600
    assert client.get("/admin/").status_code == 302  # still signed out


def test_names_are_counted_apart_and_so_is_each_address(client, admin):
    for _ in range(3):
        sign_in(client, name="somebody", password="guess")
    assert sign_in(client, name="somebody", password="guess").status_code == 429
    assert sign_in(client).status_code == 302  # boss has had no wrong password
    for name in ("a", "b"):
        sign_in(client, name=name, password="guess")
    # Five failures from this address (three for somebody, two more): the address is spent.
    assert sign_in(client).status_code == 429
    other = {"REMOTE_ADDR": "192.0.2.7"}
    form = client.get("/admin/login", environ_base=other)
    response = client.post(
        "/admin/login",
        data={"csrf_token": csrf_token(form.text), "name": "boss", "password": PASSWORD},
        environ_base=other,
    )
    assert response.status_code == 302


def test_a_successful_sign_in_is_not_counted(client, admin):
    for _ in range(6):
        assert sign_in(client).status_code == 302
