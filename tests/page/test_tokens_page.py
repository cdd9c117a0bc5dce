"""API tokens on the page: made with a scope and shown once, listed with when they were
last used, revoked; `list-tokens` shows the same. The last use is written at most once a
minute per token and process, and a failed write never fails the call."""

from __future__ import annotations

# ruff: noqa: F811 (the page's fixtures, imported from its main test module)
import html
import json
import logging
import re

import pytest
from sqlalchemy import select, update

from promo_app import token_use
from promo_app.models import ApiToken, Attachment
from promo_app.times import utcnow
from promo_app.tokens import hash_token
from tests.helpers import call
from tests.page.test_page import csrf_token, signed_in  # noqa: F401


def create(client, **fields):
    page = client.get("/admin/tokens").text
    return client.post("/admin/tokens", data={"csrf_token": csrf_token(page), **fields})


def shown_secret(page: str) -> str:
    match = re.search(r'<textarea id="token-secret"[^>]*>([^<]+)</textarea>', page)
    assert match, "the page shows no token"
    return html.unescape(match.group(1))


def token_row(page: str, name: str) -> str:
    match = re.search(rf'<tr data-token="{re.escape(name)}">(.*?)</tr>', page, re.S)
    assert match, f"no row for the token {name!r}"
    return match.group(1)


def attach(client, shop, token: str) -> tuple[int, str]:
    params = {"token": token, "db_id": shop.db_id, "loyalty_id": shop.personal_id}
    status, body = call(client, "attach", {**params, "email": "bob@example.com"})
    return status, body["error_text"]


def stored(session, name: str) -> ApiToken | None:
    session.rollback()
    return session.scalar(select(ApiToken).where(ApiToken.name == name))


def test_a_token_made_on_the_page_is_shown_once_works_and_is_revoked(
    signed_in, client, shop, session
):
    made = create(signed_in, name="checkout", db_ids=str(shop.db_id))
    assert made.status_code == 200
    assert made.headers["Cache-Control"] == "no-store"
    assert "it is shown only this once" in made.text
    # A blank form for the next token, with the databases and programs to choose from.
    assert f'name="db_ids" value="{shop.db_id}"' in made.text
    assert f'name="loyalty_ids" value="{shop.universal_id}"' in made.text
    secret = shown_secret(made.text)
    assert stored(session, "checkout").token_hash == hash_token(secret)
    assert attach(client, shop, secret) == (200, "Successful operation")

    listed = signed_in.get("/admin/tokens").text
    assert secret not in listed
    assert f"databases Shop (#{shop.db_id})" in token_row(listed, "checkout")

    row_id = stored(session, "checkout").id
    page = signed_in.get("/admin/tokens").text
    revoked = signed_in.post(
        f"/admin/tokens/{row_id}/revoke", data={"csrf_token": csrf_token(page)}
    )
    assert revoked.status_code == 302
    after = signed_in.get(revoked.headers["Location"]).text
    assert "Revoked the token &#39;checkout&#39;" in after
    assert "Revoke checkout" not in after  # no revoke button left in its row
    assert stored(session, "checkout").revoked is not None
    # SPEC.md: a revoked token is an invalid one.
    assert attach(client, shop, secret) == (401, "Invalid API token")
    # The shop's other token goes on working.
    assert attach(client, shop, shop.token) == (200, "Successful operation")


