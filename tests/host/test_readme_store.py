"""The README's store, copied as it is: migrations, CSRF, the page's login hook, the API."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from ..conftest import selected_backend
from ..helpers import parse_envelope
from ..pgbouncer import to_server
from .store import flask, load_store, readme_blocks


def test_the_readme_store_runs_as_written(tmp_path, database_url, monkeypatch, request):
    if selected_backend(request.config) == "postgresql":
        # The store's engine is its own: it reaches PostgreSQL itself, not through a PgBouncer
        # (behind one a host sets its engine's options itself; docs/postgresql.md).
        reached, server = map(request.getfixturevalue, ("postgres_reached", "postgres_server"))
        database_url = to_server(database_url, reached, server)
    python, commands = readme_blocks()
    (tmp_path / "store.py").write_text(python)
    outputs = [flask(tmp_path, database_url, command) for command in commands]
    token = outputs[-1].stdout.strip().splitlines()[-1]

    # The store's first revision creates its own table and touches no promo table.
    (revision,) = (tmp_path / "migrations" / "versions").glob("*.py")
    script = revision.read_text()
    assert "op.create_table('user'" in script
    assert "promo_" not in script
    engine = create_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"user", "alembic_version", "promo_code", "promo_alembic_version"} <= tables

    # A second autogenerate finds nothing to do: the promo tables are not the store's.
    again = flask(tmp_path, database_url, "flask --app store db migrate -m nothing")
    assert "No changes in schema detected" in again.stderr + again.stdout
    assert len(list((tmp_path / "migrations" / "versions").glob("*.py"))) == 1

    for command in (
        "flask --app store promo create-database Shop",
        "flask --app store promo create-program Welcome",
    ):
        flask(tmp_path, database_url, command)
    (tmp_path / "people.csv").write_text("email\nbuyer@example.com\n")
    flask(tmp_path, database_url, "flask --app store promo import-profiles people.csv --db-id 1")

    store = load_store(tmp_path, database_url, monkeypatch)
    app = store.create_app()
    with app.app_context():
        store.db.session.add_all(
            [
                store.User(id=1, email="customer@example.com"),
                store.User(id=2, email="owner@example.com", is_admin=True),
            ]
        )
        store.db.session.commit()
    client = app.test_client()

    # The API answers under the prefix, without a CSRF token (it is exempt).
    response = client.post(
        "/promo/api/v1.1/promocodes/attach",
        json={
            "token": token,
            "db_id": 1,
            "loyalty_id": 1,
            "code": "HI",
            "email": "buyer@example.com",
        },
    )
    body = parse_envelope(response)
    assert (response.status_code, body["error"], body["data"]["code"]) == (200, 0, "HI")

    anonymous = client.get("/promo/admin/")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"] == "/login?next=%2Fpromo%2Fadmin%2F"

    with client.session_transaction() as session:
        session["_user_id"] = "1"
    customer = client.get("/promo/admin/")
    assert customer.status_code == 403
    assert "not allowed" in customer.get_data(as_text=True)

    with client.session_transaction() as session:
        session["_user_id"] = "2"
    owner = client.get("/promo/admin/")
    assert owner.status_code == 200
    assert "Welcome" in owner.get_data(as_text=True)
    # The store's CSRFProtect still guards the page's forms.
    refused = client.post("/promo/admin/", data={"name": "No token"})
    assert refused.status_code == 400
    with app.app_context():
        for engine in store.db.engines.values():
            engine.dispose()
