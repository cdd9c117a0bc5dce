"""The page's program form: one code per customer is a setting of a new program."""

from __future__ import annotations

from sqlalchemy import select

from promo_app.models import LoyaltyProgram
from tests.page.test_page import csrf_token, signed_in  # noqa: F401 (a fixture)


def test_create_a_one_per_customer_program_from_the_page(signed_in, session):  # noqa: F811
    page = signed_in.get("/admin/")
    assert "One code per customer" in page.text
    response = signed_in.post(
        "/admin/",
        data={
            "csrf_token": csrf_token(page.text),
            "name": "Welcome",
            "kind": "personal",
            "one_per_profile": "y",
        },
    )
    assert response.status_code == 302
    program = session.scalar(select(LoyaltyProgram))
    assert (program.name, program.one_per_profile) == ("Welcome", True)
    session.rollback()
    assert "one per customer" in signed_in.get(response.location).text
    assert "one per customer" in signed_in.get("/admin/").text


def test_a_program_is_ordinary_unless_the_box_is_ticked(signed_in, session):  # noqa: F811
    page = signed_in.get("/admin/")
    signed_in.post("/admin/", data={"csrf_token": csrf_token(page.text), "name": "Plain"})
    program = session.scalar(select(LoyaltyProgram))
    assert (program.name, program.one_per_profile) == ("Plain", False)
    session.rollback()
    assert "one per customer" not in signed_in.get("/admin/").text
