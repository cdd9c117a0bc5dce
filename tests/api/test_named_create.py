"""A named code the program does not have, attached on PostgreSQL in one statement
(attach_pg_named.py): created as the program's default kind says, as the full path alone
creates it, and given to one profile when two calls create it at once; anywhere, a call the
shortcut hands over has its parameters read once."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import delete, select

import promo_app.attach
import promo_app.attach_pg
from promo_app.api import params as api_params
from promo_app.api.verb import VERBS
from promo_app.models import Event, PromoCode

from ..db.test_program_counts import assert_honest
from ..helpers import recorded_statements
from .named_calls import Shortcut, at_once, attachment_and_event, post

NOW = datetime(2026, 12, 7, 12, 30, 15, 250000)


@pytest.fixture
def shortcut(monkeypatch) -> Shortcut:
    return Shortcut(monkeypatch)


def made(session, loyalty_id: int, code: str) -> tuple:
    """What the database keeps of a code, but its id and creation time (set, and not later
    than its attachment: the full path takes the clock again between the two)."""
    codes = PromoCode.__table__
    row = session.execute(
        select(
            codes.c.universal,
            codes.c.free,
            codes.c.lapsed,
            codes.c.expire_date,
            codes.c.activated,
            codes.c.voided,
            codes.c.created.is_not(None),
        ).where(codes.c.loyalty_id == loyalty_id, codes.c.code == code)
    ).one()
    session.rollback()
    return tuple(row)


@pytest.mark.postgresql_only
@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("program", ["personal_id", "universal_id"])
def test_a_new_code_is_created_and_attached_as_the_full_path_alone_does(
    client, shop, session, shortcut, monkeypatch, program, fmt
):
    """The same answer byte for byte, the same code row, attachment and event; the retry
    after it is one statement that writes nothing."""
    monkeypatch.setattr(promo_app.attach, "utcnow", lambda: NOW)
    monkeypatch.setattr(promo_app.attach_pg, "utcnow", lambda: NOW)
    loyalty_id = getattr(shop, program)
    body = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": loyalty_id}
    body = {**body, "email": "bob@example.com", "code": "BRAND-NEW"}
    first = post(client, body, fmt)
    assert first.status_code == 200, first.get_data(True)
    assert shortcut.answers[-1] is not None and shortcut.answers[-1].new
    kept = (
        made(session, loyalty_id, "BRAND-NEW"),
        attachment_and_event(session, "BRAND-NEW", shop.profiles["bob"]),
    )
    assert kept[0] == (program == "universal_id", False, False, None, None, None, True)
    again = post(client, body, fmt)
    assert again.get_data() == first.get_data()
    assert shortcut.answers[-1] is not None and not shortcut.answers[-1].new
    # Forget it, and let the full path alone create it.
    session.execute(delete(PromoCode).where(PromoCode.code == "BRAND-NEW"))
    session.execute(delete(Event).where(Event.code == "BRAND-NEW"))
    session.commit()
    shortcut.on = False
    alone = post(client, body, fmt)
    seen = (first.status_code, first.mimetype, first.get_data())
    assert seen == (alone.status_code, alone.mimetype, alone.get_data())
    assert kept == (
        made(session, loyalty_id, "BRAND-NEW"),
        attachment_and_event(session, "BRAND-NEW", shop.profiles["bob"]),
    )


@pytest.mark.postgresql_only
@pytest.mark.parametrize("program", ["personal_id", "universal_id"])
def test_two_calls_creating_one_new_code_at_once(app, shop, session, shortcut, program):
    """Alice and Bob ask for the same new codes at the same moment: each code is created
    once; a personal code goes to one of them, the other hears the full path's "already
    attached"; a universal code goes to both."""
    loyalty_id = getattr(shop, program)
    base = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": loyalty_id}
    names = [f"RACE-NEW-{n}" for n in range(6)]
    wanted = [(name, who) for name in names for who in ("alice", "bob")]

    def call(name: str, who: str):
        def run():
            answer = post(app.test_client(), {**base, "email": f"{who}@example.com", "code": name})
            return answer.status_code, answer.get_json()

        return run

    results = at_once([call(name, who) for name, who in wanted])
    for name in names:
        answers = [got for (code, _), got in zip(wanted, results, strict=True) if code == name]
        statuses = sorted(status for status, _ in answers)
        codes = select(PromoCode.id).where(
            PromoCode.loyalty_id == loyalty_id, PromoCode.code == name
        )
        assert len(session.scalars(codes).all()) == 1, name
        session.rollback()
        if program == "universal_id":
            assert statuses == [200, 200], answers
            continue
        assert statuses == [200, 409], answers
        [lost] = [body for status, body in answers if status == 409]
        assert lost["error_text"] == "Promo code is already attached"
        [won] = [body for status, body in answers if status == 200]
        holder = "alice" if won["data"]["profile_id"] == shop.profiles["alice"] else "bob"
        assert attachment_and_event(session, name, shop.profiles[holder])[1][0] == "attached"
    # Most calls were the shortcut's; the others found the code created by a concurrent one
    # (or, when the code was taken by then, had the shortcut answer the 409 itself).
    assert any(getattr(answer, "new", False) for answer in shortcut.answers)
    assert_honest(session)  # the program's counts equal a recount


@pytest.mark.postgresql_only
@pytest.mark.parametrize(
    ("what", "extra", "status"),
    [
        ("a new personal code", {"code": "NEW-P"}, 200),
        ("a new universal code", {"code": "NEW-U", "loyalty_id": "universal"}, 200),
        ("held by another profile", {"code": "FREE-1", "email": "bob@example.com"}, 409),
    ],
)
def test_a_new_code_and_a_code_held_by_another_are_one_statement(
    client, shop, engine, monkeypatch, what, extra, status
):
    base = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id}
    alice = {**base, "email": "alice@example.com"}
    assert post(client, {**alice, "code": "FREE-1"}).status_code == 200  # the token's use too
    if extra.get("loyalty_id") == "universal":
        extra = {**extra, "loyalty_id": shop.universal_id}
    with recorded_statements(engine, monkeypatch) as statements:
        answer = post(client, {**alice, **extra})
    assert answer.status_code == status, what
    assert len(statements) == 1, what


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
