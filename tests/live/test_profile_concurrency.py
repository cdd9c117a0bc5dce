"""Many sign-ups of one new customer at once, against a real gunicorn with several workers:
one profile, not several, on SQLite and on PostgreSQL; and on PostgreSQL across two app
servers, the sign-ups taking turns between them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from promo_app.models import Profile

from .server import app_servers
from .test_concurrency import on_each, post_all

pytestmark = pytest.mark.slow

CLIENTS = 16
ROUNDS = 8  # a new customer each round: the race window is short


def live_profiles(session, **where) -> int:
    query = select(func.count()).select_from(Profile).where(Profile.deleted.is_(None))
    for name, value in where.items():
        query = query.where(getattr(Profile, name) == value)
    count = session.scalar(query)
    session.rollback()
    return count


@pytest.mark.parametrize(
    "identify",
    [
        pytest.param(
            lambda r, n: {"email": f"  Newcomer{r}@Example.com{' ' * (n % 3)}"}, id="email"
        ),
        pytest.param(
            lambda r, n: {
                "matching": "custom",
                "field_name": "card",
                "field_value": f"4242-{r}",
                "data": {"phone": f"+7 900 {r:03d}-{n:02d}-00"},
            },
            id="custom-field",
        ),
    ],
)
def test_concurrent_imports_of_one_new_customer_make_one_profile(
    database_url, session, shop, identify, servers
):
    before = live_profiles(session)
    with app_servers(database_url, servers) as bases:
        url = on_each(bases, "/api/v1.1/profiles/import")
        warm = {"token": shop.token, "db_id": shop.db_id, "email": "bob@example.com"}
        post_all(url, [warm] * 8)  # every worker has started its app and its connection
        rounds = []
        for r in range(ROUNDS):
            bodies = [
                {"token": shop.token, "db_id": shop.db_id, **identify(r, n)} for n in range(CLIENTS)
            ]
            rounds.append(post_all(url, bodies))

    for responses in rounds:
        assert [r.status_code for r in responses] == [200] * CLIENTS, [r.text for r in responses]
        answers = [r.json()["data"] for r in responses]
        assert len({answer["profile_id"] for answer in answers}) == 1
        assert sum(answer["created"] for answer in answers) == 1
    assert live_profiles(session) == before + ROUNDS
