"""The attach of a named code in one statement on PostgreSQL (attach_pg_named.py): each code
goes to one profile under concurrent calls, and what it answers is what the full path
alone answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from promo_app.attach_pg_named import named_in_one_statement
from promo_app.code_actions import Selection, highest_id, run_action
from promo_app.errors import AlreadyAttached
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import Attachment, Database, Event, LoyaltyProgram, Profile, PromoCode
from promo_app.profiles import ProfileKey, add_profile
from promo_app.times import utcnow
from promo_app.tokens import create_token

from .named_calls import Shortcut, at_once, attachment_and_event, post


@pytest.fixture
def shortcut(monkeypatch) -> Shortcut:
    return Shortcut(monkeypatch)


@pytest.fixture
def codes(client, shop, session):
    """Codes in every state a named attach meets: held by alice (some expired or voided
    since), expired, voided, free, in both programs; a read-only and a program-bound token."""
    personal = session.get(LoyaltyProgram, shop.personal_id)
    universal = session.get(LoyaltyProgram, shop.universal_id)
    names = ["HELD-EXPIRED", "HELD-VOIDED", "SPARE-1", "SPARE-2"]
    import_codes(session, personal, [ImportLine(n, code) for n, code in enumerate(names)])
    sales = ["OLD-SALE", "WINTER", "VOIDED-SALE"]
    import_codes(session, universal, [ImportLine(n, code) for n, code in enumerate(sales)])
    tokens = {
        "read only": create_token(session, "reader", [shop.db_id], read_only=True),
        "other program": create_token(session, "sale", loyalty_ids=[shop.universal_id]),
    }
    session.commit()
    alice = {"token": shop.token, "db_id": shop.db_id, "email": "alice@example.com"}
    for code in ("FREE-1", "HELD-EXPIRED", "HELD-VOIDED"):
        answer = post(client, {**alice, "loyalty_id": shop.personal_id, "code": code})
        assert answer.status_code == 200
    answer = post(client, {**alice, "loyalty_id": shop.universal_id, "code": "SUMMER"})
    assert answer.status_code == 200
    past = utcnow() - timedelta(days=1)
    expired = PromoCode.code.in_(["FREE-2", "HELD-EXPIRED", "OLD-SALE"])
    session.execute(update(PromoCode).where(expired).values(expire_date=past))
    session.commit()
    for program, code in [
        (shop.personal_id, "FREE-3"),
        (shop.personal_id, "HELD-VOIDED"),
        (shop.universal_id, "VOIDED-SALE"),
    ]:
        selection = Selection(program, PromoCode.code == code, highest_id(session, program))
        assert sum(run_action(session, selection, "void")) == 1
    session.commit()
    return tokens


def named_calls(shop, tokens, fmt: str = "json") -> dict[str, tuple[dict, bool | None]]:
    """Each call: its parameters, and whether the one statement answers it (the rest are
    the full path's)."""
    base = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id}
    alice = {**base, "email": "alice@example.com"}
    spare = {**alice, "code": "SPARE-1"}
    universal = {**alice, "loyalty_id": shop.universal_id}
    return {
        "held by this profile": ({**alice, "code": "FREE-1"}, True),
        "held, by phone": ({**base, "phone": "+79000000001", "code": "FREE-1"}, True),
        "held, by profile_id": (
            {**base, "profile_id": shop.profiles["alice"], "code": "FREE-1"},
            True,
        ),
        "held, by a custom field": (
            {**base, "field_name": "card", "field_value": "1001", "code": "FREE-1"},
            True,
        ),
        "held, expired since": ({**alice, "code": "HELD-EXPIRED"}, True),
        "held, voided since": ({**alice, "code": "HELD-VOIDED"}, True),
        "universal, held": ({**universal, "code": "SUMMER"}, True),
        "held by another profile": ({**alice, "email": "bob@example.com", "code": "FREE-1"}, True),
        "held by another, expired since": (
            {**alice, "email": "bob@example.com", "code": "HELD-EXPIRED"},
            True,
        ),
        "held by another, voided since": (
            {**alice, "email": "bob@example.com", "code": "HELD-VOIDED"},
            False,
        ),
        "expired": ({**alice, "code": "FREE-2"}, False),
        "voided": ({**alice, "code": "FREE-3"}, False),
        "universal, expired": ({**universal, "code": "OLD-SALE"}, False),
        "universal, voided": ({**universal, "code": "VOIDED-SALE"}, False),
        "unknown token": ({**spare, "token": "not-a-token"}, False),
        "token of another database": ({**spare, "token": shop.limited_token}, False),
        "read-only token": ({**spare, "token": tokens["read only"]}, False),
        "token of another program": ({**spare, "token": tokens["other program"]}, False),
        "no such profile": ({**spare, "email": "nobody@example.com"}, False),
        "profile of another database": ({**spare, "email": "stranger@example.com"}, False),
        "several profiles": ({**spare, "email": "twin@example.com"}, False),
        "unknown custom field": (
            {**base, "field_name": "nope", "field_value": "1", "code": "SPARE-1"},
            False,
        ),
        "no such program": ({**spare, "loyalty_id": 999999}, False),
        "no such database": ({**spare, "db_id": 999999}, False),
        **new_code_calls(shop, tokens, fmt),
    }


