"""The Python API a host store calls from its own views: `promo.profiles.upsert/get/delete`
and `promo.attach`, in the store's own request, with no HTTP round trip; and the README's
sign-up example, run as it is written there."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from promo_app import PromoCodes
from promo_app.errors import (
    DatabaseNotFound,
    IncorrectRequest,
    NoCodesAvailable,
    ProfileNotFound,
    SeveralProfilesMatch,
)
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import Attachment, CustomField, Database, LoyaltyProgram, PromoCode
from tests.conftest import selected_backend

SHOP, WELCOME = 1, 1  # the store's db_id and loyalty_id, made in store_app


def store_app(database_url: str) -> tuple[Flask, SQLAlchemy, PromoCodes]:
    """A store with its own users, whose sign-up gives a welcome code (the README's example)."""

    class Base(DeclarativeBase):
        pass

    db = SQLAlchemy(model_class=Base)

    class User(db.Model):
        __tablename__ = "user"
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str]

    app = Flask("store")
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    db.init_app(app)
    promo = PromoCodes(db)
    promo.init_app(app)

    # --- as in README.md, "Give a code from your own code" ---
    @app.post("/signup")
    def signup():
        from flask import request

        user = User(email=request.form["email"])
        db.session.add(user)
        db.session.commit()
        promo.profiles.upsert(SHOP, email=user.email, fields={"user_id": user.id}, match="user_id")
        code = promo.attach(SHOP, WELCOME, profile={"user_id": user.id})
        return {"user_id": user.id, "code": code}

    # ---

    with app.app_context():
        db.create_all()
        promo.create_all()
        database = Database(name="Store", custom_fields=[CustomField(name="user_id")])
        program = LoyaltyProgram(name="Welcome")
        db.session.add_all([database, program])
        db.session.flush()
        import_codes(db.session, program, [ImportLine(n, f"WELCOME-{n}") for n in range(1, 3)])
        db.session.commit()
    app.extensions["test_user_model"] = User
    return app, db, promo


@pytest.fixture
def store(request, tmp_path):
    """The store on a SQLite file of its own, or with --db postgresql on an empty database."""
    if selected_backend(request.config) == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'store.db'}"
    app, db, promo = store_app(url)
    yield app, db, promo
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def test_a_sign_up_creates_the_customer_and_gives_a_code_in_two_calls(store):
    app, db, promo = store
    client = app.test_client()
    first = client.post("/signup", data={"email": "ann@example.com"}).get_json()
    second = client.post("/signup", data={"email": "ben@example.com"}).get_json()
    assert (first["code"], second["code"]) == ("WELCOME-1", "WELCOME-2")

    with app.app_context():
        profile = promo.profiles.get(1, {"user_id": first["user_id"]})
        assert (profile.email, profile.fields) == ("ann@example.com", {"user_id": "1"})
        assert [code.code for code in profile.codes] == ["WELCOME-1"]
        holder = db.session.scalar(
            select(Attachment.profile_pk)
            .join(PromoCode, PromoCode.id == Attachment.code_id)
            .where(PromoCode.code == "WELCOME-1")
        )
        assert holder is not None
        # The same user signing in again: the same profile, updated, not a second one.
        again = promo.profiles.upsert(
            1, email="ann@new.example", fields={"user_id": 1}, match="user_id"
        )
        assert (again.profile_id, again.created) == (profile.profile_id, False)
        third = promo.profiles.upsert(1, fields={"user_id": 3}, match="user_id")
        with pytest.raises(NoCodesAvailable):
            promo.attach(1, 1, profile=third)


def test_the_python_api_raises_what_the_api_answers_and_keeps_nothing(store):
    app, db, promo = store
    with app.app_context():
        made = promo.profiles.upsert(1, email="twin@example.com")
        assert made.created is True
        db.session.add(Database(name="Other"))
        db.session.commit()
        cases = [
            (
                IncorrectRequest,
                lambda: promo.profiles.upsert(1, email="x@example.com", fields={"nope": 1}),
            ),
            (IncorrectRequest, lambda: promo.profiles.upsert(1, fields={"user_id": 5})),
            (IncorrectRequest, lambda: promo.profiles.get(1, {"email": "a", "phone": "b"})),
            (IncorrectRequest, lambda: promo.profiles.get(1, "not-a-profile-id")),
            (IncorrectRequest, lambda: promo.attach(1, 1, made, code="  ")),
            (DatabaseNotFound, lambda: promo.profiles.upsert(99, email="x@example.com")),
            (ProfileNotFound, lambda: promo.profiles.get(1, {"email": "nobody@example.com"})),
            (ProfileNotFound, lambda: promo.attach(1, 1, {"phone": "+70000000000"})),
        ]
        for error, call in cases:
            with pytest.raises(error):
                call()
        # Two profiles with one user_id (made by hand): refused, nothing attached.
        promo.profiles.upsert(1, email="u1@example.com", fields={"user_id": 7}, match="email")
        promo.profiles.upsert(1, email="u2@example.com", fields={"user_id": 7}, match="email")
        with pytest.raises(SeveralProfilesMatch):
            promo.attach(1, 1, {"user_id": 7})
        assert db.session.scalar(select(Attachment.id)) is None

        deleted = promo.profiles.delete(1, made)
        assert (deleted.profile_id, deleted.codes_held) == (made.profile_id, 0)
        with pytest.raises(ProfileNotFound):
            promo.profiles.get(1, made.profile_id)
