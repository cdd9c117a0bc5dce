"""Many clients at once against a real gunicorn with several workers: no code given twice."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import Attachment, Database, LoyaltyProgram, PromoCode
from promo_app.profiles import add_profile
from tests.live.server import gunicorn

pytestmark = pytest.mark.slow

CLIENTS = 48
POOL = 30


@pytest.fixture
def crowd(app, session, shop):
    """A database of CLIENTS profiles and a program with POOL free codes."""
    database = session.get(Database, shop.db_id)
    profiles = [
        add_profile(session, database, email=f"customer{n}@example.com") for n in range(CLIENTS)
    ]
    program = LoyaltyProgram(name="Crowd", universal=False)
    session.add(program)
    session.flush()
    import_codes(session, program, [ImportLine(n, f"POOL-{n:03d}") for n in range(POOL)])
    session.commit()
    emails = [profile.email for profile in profiles]
    loyalty_id = program.id
    session.rollback()
    return emails, loyalty_id


def post_all(url: str, bodies: list[dict]) -> list[requests.Response]:
    """POST every body at the same moment, each from its own thread."""
    start = threading.Barrier(len(bodies))

    def one(body: dict) -> requests.Response:
        start.wait(timeout=30)
        return requests.post(url, json=body, timeout=60)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(one, bodies))


def attached_codes(session, loyalty_id: int) -> list[str]:
    codes = session.scalars(
        select(PromoCode.code)
        .join(Attachment, Attachment.code_id == PromoCode.id)
        .where(PromoCode.loyalty_id == loyalty_id)
    ).all()
    session.rollback()
    return list(codes)


def test_clients_drawing_from_one_pool_never_get_the_same_code(database_url, session, shop, crowd):
    emails, loyalty_id = crowd
    bodies = [
        {"token": shop.token, "db_id": shop.db_id, "loyalty_id": loyalty_id, "email": email}
        for email in emails
    ]
    with gunicorn(database_url, workers=4) as base:
        responses = post_all(f"{base}/api/v1.1/promocodes/attach", bodies)

    assert [r.status_code for r in responses if r.status_code >= 500] == []
    won = [r.json()["data"]["code"] for r in responses if r.status_code == 200]
    refused = [r.json()["error_text"] for r in responses if r.status_code != 200]
    assert len(won) == POOL
    assert len(set(won)) == POOL
    assert refused == ["No promo codes available"] * (CLIENTS - POOL)
    in_database = attached_codes(session, loyalty_id)
    assert sorted(in_database) == sorted(won)


@pytest.mark.parametrize("code", ["POOL-007", "MADE-ON-THE-FLY"])
def test_clients_racing_for_one_personal_code_exactly_one_wins(
    database_url, session, shop, crowd, code
):
    emails, loyalty_id = crowd
    bodies = [
        {
            "token": shop.token,
            "db_id": shop.db_id,
            "loyalty_id": loyalty_id,
            "email": email,
            "code": code,
        }
        for email in emails
    ]
    with gunicorn(database_url, workers=4) as base:
        responses = post_all(f"{base}/api/v1.1/promocodes/attach", bodies)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (CLIENTS - 1)
    winner = next(r.json()["data"] for r in responses if r.status_code == 200)
    assert {r.json()["error_text"] for r in responses if r.status_code == 409} == {
        "Promo code is already attached"
    }
    assert winner["code"] == code
    assert attached_codes(session, loyalty_id) == [code]
    count = session.scalar(
        select(func.count()).select_from(PromoCode).where(PromoCode.code == code)
    )
    assert count == 1


def test_clients_racing_for_several_named_codes_each_code_goes_to_one(
    database_url, session, shop, crowd
):
    """Eight clients at once for each of six codes (on PostgreSQL the one-statement attach
    of a named code, attach_pg_named.py, answers the winners): one wins each code."""
    emails, loyalty_id = crowd
    wanted = [f"POOL-{n:03d}" for n in range(6)]
    bodies = [
        {
            "token": shop.token,
            "db_id": shop.db_id,
            "loyalty_id": loyalty_id,
            "email": email,
            "code": wanted[n % len(wanted)],
        }
        for n, email in enumerate(emails)
    ]
    with gunicorn(database_url, workers=4) as base:
        responses = post_all(f"{base}/api/v1.1/promocodes/attach", bodies)

    for code in wanted:
        answers = [r for body, r in zip(bodies, responses, strict=True) if body["code"] == code]
        assert sorted(r.status_code for r in answers) == [200] + [409] * (len(answers) - 1)
        assert {r.json()["error_text"] for r in answers if r.status_code == 409} == {
            "Promo code is already attached"
        }
        [winner] = [r.json()["data"] for r in answers if r.status_code == 200]
        assert winner["code"] == code
    assert sorted(attached_codes(session, loyalty_id)) == wanted
