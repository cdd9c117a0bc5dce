"""Retries that race, against a real gunicorn with several workers: one code, never two.

A shop's client that times out and sends again, sixteen times at once: with one
Idempotency-Key the calls share one answer; in a one-per-profile program the draws for one
customer share one code even without a key. With one app server, or two in front of one
PostgreSQL database, the retries taking turns between them.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import Attachment, IdempotencyKey, LoyaltyProgram, PromoCode
from tests.live.server import app_servers
from tests.live.test_concurrency import ATTACH, attached_codes, on_each, post_all

pytestmark = pytest.mark.slow

CLIENTS = 16


def make_program(session, name: str, one_per_profile: bool) -> int:
    program = LoyaltyProgram(name=name, universal=False, one_per_profile=one_per_profile)
    session.add(program)
    session.flush()
    import_codes(session, program, [ImportLine(n, f"{name}-{n:02d}") for n in range(CLIENTS)])
    session.commit()
    loyalty_id = program.id
    session.rollback()
    return loyalty_id


def test_sixteen_retries_with_one_key_draw_one_code(database_url, session, shop, servers):
    loyalty_id = make_program(session, "Keyed", one_per_profile=False)
    body = {
        "token": shop.token,
        "db_id": shop.db_id,
        "loyalty_id": loyalty_id,
        "email": "alice@example.com",
        "idempotency_key": "order-1001",
    }
    with app_servers(database_url, servers) as bases:
        responses = post_all(on_each(bases, ATTACH), [body] * CLIENTS)

    assert [r.status_code for r in responses] == [200] * CLIENTS
    answers = [r.json() for r in responses]
    assert all(answer == answers[0] for answer in answers)
    replayed = [r.headers.get("Idempotent-Replayed") for r in responses]
    assert replayed.count(None) == 1  # one call drew, fifteen were given its answer
    assert attached_codes(session, loyalty_id) == [answers[0]["data"]["code"]]
    keys = session.scalar(select(func.count()).select_from(IdempotencyKey))
    session.rollback()
    assert keys == 1


def test_sixteen_draws_for_one_customer_in_a_one_per_profile_program_give_one_code(
    database_url, session, shop, servers
):
    loyalty_id = make_program(session, "Once", one_per_profile=True)
    body = {
        "token": shop.token,
        "db_id": shop.db_id,
        "loyalty_id": loyalty_id,
        "email": "alice@example.com",
    }
    with app_servers(database_url, servers) as bases:
        responses = post_all(on_each(bases, ATTACH), [body] * CLIENTS)

    assert [r.status_code for r in responses] == [200] * CLIENTS
    codes = {r.json()["data"]["code"] for r in responses}
    assert len(codes) == 1
    assert attached_codes(session, loyalty_id) == list(codes)
    free = session.scalar(
        select(func.count())
        .select_from(PromoCode)
        .where(PromoCode.loyalty_id == loyalty_id, PromoCode.free)
    )
    rows = session.scalar(select(func.count()).select_from(Attachment))
    session.rollback()
    assert free == CLIENTS - 1  # every losing draw gave its code back
    assert rows == 1
