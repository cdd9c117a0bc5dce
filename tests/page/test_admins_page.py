"""Admins on the page: added, given a new password, removed; the last one stays, and a
removed admin's sessions, or those of an old password, are over at once."""

from __future__ import annotations

# ruff: noqa: F811 (the page's fixtures, imported from its main test module)
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from promo_app.admins import LastAdminError, remove_admin, set_admin_user
from promo_app.models import AdminUser
from tests.helpers import ADMIN, PASSWORD
from tests.page.test_page import csrf_token, sign_in, signed_in  # noqa: F401

CLERK_PASSWORD = "clerk's own password"


def names(session) -> list[str]:
    session.rollback()
    return session.scalars(select(AdminUser.name).order_by(AdminUser.name)).all()


def admin_id(session, name: str) -> int:
    session.rollback()
    return session.scalar(select(AdminUser.id).where(AdminUser.name == name))


def post(client, path: str, **fields):
    page = client.get("/admin/admins").text
    return client.post(path, data={"csrf_token": csrf_token(page), **fields})


def is_signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


@pytest.fixture
def clerk(signed_in, app, session):
    """A second admin, added on the page, signed in with a browser of their own."""
    added = post(signed_in, "/admin/admins", name="clerk", password=CLERK_PASSWORD)
    assert added.status_code == 302
    assert "Added the admin &#39;clerk&#39;" in signed_in.get(added.headers["Location"]).text
    browser = app.test_client()
    assert sign_in(browser, "clerk", CLERK_PASSWORD).status_code == 302
    assert is_signed_in(browser)
    return browser


def test_an_added_admin_can_sign_in_and_is_listed(signed_in, clerk, session):
    assert names(session) == [ADMIN, "clerk"]
    page = signed_in.get("/admin/admins").text
    assert '<tr data-admin="clerk">' in page and "(you)" in page


def test_the_last_admin_cannot_be_removed(signed_in, session):
    refused = post(signed_in, f"/admin/admins/{admin_id(session, ADMIN)}/remove")
    assert refused.status_code == 409
    assert "is the last admin" in refused.text and "Nothing was changed" in refused.text
    assert names(session) == [ADMIN]
    assert is_signed_in(signed_in)


def test_a_removed_admins_session_is_over(signed_in, clerk, session):
    removed = post(signed_in, f"/admin/admins/{admin_id(session, 'clerk')}/remove")
    assert removed.status_code == 302
    assert "Removed the admin &#39;clerk&#39;" in signed_in.get("/admin/admins").text
    assert names(session) == [ADMIN]
    after = clerk.get("/admin/")
    assert after.status_code == 302 and "/admin/login" in after.headers["Location"]
    assert sign_in(clerk, "clerk", CLERK_PASSWORD).status_code == 401
    # With one admin left, they are the last one now.
    assert post(signed_in, f"/admin/admins/{admin_id(session, ADMIN)}/remove").status_code == 409


def test_an_admin_who_removes_themselves_is_signed_out(signed_in, clerk, session):
    gone = post(clerk, f"/admin/admins/{admin_id(session, 'clerk')}/remove")
    assert gone.status_code == 302 and gone.headers["Location"].endswith("/admin/login")
    assert not is_signed_in(clerk)
    assert names(session) == [ADMIN]


def test_a_new_password_ends_the_admins_sessions(signed_in, clerk, app, session):
    reset = post(
        signed_in, f"/admin/admins/{admin_id(session, 'clerk')}/password", password="brand new pw"
    )
    assert reset.status_code == 302
    assert "every session they had is over" in signed_in.get("/admin/admins").text
    assert not is_signed_in(clerk)
    assert sign_in(app.test_client(), "clerk", CLERK_PASSWORD).status_code == 401
    assert sign_in(app.test_client(), "clerk", "brand new pw").status_code == 302


def test_a_new_password_of_ones_own_keeps_this_browser_signed_in(signed_in, app, session):
    other_browser = app.test_client()
    assert sign_in(other_browser).status_code == 302
    reset = post(
        signed_in, f"/admin/admins/{admin_id(session, ADMIN)}/password", password="my new pw!"
    )
    assert reset.status_code == 302
    assert is_signed_in(signed_in)
    assert not is_signed_in(other_browser)
    assert sign_in(app.test_client(), ADMIN, PASSWORD).status_code == 401


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ADMIN, "password": "long enough"}, "named &#39;boss&#39; exists already"),
        ({"name": "new", "password": "short"}, "A password has at least 8 characters."),
        ({"name": "", "password": "long enough"}, "This field is required."),
        ({"name": "tab\there", "password": "long enough"}, "no control characters"),
    ],
)
def test_an_admin_that_cannot_be_added_is_refused(signed_in, session, fields, message):
    refused = post(signed_in, "/admin/admins", **fields)
    assert refused.status_code == 400
    assert message in refused.text
    assert names(session) == [ADMIN]
    # The password of the existing admin stays.
    assert sign_in(signed_in, ADMIN, PASSWORD).status_code == 302


def test_a_too_short_new_password_is_refused(signed_in, clerk, session):
    refused = post(signed_in, f"/admin/admins/{admin_id(session, 'clerk')}/password", password="x")
    assert refused.status_code == 400
    assert "A password has at least 8 characters." in refused.text
    assert is_signed_in(clerk)


def test_admin_forms_without_csrf_token_change_nothing(signed_in, clerk, session):
    clerk_id = admin_id(session, "clerk")
    for path, fields in [
        ("/admin/admins", {"name": "sneaky", "password": "long enough"}),
        (f"/admin/admins/{clerk_id}/remove", {}),
        (f"/admin/admins/{clerk_id}/password", {"password": "long enough"}),
    ]:
        refused = signed_in.post(path, data=fields)
        assert refused.status_code == 400, path
        assert "did not come from this page, so nothing was done" in refused.text
    assert names(session) == [ADMIN, "clerk"]
    assert is_signed_in(clerk)


def test_the_admins_page_needs_a_sign_in(client, admin, session):
    assert client.get("/admin/admins").status_code == 302
    assert client.post(f"/admin/admins/{admin_id(session, ADMIN)}/remove").status_code == 302
    assert names(session) == [ADMIN]


def test_two_merchants_removing_the_last_two_admins_at_once_leave_one(admin, engine, session):
    """Each removal alone is allowed; at once, the second waits for the first and refuses."""
    set_admin_user(session, "clerk", CLERK_PASSWORD)
    session.commit()
    boss, clerk = admin_id(session, ADMIN), admin_id(session, "clerk")
    session.rollback()
    outcome: dict[str, str] = {}

    def remove_clerk() -> None:
        with Session(engine) as other:
            try:
                remove_admin(other, clerk)
                other.commit()
                outcome["clerk"] = "removed"
            except LastAdminError:
                other.rollback()
                outcome["clerk"] = "refused"

    with Session(engine) as first:
        remove_admin(first, boss)  # not committed yet: its locks are held
        racer = threading.Thread(target=remove_clerk)
        racer.start()
        racer.join(0.5)  # it waits for the first removal's locks (or has not begun yet)
        first.commit()
    racer.join(30)
    assert outcome == {"clerk": "refused"}
    assert names(session) == ["clerk"]
