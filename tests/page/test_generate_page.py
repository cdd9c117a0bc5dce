"""Generating codes from the merchant's page: the form, its refusals, the streamed progress."""

# ruff: noqa: F811 (the page's fixtures, imported from its main test module)

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from promo_app.models import PromoCode
from tests.page.test_page import csrf_token, program_id, signed_in  # noqa: F401


def codes(session, loyalty_id: int) -> list[PromoCode]:
    session.rollback()
    return list(session.scalars(select(PromoCode).where(PromoCode.loyalty_id == loyalty_id)))


def post_form(client, loyalty_id: int, **fields):
    path = f"/admin/programs/{loyalty_id}/generate"
    token = csrf_token(client.get(path).text)
    form = {"csrf_token": token, "count": "10", "pattern": "****-****", "alphabet": "unambiguous"}
    return client.post(path, data={**form, **fields})


def test_the_program_page_links_to_the_generator(signed_in, program_id):
    page = signed_in.get(f"/admin/programs/{program_id}").text
    assert f'href="/admin/programs/{program_id}/generate"' in page
    form = signed_in.get(f"/admin/programs/{program_id}/generate")
    assert form.status_code == 200 and 'name="pattern"' in form.text


def test_the_form_generates_and_streams_progress_and_report(signed_in, session, program_id):
    response = post_form(
        signed_in, program_id, count="1500", prefix="WIN-", expire_date="2031-01-31"
    )
    assert response.status_code == 200 and response.is_streamed
    page = response.get_data(as_text=True)
    assert re.search(r'<progress max="1500" value="1500">', page)
    assert "1,500 of 1,500 (100 %)" in page
    assert re.search(r'data-count="inserted">1,500<', page)
    made = codes(session, program_id)
    assert len(made) == 1500 and all(re.fullmatch(r"WIN-\w{4}-\w{4}", row.code) for row in made)
    assert {row.expire_date.isoformat() for row in made} == {"2031-01-31T23:59:59"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"pattern": "WINTER"}, "at least one placeholder"),
        ({"pattern": "###", "count": "20", "force": "y"}, "can make 125 codes"),
        ({"pattern": "####"}, "bits of randomness"),
        ({"expire_date": "soon"}, "Not a date"),
        ({"count": "0"}, "Generate 1 to 10,000,000 codes"),
        ({"count": "many"}, "Not a valid integer"),
        ({"csrf_token": "forged"}, "did not come from this page"),
    ],
)
def test_a_refusal_shows_the_form_again_and_writes_nothing(
    signed_in, session, program_id, fields, message
):
    response = post_form(signed_in, program_id, **fields)
    assert response.status_code == 400
    assert message in response.text and 'name="pattern"' in response.text
    assert codes(session, program_id) == []


def test_the_generator_needs_a_signed_in_admin(client, program_id):
    response = client.get(f"/admin/programs/{program_id}/generate")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
