"""The extension inside a host store that has its own db, routes and error pages."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from promo_app import PromoCodes, create_app
from promo_app.models import CustomField, Database, LoyaltyProgram
from promo_app.profiles import add_profile
from promo_app.tokens import create_token
from tests.helpers import parse_envelope

# Hosts on SQLite files of their own, whatever --db says: run once, in the SQLite pass.
pytestmark = pytest.mark.db_independent


def make_host(database_url: str, init_db_first: bool) -> tuple[Flask, SQLAlchemy]:
    """A bare store: its own SQLAlchemy, a model, a page, a 404 page and a failing view."""

    class HostBase(DeclarativeBase):
        pass

    db = SQLAlchemy(model_class=HostBase)

    class Order(db.Model):
        __tablename__ = "order"
        id: Mapped[int] = mapped_column(primary_key=True)
        total: Mapped[int]

    app = Flask("store")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=database_url, PROMO_URL_PREFIX="/shop/promo", TESTING=False
    )

    @app.get("/")
    def home():
        return "store home"

    @app.get("/boom")
    def boom():
        raise RuntimeError("the store's own bug")

    @app.errorhandler(404)
    def not_found(error):
        return "<h1>Store: page not found</h1>", 404

    if init_db_first:
        db.init_app(app)
    PromoCodes(db).init_app(app)
    with app.app_context():
        db.create_all()
        app.extensions["promo"].create_all()
    return app, db


@pytest.fixture(params=[True, False], ids=["host-inits-db-first", "extension-inits-db"])
def host(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    app, db = make_host(url, init_db_first=request.param)
    with app.app_context():
        database = Database(name="Store", custom_fields=[CustomField(name="card")])
        program = LoyaltyProgram(name="Welcome")
        db.session.add_all([database, program])
        db.session.flush()
        add_profile(db.session, database, email="buyer@example.com")
        token = create_token(db.session, "store")
        ids = (database.id, program.id)
        db.session.commit()
    return app, db, token, ids, tmp_path / "store.db"


def test_api_answers_under_the_host_prefix(host):
    app, _db, token, (db_id, loyalty_id), _ = host
    client = app.test_client()
    response = client.post(
        "/shop/promo/api/v1.1/promocodes/attach",
        json={
            "token": token,
            "db_id": db_id,
            "loyalty_id": loyalty_id,
            "email": "buyer@example.com",
            "code": "HELLO",
        },
    )
    assert response.status_code == 200
    assert response.get_json()["data"]["code"] == "HELLO"
    assert client.post("/api/v1.1/promocodes/attach", json={}).status_code == 404


def test_host_routes_and_error_pages_stay_the_hosts(host):
    app, *_ = host
    client = app.test_client()
    assert client.get("/").get_data(as_text=True) == "store home"
    missing = client.get("/nowhere")
    assert (missing.status_code, missing.get_data(as_text=True)) == (
        404,
        "<h1>Store: page not found</h1>",
    )
    failing = client.get("/boom")
    assert failing.status_code == 500
    assert failing.mimetype == "text/html"
    assert "error_text" not in failing.get_data(as_text=True)


def test_api_errors_use_the_envelope_inside_the_host(host):
    app, *_ = host
    response = app.test_client().post("/shop/promo/api/v1.1/promocodes/attach", json={})
    assert (response.status_code, parse_envelope(response)["error_text"]) == (
        401,
        "API token required",
    )


def test_promo_tables_sit_in_the_hosts_database_with_promo_names(host):
    app, db, *_, path = host
    with app.app_context():
        names = set(inspect(db.engine).get_table_names())
        promo_path = db.engines["promo"].url.database
    assert "order" in names
    promo = {name for name in names if name != "order"}
    assert promo and all(name.startswith("promo_") for name in promo)
    assert promo_path == str(path)


def test_host_engine_keeps_its_own_behaviour(host):
    """Only the promo engine is tuned; the host's default engine is as the host made it."""
    app, db, *_ = host
    with app.app_context():
        with db.engine.connect() as connection:
            host_foreign_keys = connection.execute(text("PRAGMA foreign_keys")).scalar()
        with db.engines["promo"].connect() as connection:
            promo_foreign_keys = connection.execute(text("PRAGMA foreign_keys")).scalar()
            journal = connection.execute(text("PRAGMA journal_mode")).scalar()
        assert db.session.scalar(select(LoyaltyProgram.name)) == "Welcome"
    assert (host_foreign_keys, promo_foreign_keys, journal) == (0, 1, "wal")


def test_two_hosts_in_one_process_do_not_share_state(tmp_path):
    first, _ = make_host(f"sqlite:///{tmp_path / 'a.db'}", init_db_first=True)
    second, _ = make_host(f"sqlite:///{tmp_path / 'b.db'}", init_db_first=False)
    with first.app_context():
        first_url = first.extensions["promo"].engine.url.database
    with second.app_context():
        second_url = second.extensions["promo"].engine.url.database
    assert first_url.endswith("a.db") and second_url.endswith("b.db")


def test_a_second_registration_on_one_app_is_refused(host):
    app, db, *_ = host
    with pytest.raises(RuntimeError, match="registered on this app already"):
        PromoCodes(db).init_app(app)


def test_the_standalone_app_reads_the_environment_but_a_test_config_does_not(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMO_PAGE_SIZE", "7")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("SECRET_KEY", "from the environment")
    standalone = create_app()
    assert standalone.config["PROMO_PAGE_SIZE"] == 7
    assert standalone.config["SECRET_KEY"] == "from the environment"
    tested = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 't.db'}", "SECRET_KEY": "t"}
    )
    assert tested.config["PROMO_PAGE_SIZE"] == 50
    assert tested.config["SQLALCHEMY_DATABASE_URI"].endswith("t.db")
