"""An in-process store for the host tests: Flask-Login users, CSRFProtect, its own errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, abort, request
from flask_login import LoginManager, UserMixin, current_user
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from promo_app import PromoCodes


def is_admin() -> bool:
    return current_user.is_authenticated and current_user.is_admin


def make_store(
    database_url: str,
    *,
    promo_first: bool = False,
    authorize: Callable[[], Any] = is_admin,
    **config: Any,
) -> tuple[Flask, SQLAlchemy, Any]:
    """Return (app, db, User): a store whose `X-Store-Abort` header makes it abort early."""

    class Base(DeclarativeBase):
        pass

    db = SQLAlchemy(model_class=Base)

    class User(UserMixin, db.Model):
        __tablename__ = "store_user"
        id: Mapped[int] = mapped_column(primary_key=True)
        is_admin: Mapped[bool] = mapped_column(default=False)

    app = Flask("store")
    app.config.update(
        SECRET_KEY="store-secret",
        SQLALCHEMY_DATABASE_URI=database_url,
        PROMO_URL_PREFIX="/shop/promo",
        PROMO_ADMIN_AUTHORIZE=authorize,
        **config,
    )
    csrf = CSRFProtect()
    login_manager = LoginManager()
    login_manager.login_view = "login"
    login_manager.user_loader(lambda user_id: db.session.get(User, int(user_id)))

    @app.before_request
    def store_checks():
        # The store's own rule around every view (a header stands for, say, a banned IP).
        status = request.headers.get("X-Store-Abort")
        if status:
            abort(int(status), description="the store said no")

    @app.get("/login")
    def login():
        return "store login"

    if promo_first:
        PromoCodes(db).init_app(app)
        csrf.init_app(app)
    else:
        db.init_app(app)
        csrf.init_app(app)
        PromoCodes(db).init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        db.create_all()
        app.extensions["promo"].create_all()
        db.session.add_all([User(id=1), User(id=2, is_admin=True)])
        db.session.commit()
    return app, db, User


def sign_in(client, user_id: int | None) -> None:
    """Sign the client in as the store's user `user_id` (None: signed out), as Flask-Login does."""
    with client.session_transaction() as session:
        session.pop("_user_id", None)
        if user_id is not None:
            session["_user_id"] = str(user_id)


def dispose(app: Flask, db: SQLAlchemy) -> None:
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
