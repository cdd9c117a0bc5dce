"""Who sees the page inside a Flask-Login store: admins; login for strangers; 403 for the rest."""

from __future__ import annotations

import pytest
from flask import redirect
from flask_login import current_user

from .hosts import dispose, make_store, sign_in

PAGE = "/shop/promo/admin/"


@pytest.fixture
def store(database_url):
    made = []

    def make(**options):
        app, db, _user = make_store(database_url, **options)
        made.append((app, db))
        return app.test_client()

    yield make
    for app, db in made:
        dispose(app, db)


def test_the_page_shows_to_the_stores_admins_only(store):
    client = store()
    anonymous = client.get(PAGE)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"] == "/login?next=%2Fshop%2Fpromo%2Fadmin%2F"
    sign_in(client, 1)
    customer = client.get(PAGE)
    assert customer.status_code == 403
    assert "You are signed in, but not allowed to use the promo codes page." in customer.text
    sign_in(client, 2)
    admin = client.get(PAGE)
    assert admin.status_code == 200
    assert "Loyalty programs" in admin.text


def may_see_the_flask_login_idiom():
    # The common idiom: for a customer the callable returns a redirect, which is truthy.
    return (current_user.is_authenticated and current_user.is_admin) or redirect("/login")


@pytest.mark.parametrize(
    "authorize",
    [may_see_the_flask_login_idiom, lambda: 1, lambda: "yes", lambda: None],
    ids=["a-response", "one", "a-string", "none"],
)
def test_only_exactly_true_lets_a_visitor_in(store, authorize):
    client = store(authorize=authorize)
    sign_in(client, 1)
    assert client.get(PAGE).status_code == 403
    sign_in(client, None)
    assert client.get(PAGE).status_code == 302


def test_the_host_may_answer_refusals_itself(store):
    client = store(PROMO_ADMIN_REFUSE=lambda: ("Ask the shop owner", 401))
    sign_in(client, 1)
    refused = client.get(PAGE)
    assert (refused.status_code, refused.text) == (401, "Ask the shop owner")


def test_a_refusal_callable_that_answers_nothing_still_refuses(store):
    client = store(PROMO_ADMIN_REFUSE=lambda: None)
    sign_in(client, 1)
    assert client.get(PAGE).status_code == 403


def test_the_login_url_setting_wins_over_flask_login(store):
    client = store(PROMO_ADMIN_LOGIN_URL="/account/sign-in")
    anonymous = client.get(PAGE + "programs/1?status=free")
    assert anonymous.headers["Location"] == (
        "/account/sign-in?next=%2Fshop%2Fpromo%2Fadmin%2Fprograms%2F1%3Fstatus%3Dfree"
    )
    sign_in(client, 1)
    assert client.get(PAGE).status_code == 403
