"""GET /healthz: 200 when the database is reachable, complete and writable; 503 otherwise."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, make_url, text

from promo_app import create_app


def test_healthz_answers_ok_without_a_token(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "checks": {"database": "ok", "schema": "ok", "writable": "ok"},
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_healthz_is_503_and_names_a_missing_table(app, client, engine):
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE promo_admin_user"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["checks"]["schema"] == "table promo_admin_user is missing"


def test_healthz_is_503_on_a_fresh_database_before_init_db(empty_database_url):
    app = create_app({"SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert "table promo_code is missing" in response.json["checks"]["schema"]
    with app.app_context():
        app.extensions["promo"].engine.dispose()


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    url = f"sqlite:///{tmp_path / 'no such folder' / 'promo.db'}"
    app = create_app({"SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "checks": {"database": "unreachable", "schema": "unknown", "writable": "unknown"},
    }
    assert "no such folder" not in response.get_data(as_text=True)


@pytest.mark.postgresql_only
def test_healthz_is_503_on_a_read_only_postgresql(
    app, client, database_url, engine, postgres_server
):
    name = make_url(database_url).database
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'
        )
    # New connections take the database's new default: end the old ones, those a PgBouncer
    # keeps to the server too.
    engine.dispose()
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
            {"name": name},
        )
    admin.dispose()
    try:
        response = client.get("/healthz")
    finally:
        # Writable again (from another database: this one's sessions may only read), so that
        # the test's database can be put back to its template afterwards.
        engine.dispose()
        admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(
                f'ALTER DATABASE "{name}" RESET default_transaction_read_only'
            )
        admin.dispose()
    assert response.status_code == 503
    assert response.json["checks"]["writable"] == "transactions are read-only"


def test_healthz_is_under_the_hosts_prefix(database_url):
    app = create_app(
        {
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PROMO_URL_PREFIX": "/promo",
        }
    )
    with app.app_context():
        app.extensions["promo"].create_all()
    client = app.test_client()
    assert client.get("/promo/healthz").status_code == 200
    assert client.get("/healthz").status_code == 404
    with app.app_context():
        app.extensions["promo"].engine.dispose()
