"""Per-token limits on the API (Flask-Limiter, in memory): 429 in the envelope, Retry-After."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, select

from promo_app import PromoCodes, create_app
from promo_app.models import Attachment
from tests.helpers import call


@pytest.fixture
def app_config():
    return {"PROMO_RATELIMIT_ATTACH": "3 per hour", "PROMO_RATELIMIT_VERBS": "2 per hour"}


def attach(client, shop, token=None, fmt="json"):
    body = {
        "token": token or shop.token,
        "db_id": shop.db_id,
        "loyalty_id": shop.universal_id,
        "email": "alice@example.com",
        "code": "SUMMER",
    }
    return call(client, "attach", body, fmt)


def get(client, shop, token=None):
    body = {"token": token or shop.token, "loyalty_id": shop.universal_id, "code": "SUMMER"}
    return call(client, "get", body)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_token_past_its_attach_limit_gets_429_with_retry_after(client, shop, session, fmt):
    assert [attach(client, shop, fmt=fmt)[0] for _ in range(3)] == [200, 200, 200]
    path = "/api/v1.1/promocodes/attach"
    body = {
        "token": shop.token,
        "db_id": shop.db_id,
        "loyalty_id": shop.personal_id,
        "email": "bob@example.com",
    }
    response = client.post(path, json=body)
    assert response.status_code == 429
    envelope = response.get_json()
    assert (envelope["error"], envelope["error_text"]) == (429, "Too many requests")
    assert envelope["data"] is None
    assert "3 per hour" in envelope["errors"]["token"][0]
    assert 3000 < int(response.headers["Retry-After"]) <= 3600
    # Refused before any work: bob drew nothing.
    assert session.scalar(select(func.count()).select_from(Attachment)) == 1


def test_the_other_verbs_share_their_own_limit(client, shop):
    assert [get(client, shop)[0] for _ in range(3)] == [200, 200, 429]
    params = {"token": shop.token, "loyalty_id": shop.universal_id}
    status, body = call(client, "export_all", params)
    assert (status, body["error_text"]) == (429, "Too many requests")
    assert attach(client, shop)[0] == 200  # attach counts apart


def test_each_token_has_its_own_count(client, shop, runner):
    other = runner.invoke(args=["promo", "create-token", "second"]).output.split()[-1]
    for _ in range(3):
        attach(client, shop)
    assert attach(client, shop)[0] == 429
    assert attach(client, shop, token=other)[0] == 200


def test_a_call_without_a_valid_token_is_not_counted_against_it(client, shop):
    for _ in range(5):
        assert attach(client, shop, token="not a token")[0] == 401
    assert attach(client, shop)[0] == 200


@pytest.mark.parametrize(
    "settings",
    [{"PROMO_RATELIMIT_ENABLED": False}, {"PROMO_RATELIMIT_ATTACH": None}],
)
def test_limits_can_be_switched_off(database_url, settings):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PROMO_RATELIMIT_ATTACH": "1 per hour",
            **settings,
        }
    )
    assert ("promo_rate_limits" in app.extensions) == (settings == {"PROMO_RATELIMIT_ATTACH": None})


def test_a_limit_that_is_not_one_stops_the_app_at_start(database_url):
    with pytest.raises(RuntimeError, match="PROMO_RATELIMIT_ATTACH"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url, "PROMO_RATELIMIT_ATTACH": "often"})


def test_a_storage_that_does_not_answer_lets_calls_through(client, shop, app, caplog):
    limits = app.extensions["promo_rate_limits"]

    def broken(*_args, **_kwargs):
        raise ConnectionError("the storage is down")

    limits.limiter.limiter.hit = broken
    assert [attach(client, shop)[0] for _ in range(5)] == [200] * 5
    assert "rate limit storage did not answer" in caplog.text


def test_a_host_keeps_its_own_limiter_beside_ours(database_url):
    host = Flask("host")
    host.config.update(
        SQLALCHEMY_DATABASE_URI=database_url,
        SECRET_KEY="x",
        PROMO_RATELIMIT_ATTACH="1 per hour",
        RATELIMIT_DEFAULT="50 per hour",  # the host's default limit, for its own routes
    )
    host_limiter = Limiter(get_remote_address, app=host, storage_uri="memory://")

    @host.get("/hello")
    @host_limiter.limit("2 per hour")
    def hello():
        return "hello"

    db = SQLAlchemy()
    PromoCodes(db).init_app(host)
    with host.app_context():
        host.extensions["promo"].create_all()
    client = host.test_client()
    assert [client.get("/hello").status_code for _ in range(3)] == [200, 200, 429]
    # Our limiter applies no route limit of its own, nor the host's RATELIMIT_DEFAULT a
    # second time; the API answers in its envelope (401: no token), not the host's 429 page.
    statuses = [client.post("/api/v1.1/promocodes/get", json={}).status_code for _ in range(5)]
    assert statuses == [401] * 5
    assert len(host.extensions["limiter"]) == 2
    with host.app_context():
        for engine in db.engines.values():
            engine.dispose()


def test_ours_switched_off_leaves_the_host_limiter_working(database_url):
    host = Flask("host")
    host.config.update(
        SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY="x", PROMO_RATELIMIT_ENABLED=False
    )
    host_limiter = Limiter(get_remote_address, app=host, storage_uri="memory://")

    @host.get("/hello")
    @host_limiter.limit("1 per hour")
    def hello():
        return "hello"

    PromoCodes(SQLAlchemy()).init_app(host)
    client = host.test_client()
    assert [client.get("/hello").status_code for _ in range(2)] == [200, 429]
    assert host.extensions["limiter"] == {host_limiter}
    assert "promo_rate_limits" not in host.extensions
