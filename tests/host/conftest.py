"""The host stores' tests start from a database with no tables at all."""

from __future__ import annotations

import pytest


@pytest.fixture
def database_url(empty_database_url):
    """These tests start from a database with no tables at all."""
    return empty_database_url
