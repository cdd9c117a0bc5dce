"""The lock every profile write takes on its database: a second import of one new email
waits for the first to commit, then finds its profile (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from promo_app.profiles.upsert import import_profile


def test_a_second_import_of_one_new_email_waits_for_the_first_and_finds_its_profile(engine, shop):
    new = {"matching": None, "given": {"email": "late@example.com"}, "data": {}}
    second: dict = {}

    def import_beside() -> None:
        with engine.connect() as connection:
            second["answer"] = import_profile(connection, shop.db_id, **new)
            connection.commit()

    with engine.connect() as first:
        made = import_profile(first, shop.db_id, **new)
        beside = threading.Thread(target=import_beside)
        beside.start()
        beside.join(timeout=0.5)
        waited = beside.is_alive()
        first.commit()
    beside.join(timeout=20)

    assert made.created is True
    assert waited, "the second import ran while the first held the database"
    assert (second["answer"].profile_id, second["answer"].created) == (made.profile_id, False)