def new_code_calls(shop, tokens, fmt: str) -> dict[str, tuple[dict, bool | None]]:
    """Calls naming a code the program does not have: each one an error, that the full
    path answers (None: a code the schema refuses, which the shortcut never looks at);
    nothing is created. tests/api/test_named_create.py has the ones that create it. (In
    XML a blank code is no code, a pool draw, and every value is text.)"""
    base = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id}
    new = {**base, "email": "alice@example.com", "code": "NEW-1"}
    json_only = {
        "new, blank": ({**new, "code": "   "}, None),
        "new, not a string": ({**new, "code": 12}, None),
    }
    return {
        **(json_only if fmt == "json" else {}),
        "new, too long": ({**new, "code": "N" * 256}, None),
        "new, a control character": ({**new, "code": "NEW\u0001"}, None),
        "new, a NUL": ({**new, "code": "NEW\u0000"}, None),
        "new, unknown token": ({**new, "token": "not-a-token"}, False),
        "new, read-only token": ({**new, "token": tokens["read only"]}, False),
        "new, token of another program": ({**new, "token": tokens["other program"]}, False),
        "new, token of another database": ({**new, "token": shop.limited_token}, False),
        "new, no such profile": ({**new, "email": "nobody@example.com"}, False),
        "new, several profiles": ({**new, "email": "twin@example.com"}, False),
        "new, profile of another database": ({**new, "email": "stranger@example.com"}, False),
        "new, no such program": ({**new, "loyalty_id": 999999}, False),
        "new, no such database": ({**new, "db_id": 999999}, False),
        "new, universal, no such profile": (
            {**new, "loyalty_id": shop.universal_id, "email": "nobody@example.com"},
            False,
        ),
    }


@pytest.mark.postgresql_only
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_every_answer_the_full_path_gives_alone_is_the_same_byte_for_byte(
    client, shop, session, codes, shortcut, fmt
):
    """Errors in SPEC.md's order and texts, and the retry's success with its first time:
    the one statement answers the successes that change nothing, hands the rest over, and
    what the client gets is what it got before there was a shortcut."""
    before = session.scalar(select(func.count()).select_from(Attachment))
    for name, (body, answered) in named_calls(shop, codes, fmt).items():
        shortcut.on, shortcut.answers[:] = True, []
        first = post(client, body, fmt)
        asked = [] if answered is None else [answered]
        assert [answer is not None for answer in shortcut.answers] == asked, name
        shortcut.on = False
        alone = post(client, body, fmt)
        seen = (first.status_code, first.mimetype, first.get_data())
        assert seen == (alone.status_code, alone.mimetype, alone.get_data()), name
    assert session.scalar(select(func.count()).select_from(Attachment)) == before
    assert session.scalar(select(PromoCode.free).where(PromoCode.code == "SPARE-1")) is True
    assert session.scalar(select(func.count()).where(PromoCode.code.like("NEW%"))) == 0


