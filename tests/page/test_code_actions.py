"""Acting on codes from the page: one code from its row, or the filtered set; each asked,
then confirmed with the number of codes shown; a stale confirmation changes nothing."""

from __future__ import annotations

# ruff: noqa: F811 (the page's fixtures, imported from its main test module)
import re

import pytest
from sqlalchemy import select, update

from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import LoyaltyProgram, PromoCode
from promo_app.times import utcnow
from tests.helpers import call
from tests.page.test_page import csrf_token, signed_in  # noqa: F401


@pytest.fixture
def codes(shop, session) -> dict[str, int]:
    """The shop's personal program with A-1..A-6 and B-1..B-3 beside FREE-1..3; A-1 and
    A-2 attached to alice through the API."""
    program = session.get(LoyaltyProgram, shop.personal_id)
    names = [f"A-{n}" for n in range(1, 7)] + [f"B-{n}" for n in range(1, 4)]
    import_codes(session, program, [ImportLine(n, name) for n, name in enumerate(names)])
    session.commit()
    return by_code(session, shop)


def by_code(session, shop) -> dict[str, int]:
    session.rollback()
    query = select(PromoCode.code, PromoCode.id).where(PromoCode.loyalty_id == shop.personal_id)
    return dict(session.execute(query).all())


def attach(client, shop, code: str) -> tuple[int, str]:
    params = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id}
    status, body = call(client, "attach", {**params, "email": "alice@example.com", "code": code})
    return status, body["error_text"]


def state(session, shop, code: str) -> PromoCode:
    session.rollback()
    query = select(PromoCode).where(
        PromoCode.loyalty_id == shop.personal_id, PromoCode.code == code
    )
    return session.scalars(query).one()


def ask(client, shop, **fields):
    page = client.get(f"/admin/programs/{shop.personal_id}").text
    form = {"csrf_token": csrf_token(page), **fields}
    return client.post(f"/admin/programs/{shop.personal_id}/actions", data=form)


def confirm(client, shop, asked_page: str):
    """Send the confirmation form back as the page wrote it."""
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', asked_page))
    return client.post(f"/admin/programs/{shop.personal_id}/actions/confirm", data=fields)


def test_void_one_code_from_its_row(signed_in, client, shop, session, codes):
    assert attach(client, shop, "A-1") == (200, "Successful operation")
    program_page = signed_in.get(f"/admin/programs/{shop.personal_id}").text
    assert f'href="/admin/programs/{shop.personal_id}/codes/{codes["A-3"]}"' in program_page
    code_page = signed_in.get(f"/admin/programs/{shop.personal_id}/codes/{codes['A-3']}")
    assert code_page.status_code == 200 and "A-3" in code_page.text
    asked = ask(signed_in, shop, code_id=str(codes["A-3"]), action="void")
    assert asked.status_code == 200
    assert "Void (for good): 1 code?" in asked.text and "cannot be undone" in asked.text
    done = confirm(signed_in, shop, asked.text)
    assert done.status_code == 302
    assert "Voided 1 code of Welcome." in signed_in.get(done.headers["Location"]).text
    voided = state(session, shop, "A-3")
    assert voided.voided is not None and not voided.free and voided.expire_date <= utcnow()
    # Never attached again, whatever a client tries; it stays listed, as voided.
    assert attach(client, shop, "A-3") == (409, "Promo code has expired")
    params = {"token": shop.token, "loyalty_id": shop.personal_id, "code": "A-3"}
    assert call(client, "update", {**params, "expire_date": ""})[1]["error_text"] == (
        "Promo code has expired"
    )
    listed = signed_in.get(f"/admin/programs/{shop.personal_id}?status=voided").text
    assert re.findall(r'<td class="promo-code">([^<]*)</td>', listed) == ["A-3"]


def test_a_voided_code_is_never_drawn(signed_in, client, shop, session, codes):
    asked = ask(signed_in, shop, q="", action="void")  # every code of the program
    assert "12" in asked.text
    assert confirm(signed_in, shop, asked.text).status_code == 302
    params = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id}
    status, body = call(client, "attach", {**params, "email": "bob@example.com"})
    assert (status, body["error_text"]) == (409, "No promo codes available")


