"""The alert webhook (PROMO_WEBHOOK_URL), against a real receiving server on loopback: a
signed event when attach calls take a program's pool below its threshold and when they
empty it, one per crossing, sent after the attach and never failing it."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from promo_app import create_app, webhook
from promo_app.models import WebhookState
from promo_app.webhook.delivery import WebhookSettingError
from tests.alerts.receiver import Receiver, receiver, refused_url
from tests.helpers import call

SECRET = "a shared secret of the shop"
# A profile may draw several codes of a program (it is not one-per-profile).
PEOPLE = ["alice@example.com", "bob@example.com", "alice@example.com"]


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as received:
        yield received


@pytest.fixture
def make_app(database_url) -> Iterator[Callable[..., Any]]:
    """Make the app on the test's database with the webhook's settings; stop its threads
    after the test."""
    made = []

    def make(url: str | None, **config: Any):
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "SQLALCHEMY_DATABASE_URI": database_url,
                "PROMO_WEBHOOK_URL": url,
                "PROMO_WEBHOOK_SECRET": SECRET,
                # The shop's personal program has 3 codes: 2 left is still ok, 1 is low.
                "PROMO_LOW_CODES_THRESHOLD": 2,
                "PROMO_WEBHOOK_CHECK_SECONDS": 0.02,
                "PROMO_WEBHOOK_BACKOFF_SECONDS": 0.05,
                "PROMO_WEBHOOK_ATTEMPTS": 3,
                **config,
            }
        )
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            engine = app.extensions["promo"].engine
            webhook.uninstall(engine)
            engine.dispose()


def attach(client, shop, email: str) -> tuple[int, dict]:
    body = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id}
    return call(client, "attach", {**body, "email": email})


def attach_named(client, shop, email: str, code: str) -> tuple[int, dict]:
    body = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id}
    return call(client, "attach", {**body, "email": email, "code": code})


def refill(client, shop, *codes: str) -> None:
    body = {"token": shop.token, "loyalty_id": shop.personal_id, "codes": list(codes)}
    status, answer = call(client, "import", body)
    assert (status, answer["inserted"]) == (200, len(codes))


def webhook_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if "webhook" in thread.name]


def test_emptying_a_pool_sends_a_signed_low_event_then_an_empty_one(make_app, shop, hook):
    client = make_app(hook.url).test_client()
    assert attach(client, shop, PEOPLE[0])[0] == 200  # 2 left: not low yet
    assert attach(client, shop, PEOPLE[1])[0] == 200  # 1 left: low
    [low] = hook.wait_for(1)
    assert attach(client, shop, PEOPLE[2])[0] == 200  # none left
    _, empty = hook.wait_for(2)

    for delivery in (low, empty):
        assert delivery.signed_with(SECRET)
        assert not delivery.signed_with("another secret of sixteen")
        assert delivery.headers["Content-Type"] == "application/json"
        assert delivery.headers["X-Promo-Event-Id"] == delivery.event["id"]
        assert delivery.headers["X-Promo-Timestamp"] == str(delivery.event["timestamp"])
        assert abs(delivery.event["timestamp"] - time.time()) < 60
    assert low.event["id"] != empty.event["id"]
    assert {key: low.event[key] for key in ("type", "loyalty_id", "name", "free")} == {
        "type": "pool.low",
        "loyalty_id": shop.personal_id,
        "name": "Welcome",
        "free": 1,
    }
    assert low.event["threshold"] == 2
    expected = f"LOW program {shop.personal_id} 'Welcome': 1 free codes left (threshold 2)."
    assert low.event["message"] == expected
    assert (empty.event["type"], empty.event["free"]) == ("pool.empty", 0)
    assert empty.event["message"].startswith(f"EMPTY program {shop.personal_id} 'Welcome'")


def test_one_event_per_crossing_and_again_only_after_a_refill(make_app, shop, hook, session):
    client = make_app(hook.url).test_client()
    for email in PEOPLE:
        attach(client, shop, email)
    hook.wait_for(1)
    # More calls on the empty pool, a refill that leaves it low, and the calls that empty
    # it again: nothing new to say.
    for _ in range(2):
        status, body = attach(client, shop, "bob@example.com")
        assert (status, body["error_text"]) == (409, "No promo codes available")
    refill(client, shop, "MORE-1")
    attach(client, shop, "bob@example.com")
    # Refilled to the threshold: ok again, silently; then a draw takes it below.
    refill(client, shop, "MORE-2", "MORE-3", "MORE-4")
    attach(client, shop, "alice@example.com")
    wait_for_state(session, shop.personal_id, "ok")  # a look found 2 free: refilled
    attach(client, shop, "alice@example.com")
    last = hook.wait_for(2)[-1].event
    while last["type"] != "pool.low" or last["free"] != 1:
        last = hook.wait_for(len(hook.deliveries) + 1)[-1].event
    time.sleep(0.3)  # rounds that would send more, had anything else crossed
    types = [event["type"] for event in hook.events()]
    # Attaches 2 and 3 may fall in one look: then only "empty" is said, never twice anything.
    assert types in (["pool.low", "pool.empty", "pool.low"], ["pool.empty", "pool.low"])


def test_an_attach_answers_200_when_the_receiver_answers_500_and_the_sender_gives_up(
    make_app, shop, hook, caplog
):
    hook.status = 500
    client = make_app(hook.url).test_client()
    with caplog.at_level(logging.WARNING, logger="promo_app.webhook"):
        answers = [attach(client, shop, email) for email in PEOPLE]
        assert [status for status, _ in answers] == [200, 200, 200]
        assert [body["data"]["code"] for _, body in answers] == ["FREE-1", "FREE-2", "FREE-3"]
        # Sent one after the other, "empty" last (with "low" before it, unless one look saw both).
        wait_for_log(caplog, "gave up on pool.empty")
    tries = hook.deliveries
    # Each event tried PROMO_WEBHOOK_ATTEMPTS times, the same event each time, then dropped.
    by_event: dict[str, int] = {}
    for delivery in tries:
        assert delivery.signed_with(SECRET)
        by_event[delivery.event["id"]] = by_event.get(delivery.event["id"], 0) + 1
    assert list(by_event.values()) in ([3], [3, 3])


def test_an_attach_answers_200_when_the_receiver_is_down(make_app, shop, caplog):
    client = make_app(refused_url()).test_client()
    with caplog.at_level(logging.WARNING, logger="promo_app.webhook"):
        for email in PEOPLE:
            status, body = attach(client, shop, email)
            assert (status, body["error"]) == (200, 0)
        wait_for_log(caplog, "gave up on pool.empty")
    failures = [r.getMessage() for r in caplog.records if "attempt" in r.getMessage()]
    assert any("attempt 1 of 3 failed" in line for line in failures)
    assert any("attempt 3 of 3 failed" in line for line in failures)
    assert any("refused" in line.lower() for line in failures)


def test_without_a_url_nothing_is_sent_and_no_thread_runs(make_app, shop, hook):
    client = make_app(None).test_client()
    for email in PEOPLE:
        assert attach(client, shop, email)[0] == 200
    time.sleep(0.2)
    assert hook.deliveries == []
    assert webhook_threads() == []


def test_the_threads_start_with_the_first_attach_not_with_the_app(make_app, shop, hook):
    app = make_app(hook.url)
    assert webhook_threads() == []
    attach(app.test_client(), shop, PEOPLE[0])
    assert sorted(webhook_threads()) == ["promo-webhook-look", "promo-webhook-send"]


def test_two_processes_that_see_one_crossing_send_one_event(make_app, shop, hook):
    """Two apps on one database stand for two workers (or a worker and its restart): the
    state last reported is in the database, so one of them reports the crossing."""
    first, second = make_app(hook.url).test_client(), make_app(hook.url).test_client()
    attach(first, shop, PEOPLE[0])
    attach(first, shop, PEOPLE[1])  # 1 left: low
    # Alice's own code again: the second app notes the program too, and both look.
    for client in (second, first, second):
        status, body = attach_named(client, shop, "alice@example.com", "FREE-1")
        assert (status, body["data"]["code"]) == (200, "FREE-1")
        time.sleep(0.05)
    hook.wait_for(1)
    time.sleep(0.3)
    assert [event["type"] for event in hook.events()] == ["pool.low"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"PROMO_WEBHOOK_SECRET": None}, "set PROMO_WEBHOOK_SECRET too"),
        ({"PROMO_WEBHOOK_SECRET": "short"}, "at least 16 characters"),
        ({"PROMO_WEBHOOK_URL": "ftp://example.com/"}, "http:// or https://"),
    ],
)
def test_webhook_settings_that_cannot_work_refuse_to_start(make_app, config, message):
    url = config.pop("PROMO_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    with pytest.raises(WebhookSettingError, match=message):
        make_app(url, **config)


def wait_for_log(caplog, text: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not any(text in record.getMessage() for record in caplog.records):
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line says {text!r}")
        time.sleep(0.02)


def test_stats_check_notify_sends_each_crossing_once_for_cron(make_app, shop, hook):
    runner = make_app(hook.url).test_cli_runner()
    first = runner.invoke(args=["promo", "stats", "--check", "--notify"])
    assert first.exit_code == 2, first.output
    assert "Sent 1 alert webhook events." in first.output
    assert f"EMPTY program {shop.empty_id} 'Empty'" in first.output
    [delivery] = hook.deliveries  # sent before the command ended
    assert delivery.signed_with(SECRET)
    assert (delivery.event["type"], delivery.event["loyalty_id"]) == ("pool.empty", shop.empty_id)

    again = runner.invoke(args=["promo", "stats", "--check", "--notify"])
    assert again.exit_code == 2 and "Sent 0 alert webhook events." in again.output
    assert len(hook.deliveries) == 1


def test_stats_notify_without_a_url_says_so(make_app, shop):
    result = make_app(None).test_cli_runner().invoke(args=["promo", "stats", "--notify"])
    assert result.exit_code == 1
    assert "Error: --notify needs PROMO_WEBHOOK_URL" in result.output
    assert "Traceback" not in result.output


def test_the_receivers_check_in_the_deploy_guide_takes_an_event_once(make_app, shop, hook):
    guide = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text()
    snippet = re.search(r"```python\n(.*?def verify.*?)```", guide, re.DOTALL).group(1)
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)
    verify = namespace["verify"]
    client = make_app(hook.url).test_client()
    for email in PEOPLE[:2]:
        attach(client, shop, email)
    [delivery] = hook.wait_for(1)
    signature, seen = delivery.headers["X-Promo-Signature"], set()
    assert verify(SECRET, delivery.body, signature, seen)["type"] == "pool.low"
    assert verify(SECRET, delivery.body, signature, seen) is None  # a replay
    forged = delivery.body.replace(b'"free": 1', b'"free": 9')
    assert forged != delivery.body
    assert verify(SECRET, forged, signature, set()) is None
    assert verify("not the shop's secret!", delivery.body, signature, set()) is None


def wait_for_state(session, loyalty_id: int, state: str, timeout: float = 15) -> None:
    """Wait until the state last reported for the program, in the database, is `state`."""
    deadline = time.monotonic() + timeout
    query = select(WebhookState.state).where(WebhookState.loyalty_id == loyalty_id)
    while session.scalar(query) != state:
        session.rollback()
        if time.monotonic() > deadline:
            raise AssertionError(f"program {loyalty_id} is not {state!r}")
        time.sleep(0.02)
    session.rollback()
