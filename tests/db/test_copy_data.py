"""`flask promo copy-data`: moving a shop between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, func, select

from promo_app import create_app
from promo_app.models import ProgramCount, PromoCode, PromoModel
from promo_app.transfer import KEPT_BY_TRIGGERS
from tests.helpers import call


@pytest.fixture
def other_url(request: pytest.FixtureRequest, database_url: str, tmp_path) -> str:
    """An empty database on the other backend than the test's own."""
    if database_url.startswith("sqlite"):
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'moved.db'}"


COUNTED = ("codes", "unused", "attached", "activated", "voided")


def all_rows(url: str) -> dict[str, list[tuple]]:
    """Every promo row of the database at `url`, table by table, in id order."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = {
                table.name: [
                    tuple(row)
                    for row in connection.execute(
                        select(table).order_by(*table.primary_key.columns)
                    )
                ]
                for table in PromoModel.metadata.sorted_tables
                if table.name not in KEPT_BY_TRIGGERS
            }
            # The counts, whichever rows (slots) the target's triggers keep them in.
            counts = ProgramCount.__table__
            sums = [func.sum(counts.c[name]) for name in COUNTED]
            query = select(counts.c.loyalty_id, *sums).group_by(counts.c.loyalty_id)
            rows["counts"] = sorted(tuple(row) for row in connection.execute(query))
            return rows
    finally:
        engine.dispose()


@contextmanager
def app_on(url: str) -> Iterator:
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url})
    try:
        yield app
    finally:
        with app.app_context():
            for engine in app.extensions["promo"].db.engines.values():
                engine.dispose()


def copy(runner, source: str, target: str, *options: str):
    return runner.invoke(args=["promo", "copy-data", source, target, *options])


def test_copy_data_moves_a_shop_there_and_back(
    runner, shop, client, database_url, other_url, tmp_path
):
    status, answer = call(
        client,
        "attach",
        {
            "token": shop.token,
            "db_id": shop.db_id,
            "loyalty_id": shop.personal_id,
            "profile_id": shop.profiles["alice"],
        },
    )
    assert (status, answer["data"]["code"]) == (200, "FREE-1")
    before = all_rows(database_url)
    assert before["promo_attachment"] and before["promo_profile_field"]

    result = copy(runner, database_url, other_url, "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert "promo_code: 4 rows" in result.output
    assert all_rows(other_url) == before

    back = f"sqlite:///{tmp_path / 'back.db'}"
    result = copy(runner, other_url, back)
    assert result.exit_code == 0, result.output
    assert all_rows(back) == before


def test_attach_works_after_the_move(runner, shop, client, database_url, other_url):
    assert copy(runner, database_url, other_url).exit_code == 0
    largest_id = max(row[0] for row in all_rows(other_url)["promo_code"])

    with app_on(other_url) as moved:
        moved_client = moved.test_client()
        params = {"token": shop.token, "db_id": shop.db_id, "profile_id": shop.profiles["bob"]}
        status, answer = call(moved_client, "attach", {**params, "loyalty_id": shop.personal_id})
        assert (status, answer["data"]["code"]) == (200, "FREE-1")
        # A code made after the move gets a fresh id (PostgreSQL's sequence moved on).
        status, answer = call(
            moved_client, "attach", {**params, "loyalty_id": shop.personal_id, "code": "NEW-1"}
        )
        assert (status, answer["data"]["code"]) == (200, "NEW-1")
        with moved.app_context():
            session = moved.extensions["promo"].db.session
            new_id = session.scalar(select(PromoCode.id).where(PromoCode.code == "NEW-1"))
        assert new_id > largest_id


def test_copy_data_refuses_a_target_with_promo_rows_unless_forced(
    runner, shop, session, database_url, other_url
):
    assert copy(runner, database_url, other_url).exit_code == 0
    session.add(PromoCode(loyalty_id=shop.personal_id, code="LATE"))
    session.commit()

    result = copy(runner, database_url, other_url)
    assert result.exit_code == 1
    assert "already holds promo rows" in result.output
    assert "LATE" not in {row[2] for row in all_rows(other_url)["promo_code"]}

    result = copy(runner, database_url, other_url, "--force")
    assert result.exit_code == 0, result.output
    assert all_rows(other_url) == all_rows(database_url)


def test_copy_data_refuses_a_source_without_promo_tables(runner, database_url, tmp_path):
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    result = copy(runner, empty, database_url)
    assert result.exit_code == 1
    assert "The source database has no promo tables." in result.output


def test_copy_data_refuses_to_copy_a_database_onto_itself(runner, shop, database_url):
    result = copy(runner, database_url, database_url)
    assert result.exit_code == 1
    assert "the same database" in result.output
