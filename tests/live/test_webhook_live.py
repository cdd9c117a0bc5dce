"""The alert webhook through a real gunicorn: four forked workers draw one pool dry at once;
the receiver on loopback gets one signed "empty" event (and at most one "low"), not one per
worker or per attach."""

from __future__ import annotations

import time

import pytest

from tests.alerts.receiver import receiver
from tests.live import test_concurrency
from tests.live.server import gunicorn
from tests.live.test_concurrency import CLIENTS, POOL, post_all

pytestmark = pytest.mark.slow

SECRET = "the shop's webhook secret"
crowd = test_concurrency.crowd  # the fixture: CLIENTS profiles, a program of POOL codes


def test_workers_that_empty_a_pool_together_send_one_event_per_crossing(database_url, shop, crowd):
    emails, loyalty_id = crowd
    bodies = [
        {"token": shop.token, "db_id": shop.db_id, "loyalty_id": loyalty_id, "email": email}
        for email in emails
    ]
    with receiver() as hook:
        settings = {
            "PROMO_WEBHOOK_URL": hook.url,
            "PROMO_WEBHOOK_SECRET": SECRET,
            "PROMO_LOW_CODES_THRESHOLD": "10",
            "PROMO_WEBHOOK_CHECK_SECONDS": "0.05",
        }
        with gunicorn(database_url, workers=4, **settings) as base:
            responses = post_all(f"{base}/api/v1.1/promocodes/attach", bodies)
            assert sorted(r.status_code for r in responses) == [200] * POOL + [409] * (
                CLIENTS - POOL
            )
            deadline = time.monotonic() + 30
            while "pool.empty" not in [event["type"] for event in hook.events()]:
                assert time.monotonic() < deadline, hook.events()
                time.sleep(0.05)
            time.sleep(1)  # twenty rounds of every worker's look: any duplicate would come

    events = hook.events()
    assert all(delivery.signed_with(SECRET) for delivery in hook.deliveries)
    assert {event["loyalty_id"] for event in events} == {loyalty_id}
    assert [event["type"] for event in events] in (["pool.low", "pool.empty"], ["pool.empty"])
    assert len({event["id"] for event in events}) == len(events)