def test_a_token_made_with_a_scope_reaches_only_that(signed_in, client, shop, session):
    made = create(signed_in, name="reader", loyalty_ids=str(shop.universal_id), read_only="y")
    secret = shown_secret(made.text)
    token = stored(session, "reader")
    assert token.read_only
    assert [scope.loyalty_id for scope in token.program_scopes] == [shop.universal_id]
    assert attach(client, shop, secret) == (403, "Access denied")
    row = token_row(signed_in.get("/admin/tokens").text, "reader")
    assert f"programs Summer sale (#{shop.universal_id})" in row and "read only" in row


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "   "}, "This field is required."),
        ({"name": "n" * 256}, "Field cannot be longer than 255 characters."),
        ({"name": "shop"}, "A token named &#39;shop&#39; exists already."),
        ({"name": "x", "db_ids": "999999"}, "is not a valid choice for this field."),
        ({"name": "x", "loyalty_ids": "abc"}, "Invalid choice(s)"),
        ({"name": "nul\x00"}, "NUL"),
    ],
)
def test_a_token_that_cannot_be_made_is_refused_and_nothing_is_made(
    signed_in, shop, session, fields, message
):
    before = session.scalars(select(ApiToken.name).order_by(ApiToken.id)).all()
    refused = create(signed_in, **fields)
    assert refused.status_code == 400
    assert message in refused.text
    assert 'id="token-secret"' not in refused.text
    session.rollback()
    assert session.scalars(select(ApiToken.name).order_by(ApiToken.id)).all() == before


def test_token_forms_without_csrf_token_change_nothing(signed_in, shop, session):
    refused = signed_in.post("/admin/tokens", data={"name": "sneaky"})
    assert refused.status_code == 400
    assert "did not come from this page, so nothing was done" in refused.text
    assert stored(session, "sneaky") is None
    shop_token = stored(session, "shop")
    refused = signed_in.post(f"/admin/tokens/{shop_token.id}/revoke")
    assert refused.status_code == 400
    assert stored(session, "shop").revoked is None


def test_the_page_of_tokens_needs_a_sign_in(client, admin):
    assert client.get("/admin/tokens").status_code == 302
    assert client.post("/admin/tokens/1/revoke").status_code == 302


def test_last_used_is_recorded_and_shown(signed_in, client, shop, session, runner):
    assert "never" in token_row(signed_in.get("/admin/tokens").text, "other only")
    before = utcnow().replace(microsecond=0)
    assert attach(client, shop, shop.token) == (200, "Successful operation")
    used = stored(session, "shop").last_used_at
    assert used is not None and before <= used <= utcnow()
    assert stored(session, "other only").last_used_at is None
    row = token_row(signed_in.get("/admin/tokens").text, "shop")
    assert used.strftime("%Y-%m-%d %H:%M UTC") in row

    listed = json.loads(runner.invoke(args=["promo", "list-tokens", "--json"]).output)
    by_name = {row["name"]: row for row in listed}
    assert by_name["shop"]["last_used"] == used.replace(microsecond=0).isoformat() + "Z"
    assert by_name["other only"]["last_used"] is None
    table = runner.invoke(args=["promo", "list-tokens"]).output.splitlines()
    assert table[0].split() == [
        "name",
        "databases",
        "programs",
        "read_only",
        "created",
        "last_used",
        "revoked",
    ]
    assert by_name["shop"]["last_used"] in next(line for line in table if line.startswith("shop"))


def test_a_process_writes_last_used_at_most_once_a_minute(client, shop, session, monkeypatch):
    assert attach(client, shop, shop.token) == (200, "Successful operation")
    assert stored(session, "shop").last_used_at is not None
    session.execute(update(ApiToken).values(last_used_at=None))
    session.commit()
    # Within the minute the process does not write again...
    assert attach(client, shop, shop.token) == (200, "Successful operation")
    assert stored(session, "shop").last_used_at is None
    # ...and once it is over, it does.
    monkeypatch.setattr(token_use, "WRITE_EVERY_SECONDS", 0.0)
    assert attach(client, shop, shop.token) == (200, "Successful operation")
    assert stored(session, "shop").last_used_at is not None


def test_a_failed_write_of_last_used_never_fails_the_call(
    client, shop, session, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("the database refuses the write")

    monkeypatch.setattr(token_use, "update", broken)
    with caplog.at_level(logging.WARNING, logger="promo_app.token_use"):
        assert attach(client, shop, shop.token) == (200, "Successful operation")
    assert "Could not record the use of API token" in caplog.text
    session.rollback()
    assert session.scalar(select(Attachment.id)) is not None
    assert stored(session, "shop").last_used_at is None
