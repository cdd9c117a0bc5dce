"""Inside a store with CSRFProtect and rules of its own: the API works, its errors keep status."""

from __future__ import annotations

import logging

import pytest

from ..helpers import parse_envelope
from .hosts import dispose, make_store, sign_in

ATTACH = "/shop/promo/api/v1.1/promocodes/attach"


@pytest.fixture(params=[False, True], ids=["store-first", "promo-first"])
def store(request, database_url):
    app, db, _user = make_store(database_url, promo_first=request.param)
    yield app
    dispose(app, db)


def test_the_api_is_exempt_from_the_stores_csrf_protection(store):
    client = store.test_client()
    response = client.post(ATTACH, json={"token": "nope", "db_id": 1, "loyalty_id": 1})
    assert (response.status_code, parse_envelope(response)["error_text"]) == (
        401,
        "Invalid API token",
    )


def test_the_pages_forms_stay_protected(store):
    client = store.test_client()
    sign_in(client, 2)
    response = client.post("/shop/promo/admin/", data={"name": "Sneaky"})
    assert response.status_code == 400
    assert "Sneaky" not in client.get("/shop/promo/admin/").text


@pytest.mark.parametrize(
    ("status", "error_text"),
    [
        (400, "Incorrect request"),
        (401, "Unauthorized"),
        (403, "Access denied"),
        (429, "Too many requests"),
        (503, "Service Unavailable"),
    ],
)
def test_errors_the_store_raises_keep_their_status_in_the_envelope(
    store, caplog, status, error_text
):
    client = store.test_client()
    with caplog.at_level(logging.WARNING):
        response = client.post(ATTACH, json={}, headers={"X-Store-Abort": str(status)})
    assert response.status_code == status
    assert parse_envelope(response) == {"data": None, "error": status, "error_text": error_text}
    assert any(
        str(status) in record.getMessage() and "the store said no" in record.getMessage()
        for record in caplog.records
    )
