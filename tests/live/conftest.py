"""The number of app servers a live concurrency test runs across (tests/live/server.py)."""

from __future__ import annotations

import pytest

# One gunicorn, or two on ports of their own in front of one PostgreSQL database (several
# app servers share a database only on PostgreSQL): the clients take turns between them.
SERVERS = [
    pytest.param(1, id="one-server"),
    pytest.param(2, id="two-servers", marks=pytest.mark.postgresql_only),
]


@pytest.fixture(params=SERVERS)
def servers(request: pytest.FixtureRequest) -> int:
    return request.param
