"""Many clients at once against real gunicorns with several workers: no code given twice,
with one app server or two in front of one PostgreSQL database (the clients take turns)."""

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
from tests.live.server import app_servers

pytestmark = pytest.mark.slow

CLIENTS = 48
POOL = 30
ATTACH = "/api/v1.1/promocodes/attach"


def make_crowd(session, shop, clients: int, pool: int) -> tuple[list[str], int]:
    """A database of `clients` profiles and a program with `pool` free codes."""
    database = session.get(Database, shop.db_id)
    profiles = [
        add_profile(session, database, email=f"customer{n}@example.com") for n in range(clients)
    ]
    program = LoyaltyProgram(name="Crowd", universal=False)
    session.add(program)
    session.flush()
    import_codes(session, program, [ImportLine(n, f"POOL-{n:03d}") for n in range(pool)])
    session.commit()
    emails = [profile.email for profile in profiles]
    loyalty_id = program.id
    session.rollback()
    return emails, loyalty_id


@pytest.fixture
def crowd(app, session, shop):
    """A database of CLIENTS profiles and a program with POOL free codes."""
    return make_crowd(session, shop, CLIENTS, POOL)


def post_all(urls: str | list[str], bodies: list[dict]) -> list[requests.Response]:
    """POST every body at the same moment, each from its own thread; given several URLs (one
    per app server), the bodies take turns among them."""
    urls = [urls] if isinstance(urls, str) else urls
    start = threading.Barrier(len(bodies))

    def one(n: int, body: dict) -> requests.Response:
        start.wait(timeout=30)
        return requests.post(urls[n % len(urls)], json=body, timeout=60)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(one, range(len(bodies)), bodies))


def on_each(bases: list[str], path: str) -> list[str]:
    return [f"{base}{path}" for base in bases]


def attached_codes(session, loyalty_id: int) -> list[str]:
    codes = session.scalars(
        select(PromoCode.code)
        .join(Attachment, Attachment.code_id == PromoCode.id)
        .where(PromoCode.loyalty_id == loyalty_id)
    ).all()
    session.rollback()
    return list(codes)


def draw_all(database_url, shop, servers: int, emails: list[str], loyalty_id: int) -> list:
    """Every customer draws from the pool at once, across `servers` app servers."""
    bodies = [
        {"token": shop.token, "db_id": shop.db_id, "loyalty_id": loyalty_id, "email": email}
        for email in emails
    ]
    with app_servers(database_url, servers) as bases:
        return post_all(on_each(bases, ATTACH), bodies)


def assert_each_code_given_once(responses, session, loyalty_id: int, pool: int) -> None:
    assert [r.status_code for r in responses if r.status_code >= 500] == []
    won = [r.json()["data"]["code"] for r in responses if r.status_code == 200]
    refused = [r.json()["error_text"] for r in responses if r.status_code != 200]
    assert len(won) == pool
    assert len(set(won)) == pool
    assert refused == ["No promo codes available"] * (len(responses) - pool)
    in_database = attached_codes(session, loyalty_id)
    assert sorted(in_database) == sorted(won)


def test_clients_drawing_from_one_pool_never_get_the_same_code(
    database_url, session, shop, crowd, servers
):
    emails, loyalty_id = crowd
    responses = draw_all(database_url, shop, servers, emails, loyalty_id)
    assert_each_code_given_once(responses, session, loyalty_id, POOL)


@pytest.mark.postgresql_only
def test_sixty_four_clients_drawing_from_one_pool_never_get_the_same_code(
    database_url, session, shop, servers
):
    emails, loyalty_id = make_crowd(session, shop, clients=64, pool=48)
    responses = draw_all(database_url, shop, servers, emails, loyalty_id)
    assert_each_code_given_once(responses, session, loyalty_id, 48)


@pytest.mark.parametrize("code", ["POOL-007", "MADE-ON-THE-FLY"])
def test_clients_racing_for_one_personal_code_exactly_one_wins(
    database_url, session, shop, crowd, code, servers
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
    with app_servers(database_url, servers) as bases:
        responses = post_all(on_each(bases, ATTACH), bodies)

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
    database_url, session, shop, crowd, servers
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
    with app_servers(database_url, servers) as bases:
        responses = post_all(on_each(bases, ATTACH), bodies)

    for code in wanted:
        answers = [r for body, r in zip(bodies, responses, strict=True) if body["code"] == code]
        assert sorted(r.status_code for r in answers) == [200] + [409] * (len(answers) - 1)
        assert {r.json()["error_text"] for r in answers if r.status_code == 409} == {
            "Promo code is already attached"
        }
        [winner] = [r.json()["data"] for r in answers if r.status_code == 200]
        assert winner["code"] == code
    assert sorted(attached_codes(session, loyalty_id)) == wanted
