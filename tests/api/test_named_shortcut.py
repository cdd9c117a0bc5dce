"""The attach of a named code in one statement on PostgreSQL (attach_pg_named.py): each code
goes to one profile under concurrent calls, what it answers is what the full path alone
answers, and a call it hands over has its parameters read once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import xmltodict
from sqlalchemy import func, select, update

import promo_app.attach_pg
from promo_app.api import params as api_params
from promo_app.api.verb import VERBS
from promo_app.attach_pg_named import named_in_one_statement
from promo_app.code_actions import Selection, highest_id, run_action
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import Attachment, Database, Event, LoyaltyProgram, Profile, PromoCode
from promo_app.profiles import ProfileKey, add_profile
from promo_app.times import utcnow
from promo_app.tokens import create_token

PATH = "/api/v1.1/promocodes/attach"


def post(client, body: dict, fmt: str = "json"):
    if fmt == "json":
        return client.post(PATH, json=body)
    return client.post(PATH, data=xmltodict.unparse({"xml": body}), content_type="application/xml")


class Shortcut:
    """attach_pg.try_attach, watched: what it answered call by call (None: it handed the
    call to the full path), or switched off (the full path alone, as before it)."""

    def __init__(self, monkeypatch) -> None:
        self.answers: list = []
        self.on = True
        real = promo_app.attach_pg.try_attach

        def watched(*args, **kwargs):
            result = real(*args, **kwargs) if self.on else None
            self.answers.append(result)
            return result

        monkeypatch.setattr(promo_app.attach_pg, "try_attach", watched)


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


def named_calls(shop, tokens) -> dict[str, tuple[dict, bool]]:
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
        "held by another profile": ({**alice, "email": "bob@example.com", "code": "FREE-1"}, False),
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
    for name, (body, answered) in named_calls(shop, codes).items():
        shortcut.on, shortcut.answers[:] = True, []
        first = post(client, body, fmt)
        assert [answer is not None for answer in shortcut.answers] == [answered], name
        shortcut.on = False
        alone = post(client, body, fmt)
        seen = (first.status_code, first.mimetype, first.get_data())
        assert seen == (alone.status_code, alone.mimetype, alone.get_data()), name
    assert session.scalar(select(func.count()).select_from(Attachment)) == before
    assert session.scalar(select(PromoCode.free).where(PromoCode.code == "SPARE-1")) is True


def attachment_and_event(session, code: str, profile_id: str) -> tuple:
    """What the database keeps of a code's attachment to a profile: the attachment, its
    event, the code's flag, all but ids, the code and times (the event's time is the
    attachment's)."""
    attachment = session.execute(
        select(Attachment.personal, Attachment.one_per_profile_loyalty_id, Attachment.attached)
        .join(Profile, Profile.id == Attachment.profile_pk)
        .join(PromoCode, PromoCode.id == Attachment.code_id)
        .where(PromoCode.code == code, Profile.profile_id == profile_id)
    ).one()
    event = session.execute(
        select(Event.kind, Event.actor, Event.db_id, Event.loyalty_id, Event.detail)
        .add_columns(Event.at == attachment.attached)
        .where(Event.code == code, Event.profile_id == profile_id)
    ).one()
    free = session.scalar(select(PromoCode.free).where(PromoCode.code == code))
    session.rollback()
    return tuple(attachment)[:2], tuple(event), free


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


def at_once(calls: list) -> list:
    """Run every call at the same moment, each in its own thread; their results in order."""
    start = threading.Barrier(len(calls))

    def one(call):
        start.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(one, calls))


@pytest.mark.postgresql_only
def test_concurrent_one_statement_attaches_give_each_personal_code_to_one_profile(
    engine, session, shop
):
    """Three profiles want each of four codes at once: the statement itself gives each code
    to one of them, and attaches nothing for the others (the full path answers them)."""
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
        return lambda: named_in_one_statement(
            engine,
            shop.token,
            db_id=shop.db_id,
            loyalty_id=shop.personal_id,
            profile_key=key,
            code=code,
            now=utcnow(),
        )

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


@pytest.mark.parametrize(
    ("what", "extra"),
    [
        ("held by another profile", {"email": "bob@example.com", "code": "FREE-1"}),
        ("a new code", {"code": "BRAND-NEW"}),
        ("a key", {"code": "FREE-2", "idempotency_key": "k-1"}),
        ("an empty pool", {"loyalty_id": "empty"}),
    ],
)
def test_a_call_handed_to_the_full_path_reads_its_parameters_once(
    client, shop, monkeypatch, what, extra
):
    """The shortcut reads and validates the parameters (on PostgreSQL); the full path it
    hands the call to takes them as they are. Anywhere, a call reads its body once and
    loads its parameters once."""
    base = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id}
    first = post(client, {**base, "email": "alice@example.com", "code": "FREE-1"})
    assert first.status_code == 200
    reads: Counter = Counter()
    read_body, schema = api_params._read_body, next(v.schema for v in VERBS if v.name == "attach")
    load = schema.load

    def counting_body():
        reads["body"] += 1
        return read_body()

    def counting_load(*args, **kwargs):
        reads["load"] += 1
        return load(*args, **kwargs)

    monkeypatch.setattr(api_params, "_read_body", counting_body)
    monkeypatch.setattr(schema, "load", counting_load)
    if extra.get("loyalty_id") == "empty":
        extra = {**extra, "loyalty_id": shop.empty_id}
    answer = post(client, {**base, "email": "alice@example.com", **extra})
    assert answer.status_code in (200, 409), what
    assert reads == {"body": 1, "load": 1}, what
