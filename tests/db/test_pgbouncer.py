"""PROMO_PGBOUNCER: behind PgBouncer in transaction pooling mode, no statement is prepared on
the server (a later transaction may get another server connection)."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select

from promo_app import create_app
from promo_app.models import LoyaltyProgram

pytestmark = pytest.mark.postgresql_only

PREPARED = "SELECT count(*) FROM pg_prepared_statements"


@pytest.mark.parametrize("pgbouncer", [True, False])
def test_the_setting_says_whether_statements_run_often_are_prepared(database_url, pgbouncer):
    app = create_app(
        {
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PROMO_PGBOUNCER": pgbouncer,
        }
    )
    query = select(LoyaltyProgram.id).where(LoyaltyProgram.id == bindparam("id"))
    with app.app_context():
        engine = app.extensions["promo"].engine
    try:
        # One transaction: one server connection, through PgBouncer too.
        with engine.begin() as connection:
            for id_ in range(10):
                connection.execute(query, {"id": id_})
            prepared = connection.exec_driver_sql(PREPARED).scalar()
            # Leave none on the server connection, which a PgBouncer hands to the next client.
            connection.exec_driver_sql("DEALLOCATE ALL")
    finally:
        engine.dispose()
    assert (prepared == 0) is pgbouncer