@pytest.mark.postgresql_only
@pytest.mark.parametrize(
    ("program", "made", "alone"),
    [("personal_id", "SPARE-1", "SPARE-2"), ("universal_id", "SUMMER", "WINTER")],
)
def test_a_free_code_is_attached_and_recorded_as_the_full_path_does(
    client, shop, session, codes, shortcut, program, made, alone
):
    body = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": getattr(shop, program)}
    bob = {**body, "email": "bob@example.com"}
    first = post(client, {**bob, "code": made})
    assert shortcut.answers[-1] is not None and shortcut.answers[-1].new
    shortcut.on = False
    second = post(client, {**bob, "code": alone})
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.get_json()["data"]["code"] == made
    assert second.get_json()["data"]["code"] == alone
    bob_id = shop.profiles["bob"]
    kept = attachment_and_event(session, made, bob_id)
    assert kept == attachment_and_event(session, alone, bob_id)
    assert kept[1][0] == "attached" and kept[1][-1] is True
    # And again: the retry's answer is the first one, time and all, from the one statement.
    shortcut.on = True
    assert post(client, {**bob, "code": made}).get_data() == first.get_data()
    assert shortcut.answers[-1] is not None and not shortcut.answers[-1].new


@pytest.mark.postgresql_only
def test_concurrent_one_statement_attaches_give_each_personal_code_to_one_profile(
    engine, session, shop
):
    """Three profiles want each of four codes at once: the statement itself gives each code
    to one of them, and attaches nothing for the others (the full path answers them, or the
    statement says "already attached" when the winner came first)."""
    database = session.get(Database, shop.db_id)
    emails = [f"racer{n}@example.com" for n in range(3)]
    for email in emails:
        add_profile(session, database, email=email)
    program = session.get(LoyaltyProgram, shop.personal_id)
    race = [f"RACE-{n}" for n in range(4)]
    import_codes(session, program, [ImportLine(n, code) for n, code in enumerate(race)])
    session.commit()

    def attach(email: str, code: str):
        key = ProfileKey("email", email)
        where = {"db_id": shop.db_id, "loyalty_id": shop.personal_id, "profile_key": key}

        def run():
            try:
                return named_in_one_statement(engine, shop.token, code=code, now=utcnow(), **where)
            except AlreadyAttached:  # it came after the winner: nothing attached
                return None

        return run

    wanted = [(email, code) for code in race for email in emails]
    results = at_once([attach(email, code) for email, code in wanted])

    winners = {}
    for (_email, code), result in zip(wanted, results, strict=True):
        if result is not None:
            assert result.new and result.code == code
            assert code not in winners, f"{code} given twice"
            winners[code] = result.profile_id
    assert sorted(winners) == race
    held = session.execute(
        select(PromoCode.code, Profile.profile_id, PromoCode.free)
        .join(Attachment, Attachment.code_id == PromoCode.id)
        .join(Profile, Profile.id == Attachment.profile_pk)
        .where(PromoCode.code.in_(race))
    ).all()
    assert sorted(held) == sorted((code, winners[code], False) for code in race)
    events = session.scalars(select(Event.code).where(Event.code.in_(race))).all()
    assert sorted(events) == race


@pytest.mark.postgresql_only
def test_concurrent_attaches_of_one_universal_code_to_one_profile_make_one_attachment(
    client, engine, session, shop
):
    """Six calls attach the same universal code to the same profile at once: one attaches
    it; the unique (code, profile) pair refuses the others, which the full path answers
    with the same attachment."""
    key = ProfileKey("email", "bob@example.com")

    def attach():
        return named_in_one_statement(
            engine,
            shop.token,
            db_id=shop.db_id,
            loyalty_id=shop.universal_id,
            profile_key=key,
            code="SUMMER",
            now=utcnow(),
        )

    results = at_once([attach] * 6)
    made = [result for result in results if result is not None]
    assert len(made) >= 1 and sum(result.new for result in made) == 1
    count = session.scalar(
        select(func.count())
        .select_from(Attachment)
        .join(PromoCode)
        .where(PromoCode.code == "SUMMER")
    )
    assert count == 1
    body = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.universal_id}
    answer = post(client, {**body, "email": "bob@example.com", "code": "SUMMER"}).get_json()
    assert answer["data"]["attached"] == made[0].as_data()["attached"]
