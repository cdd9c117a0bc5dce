"""A token reaches only what it may: its shop's programs, its programs, reading only.

One installation serves two shops: shop A (the `shop` fixture's database and programs) and
shop B (the fixture's other database, with a program of its own). Shop A's token is limited
to shop A's database.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import Attachment, LoyaltyProgram, Profile, PromoCode
from promo_app.tokens import create_token
from tests.helpers import call

DENIED = (403, 403, "Access denied")
FORMATS = ["json", "xml", "form"]


@pytest.fixture
def shops(shop, session):
    """Shop B's program, with a code held by its customer, and tokens of various reach."""
    program_b = LoyaltyProgram(name="Shop B", universal=False, db_id=shop.other_db_id)
    unassigned = LoyaltyProgram(name="Nobody's", universal=False)
    session.add_all([program_b, unassigned])
    session.flush()
    import_codes(session, program_b, [ImportLine(1, "B-1"), ImportLine(2, "B-2")])
    import_codes(session, unassigned, [ImportLine(1, "U-1")])
    stranger = session.scalar(select(Profile).where(Profile.db_id == shop.other_db_id))
    b_1 = session.scalar(select(PromoCode).where(PromoCode.code == "B-1"))
    b_1.free = False
    session.add(Attachment(code_id=b_1.id, profile_pk=stranger.id, personal=True))
    tokens = {
        "a": create_token(session, "shop A", [shop.db_id]),
        "b": create_token(session, "shop B", [shop.other_db_id]),
        "welcome only": create_token(session, "welcome", loyalty_ids=[shop.personal_id]),
        "read only": create_token(session, "reader", [shop.db_id], read_only=True),
    }
    made = {
        "b": program_b.id,
        "unassigned": unassigned.id,
        "tokens": tokens,
        "stranger": stranger.profile_id,
    }
    session.commit()
    return made


def params_for(verb: str, token: str, loyalty_id: int, db_id: int, email: str, code: str):
    """Parameters that make `verb` succeed when the token may reach the program."""
    base = {"token": token, "loyalty_id": loyalty_id}
    more = {
        "attach": {"db_id": db_id, "email": email},
        "import": {"codes": ["NEW-1"]},
        "get": {"code": code},
        "activate": {"code": code},
        "update": {"code": code, "activated": "false"},
        "detach": {"db_id": db_id, "email": email, "code": code},
        "export_all": {},
    }[verb]
    return {**base, **more}


VERBS = ["attach", "import", "get", "activate", "update", "detach", "export_all"]


def snapshot(session) -> list[tuple]:
    """Every code and attachment, as a user of the page would see them."""
    session.expire_all()
    codes = session.execute(
        select(PromoCode.loyalty_id, PromoCode.code, PromoCode.free, PromoCode.activated).order_by(
            PromoCode.id
        )
    ).all()
    attachments = session.execute(
        select(Attachment.code_id, Attachment.profile_pk).order_by(Attachment.id)
    ).all()
    return [*codes, *attachments]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("verb", VERBS)
def test_shop_a_token_on_shop_b_program_is_denied_and_changes_nothing(
    client, shop, shops, session, verb, fmt
):
    before = snapshot(session)
    # Shop A's token, shop B's program; for attach and detach with shop A's own db_id.
    params = params_for(
        verb, shops["tokens"]["a"], shops["b"], shop.db_id, "alice@example.com", "B-1"
    )
    status, body = call(client, verb, params, fmt)
    assert (status, body["error"], body["error_text"]) == DENIED
    assert body["data"] is None
    assert snapshot(session) == before


@pytest.mark.parametrize("verb", VERBS)
def test_shop_b_token_reaches_its_own_program(client, shop, shops, session, verb):
    params = params_for(
        verb, shops["tokens"]["b"], shops["b"], shop.other_db_id, "stranger@example.com", "B-1"
    )
    status, body = call(client, verb, params)
    assert (status, body["error"]) == (200, 0), body


@pytest.mark.parametrize("verb", VERBS)
def test_a_limited_token_is_denied_an_unassigned_or_missing_program(client, shop, shops, verb):
    for loyalty_id in (shops["unassigned"], 999):
        params = params_for(
            verb, shops["tokens"]["a"], loyalty_id, shop.db_id, "alice@example.com", "U-1"
        )
        status, body = call(client, verb, params)
        # A missing program is denied like another shop's: the answer tells nothing of it.
        assert (status, body["error"], body["error_text"]) == DENIED


