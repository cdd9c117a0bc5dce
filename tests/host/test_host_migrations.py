"""A host's own Alembic (Flask-Migrate, or plain Alembic) leaves the promo tables alone."""

from __future__ import annotations

import textwrap

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, inspect, text

from promo_app.host_extensions import include_object

from .store import flask

# Flask-Migrate set up after the extension, and the host's own filter kept beside ours.
PROMO_FIRST_STORE = textwrap.dedent(
    """
    import os

    from flask import Flask
    from flask_migrate import Migrate
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy.orm import Mapped, mapped_column

    from promo_app import PromoCodes

    db = SQLAlchemy()


    class Order(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        total: Mapped[int]


    class Scratch(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)


    def not_scratch(object_, name, type_, reflected, compare_to):
        return not (type_ == "table" and name == "scratch")


    def create_app():
        app = Flask(__name__)
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
        PromoCodes(db).init_app(app)
        Migrate(app, db, include_object=not_scratch)
        return app
    """
)


def test_flask_migrate_set_up_after_the_extension_leaves_promo_tables_alone(tmp_path, database_url):
    (tmp_path / "store.py").write_text(PROMO_FIRST_STORE)
    flask(tmp_path, database_url, "flask --app store promo db upgrade")
    flask(tmp_path, database_url, "flask --app store promo create-program Welcome")
    flask(tmp_path, database_url, "flask --app store db init")
    flask(tmp_path, database_url, "flask --app store db migrate -m orders")
    (revision,) = (tmp_path / "migrations" / "versions").glob("*.py")
    script = revision.read_text()
    assert "op.create_table('order'" in script
    assert "scratch" not in script  # the host's own filter still applies
    assert "promo_" not in script
    flask(tmp_path, database_url, "flask --app store db upgrade")

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            programs = connection.execute(text("SELECT name FROM promo_loyalty_program")).all()
    finally:
        engine.dispose()
    assert "order" in tables and "scratch" not in tables
    assert programs == [("Welcome",)]


def test_include_object_keeps_plain_alembic_off_the_promo_tables(app, engine):
    with app.app_context():
        app.extensions["promo"].create_all()  # this folder's databases start empty
    host = MetaData()
    Table("invoice", host, Column("id", Integer, primary_key=True))
    with engine.connect() as connection:
        unfiltered = compare_metadata(MigrationContext.configure(connection), host)
        filtered = compare_metadata(
            MigrationContext.configure(connection, opts={"include_object": include_object}),
            host,
        )
    dropped = {diff[1].name for diff in unfiltered if diff[0] == "remove_table"}
    assert "promo_code" in dropped  # what a host's autogenerate did before
    assert [(diff[0], diff[1].name) for diff in filtered] == [("add_table", "invoice")]