def test_bulk_expire_touches_only_the_filtered_codes(signed_in, shop, session, codes):
    asked = ask(signed_in, shop, q="A-", action="expire")
    assert re.search(r'data-count="touched">6<', asked.text)
    assert confirm(signed_in, shop, asked.text).status_code == 302
    now = utcnow()
    assert all(state(session, shop, f"A-{n}").expire_date <= now for n in range(1, 7))
    assert all(state(session, shop, f"B-{n}").expire_date is None for n in range(1, 4))


def test_bulk_detach_frees_the_codes_and_activate_needs_an_attached_code(
    signed_in, client, shop, session, codes
):
    for code in ("B-1", "B-2"):
        assert attach(client, shop, code)[0] == 200
    asked = ask(signed_in, shop, q="B-", action="activate")
    assert re.search(r'data-count="touched">2<', asked.text)  # B-3 is not attached
    confirm(signed_in, shop, asked.text)
    assert state(session, shop, "B-1").activated is not None
    assert state(session, shop, "B-3").activated is None
    asked = ask(signed_in, shop, q="B-", action="detach")
    assert re.search(r'data-count="touched">2<', asked.text)
    confirm(signed_in, shop, asked.text)
    freed = state(session, shop, "B-1")
    assert freed.free and freed.activated is None


def test_set_and_clear_the_expiry_of_a_filtered_set(signed_in, shop, session, codes):
    asked = ask(signed_in, shop, q="B-", action="set_expiry", expire_date="2031-12-31")
    assert "they expire at the end of 2031-12-31" in asked.text
    confirm(signed_in, shop, asked.text)
    assert state(session, shop, "B-2").expire_date.isoformat() == "2031-12-31T23:59:59"
    asked = ask(
        signed_in, shop, q="B", expires_from="2031-12-01", expires_to="2031-12-31",
        action="clear_expiry",
    )  # fmt: skip
    assert re.search(r'data-count="touched">3<', asked.text)
    confirm(signed_in, shop, asked.text)
    assert state(session, shop, "B-2").expire_date is None


def test_a_stale_confirmation_changes_nothing(signed_in, client, shop, session, codes):
    asked = ask(signed_in, shop, q="A-", action="activate")  # nothing attached: nothing
    assert asked.status_code == 400 and "No code of this selection would change" in asked.text
    assert attach(client, shop, "A-1")[0] == 200
    asked = ask(signed_in, shop, q="A-", action="activate")
    assert re.search(r'data-count="touched">1<', asked.text)
    assert attach(client, shop, "A-2")[0] == 200  # the set changes after the count was shown
    refused = confirm(signed_in, shop, asked.text)
    assert refused.status_code == 409
    assert "it was 1 codes to mark activated, it is 2 now. Nothing was done" in refused.text
    assert state(session, shop, "A-1").activated is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"action": "set_expiry"}, "Give the new expiry date"),
        ({"action": "explode"}, "Choose an action"),
        ({"action": "void", "csrf_token": "forged"}, "did not come from this page"),
    ],
)
def test_a_bad_request_changes_nothing(signed_in, shop, session, codes, fields, message):
    before = by_code(session, shop)
    response = ask(signed_in, shop, q="A-", **fields)
    assert response.status_code == 400 and message in response.text
    assert by_code(session, shop) == before
    assert state(session, shop, "A-1").voided is None


def test_a_confirmation_without_csrf_changes_nothing(signed_in, shop, session, codes):
    asked = ask(signed_in, shop, q="A-", action="void")
    forged = asked.text.replace('name="csrf_token" value="', 'name="csrf_token" value="x')
    response = confirm(signed_in, shop, forged)
    assert response.status_code == 400
    assert state(session, shop, "A-1").voided is None


def test_new_codes_since_the_count_are_left_alone(signed_in, shop, session, codes):
    asked = ask(signed_in, shop, q="A-", action="expire")
    session.execute(update(PromoCode).where(PromoCode.code == "B-1").values(code="A-9"))
    program = session.get(LoyaltyProgram, shop.personal_id)
    import_codes(session, program, [ImportLine(1, "A-10")])
    session.commit()
    # A-9 was renamed into the filter (an id under the highest then): the count differs.
    assert confirm(signed_in, shop, asked.text).status_code == 409
    asked = ask(signed_in, shop, q="A-", action="expire")
    import_codes(session, program, [ImportLine(1, "A-11")])
    session.commit()
    assert confirm(signed_in, shop, asked.text).status_code == 302
    assert state(session, shop, "A-11").expire_date is None  # added after the count