def test_an_unrestricted_token_reaches_an_unassigned_program(client, shop, shops):
    params = {"token": shop.token, "loyalty_id": shops["unassigned"], "code": "U-1"}
    status, body = call(client, "get", params)
    assert (status, body["data"]["code"]) == (200, "U-1")


def test_a_token_limited_to_a_program_reaches_only_that_program(client, shop, shops):
    token = shops["tokens"]["welcome only"]
    status, body = call(
        client, "get", {"token": token, "loyalty_id": shop.personal_id, "code": "FREE-1"}
    )
    assert (status, body["data"]["code"]) == (200, "FREE-1")
    for loyalty_id, code in ((shop.universal_id, "SUMMER"), (shops["b"], "B-1")):
        status, body = call(client, "get", {"token": token, "loyalty_id": loyalty_id, "code": code})
        assert (status, body["error"], body["error_text"]) == DENIED


@pytest.mark.parametrize("verb", VERBS)
def test_a_read_only_token_may_only_get_and_export(client, shop, shops, session, verb):
    before = snapshot(session)
    params = params_for(
        verb,
        shops["tokens"]["read only"],
        shop.personal_id,
        shop.db_id,
        "alice@example.com",
        "FREE-1",
    )
    status, body = call(client, verb, params)
    if verb in ("get", "export_all"):
        assert (status, body["error"]) == (200, 0)
    else:
        assert (status, body["error"], body["error_text"]) == DENIED
        assert "token" in body["errors"]
    assert snapshot(session) == before


def test_access_is_decided_after_the_parameters_and_before_the_program(client, shop, shops):
    token = shops["tokens"]["a"]
    # Bad parameters are a 400 first, as for any token.
    status, body = call(client, "get", {"token": token, "loyalty_id": "x", "code": "B-1"})
    assert (status, body["error"]) == (400, 400)
    # A program within reach that lacks the code: the verb runs, 404.
    status, body = call(
        client, "get", {"token": token, "loyalty_id": shop.personal_id, "code": "B-1"}
    )
    assert (status, body["error_text"]) == (404, "Promo code not found")


# The command line ----------------------------------------------------------------------


def test_create_program_for_a_database_and_a_token_limited_to_it(runner, client, shop, session):
    result = runner.invoke(
        args=["promo", "create-program", "B sale", "--db-id", str(shop.other_db_id)]
    )
    assert result.exit_code == 0, result.output
    loyalty_id = int(result.output.strip().splitlines()[-1])
    assert f"database {shop.other_db_id}" in result.output
    result = runner.invoke(
        args=["promo", "create-token", "B reader", "--db-id", str(shop.other_db_id), "--read-only"]
    )
    assert result.exit_code == 0, result.output
    assert "read only" in result.output
    token = result.output.strip().splitlines()[-1]
    status, body = call(client, "export_all", {"token": token, "loyalty_id": loyalty_id})
    assert (status, body["data"]) == (200, [])
    status, body = call(
        client, "import", {"token": token, "loyalty_id": loyalty_id, "codes": ["X"]}
    )
    assert (status, body["error_text"]) == (403, "Access denied")
    status, body = call(client, "export_all", {"token": token, "loyalty_id": shop.personal_id})
    assert (status, body["error_text"]) == (403, "Access denied")


def test_create_token_limited_to_a_program(runner, client, shop):
    result = runner.invoke(
        args=["promo", "create-token", "welcome", "--loyalty-id", str(shop.personal_id)]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    params = {"token": token, "loyalty_id": shop.universal_id, "code": "SUMMER"}
    assert call(client, "get", params)[0] == 403
    assert (
        call(client, "get", {**params, "loyalty_id": shop.personal_id, "code": "FREE-1"})[0] == 200
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create-program", "P", "--db-id", "999"], "Database not found"),
        (["create-token", "t", "--loyalty-id", "999"], "Loyalty program not found"),
    ],
)
def test_the_command_line_refuses_unknown_targets_in_one_line(runner, shop, args, message):
    result = runner.invoke(args=["promo", *args])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
