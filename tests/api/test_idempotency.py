"""Idempotency-Key on the writing verbs: a retry answers the first answer, never a second code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from promo_app.models import Attachment, IdempotencyKey, PromoCode
from promo_app.times import utcnow
from tests.helpers import call, recorded_statements

REUSED = "Idempotency key was used with other parameters"


def attach(client, shop, key=None, fmt="json", headers=None, **params):
    body = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id, **params}
    headers = dict(headers or {})
    if key is not None:
        headers["Idempotency-Key"] = key
    return call(client, "attach", body, fmt, headers=headers)


def attached_codes(session) -> list[str]:
    codes = session.scalars(
        select(PromoCode.code).join(Attachment, Attachment.code_id == PromoCode.id)
    ).all()
    session.rollback()
    return sorted(codes)


def stored_keys(session) -> list[str]:
    keys = session.scalars(select(IdempotencyKey.key).order_by(IdempotencyKey.key)).all()
    session.rollback()
    return list(keys)


def test_a_retried_draw_with_the_same_key_answers_the_same_code(client, shop, session):
    status, first = attach(client, shop, key="order-1", email="alice@example.com")
    assert status == 200
    assert first["data"]["code"] == "FREE-1"

    path = "/api/v1.1/promocodes/attach"
    body = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id}
    retry = client.post(
        path, json={**body, "email": "alice@example.com"}, headers={"Idempotency-Key": "order-1"}
    )
    assert retry.status_code == 200
    assert retry.get_json() == first
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert attached_codes(session) == ["FREE-1"]


def test_the_key_may_come_as_a_parameter_and_in_a_form(client, shop, session):
    _, first = attach(client, shop, fmt="form", email="alice@example.com", idempotency_key="k-1")
    _, again = attach(client, shop, fmt="json", email="alice@example.com", idempotency_key="k-1")
    assert first["data"]["code"] == again["data"]["code"] == "FREE-1"
    assert attached_codes(session) == ["FREE-1"]


def test_a_replay_answers_in_the_format_asked_now(client, shop, session):
    _, first = attach(client, shop, key="k-xml", email="alice@example.com")
    status, again = attach(client, shop, key="k-xml", fmt="xml", email="alice@example.com")
    assert status == 200
    assert again["data"]["code"] == first["data"]["code"]
    assert again["data"]["attached"] == first["data"]["attached"]
    assert attached_codes(session) == ["FREE-1"]


def test_the_same_key_with_other_parameters_is_refused(client, shop, session):
    attach(client, shop, key="order-2", email="alice@example.com")
    status, body = attach(client, shop, key="order-2", email="bob@example.com")
    assert status == 409
    assert body["error_text"] == REUSED
    assert body["data"] is None
    assert attached_codes(session) == ["FREE-1"]


def test_the_same_key_on_another_verb_is_refused(client, shop, session):
    attach(client, shop, key="order-3", email="alice@example.com", code="FREE-2")
    params = {"token": shop.token, "loyalty_id": shop.personal_id, "code": "FREE-2"}
    status, body = call(client, "activate", params, headers={"Idempotency-Key": "order-3"})
    assert (status, body["error_text"]) == (409, REUSED)


def test_parameters_that_read_the_same_are_the_same(client, shop, session):
    """db_id 5 in JSON and "5" in a form are one parameter; the format is not compared."""
    _, first = attach(client, shop, key="same", email="alice@example.com")
    body = {
        "token": shop.token,
        "db_id": str(shop.db_id),
        "loyalty_id": str(shop.personal_id),
        "email": "alice@example.com",
        "format": "xml",
    }
    status, again = call(client, "attach", body, "form", headers={"Idempotency-Key": "same"})
    assert status == 200
    assert again["data"]["code"] == first["data"]["code"]


def test_keys_belong_to_their_token(client, shop, session, runner):
    other = runner.invoke(args=["promo", "create-token", "second shop"]).output.split()[-1]
    attach(client, shop, key="shared-key", email="alice@example.com")
    body = {
        "token": other,
        "db_id": shop.db_id,
        "loyalty_id": shop.personal_id,
        "email": "bob@example.com",
    }
    status, answer = call(client, "attach", body, headers={"Idempotency-Key": "shared-key"})
    assert status == 200
    assert answer["data"]["code"] == "FREE-2"
    assert attached_codes(session) == ["FREE-1", "FREE-2"]


def test_a_failed_call_is_not_kept_so_its_retry_does_the_work(client, shop, session):
    params = {"loyalty_id": shop.empty_id, "email": "alice@example.com"}
    status, body = attach(client, shop, key="early", **params)
    assert (status, body["error_text"]) == (409, "No promo codes available")
    assert stored_keys(session) == []
    call(client, "import", {"token": shop.token, "loyalty_id": shop.empty_id, "codes": ["NEW-1"]})
    status, body = attach(client, shop, key="early", **params)
    assert status == 200
    assert body["data"]["code"] == "NEW-1"


def test_a_key_lives_as_long_as_the_setting_says(client, shop, session):
    attach(client, shop, key="old", email="alice@example.com")
    session.execute(update(IdempotencyKey).values(created=utcnow() - timedelta(hours=25)))
    session.commit()
    status, body = attach(client, shop, key="old", email="alice@example.com")
    assert status == 200
    assert body["data"]["code"] == "FREE-2"  # a new call: the old answer has expired
    assert attached_codes(session) == ["FREE-1", "FREE-2"]
    assert stored_keys(session) == ["old"]


def test_expired_keys_are_deleted_by_later_calls(app, client, shop, session):
    app.config["PROMO_IDEMPOTENCY_PRUNE_EVERY"] = 1
    for n in range(3):
        attach(client, shop, key=f"stale-{n}", email="alice@example.com", code="FREE-1")
    session.execute(update(IdempotencyKey).values(created=utcnow() - timedelta(days=2)))
    session.commit()
    attach(client, shop, key="fresh", email="alice@example.com", code="FREE-1")
    assert stored_keys(session) == ["fresh"]


@pytest.mark.parametrize(
    ("headers", "params", "field"),
    [
        ({"Idempotency-Key": ""}, {}, "Idempotency-Key"),
        ({"Idempotency-Key": "x" * 256}, {}, "Idempotency-Key"),
        ({}, {"idempotency_key": ""}, "idempotency_key"),
        ({}, {"idempotency_key": 12}, "idempotency_key"),
        ({}, {"idempotency_key": "a\tb"}, "idempotency_key"),
        ({"Idempotency-Key": "one"}, {"idempotency_key": "two"}, "idempotency_key"),
    ],
)
def test_a_bad_key_is_an_incorrect_request(client, shop, session, headers, params, field):
    status, body = attach(client, shop, headers=headers, email="alice@example.com", **params)
    assert status == 400
    assert body["error_text"] == "Incorrect request"
    assert field in body["errors"]
    assert attached_codes(session) == []
    assert stored_keys(session) == []


def test_a_quoted_key_is_the_same_key(client, shop, session):
    _, first = attach(client, shop, key='"quoted"', email="alice@example.com")
    _, again = attach(client, shop, key="quoted", email="alice@example.com")
    assert first["data"] == again["data"]


def test_a_reading_verb_ignores_the_header_and_refuses_the_parameter(client, shop):
    params = {"token": shop.token, "loyalty_id": shop.personal_id, "code": "FREE-1"}
    status, _ = call(client, "get", params, headers={"Idempotency-Key": "k"})
    assert status == 200
    status, body = call(client, "get", {**params, "idempotency_key": "k"})
    assert status == 400
    assert "idempotency_key" in body["errors"]


def test_an_import_retried_with_its_key_answers_its_first_report(client, shop, session):
    params = {"token": shop.token, "loyalty_id": shop.empty_id, "codes": ["A-1", "A-2"]}
    _, first = call(client, "import", params, headers={"Idempotency-Key": "upload-1"})
    assert first["inserted"] == 2
    _, again = call(client, "import", params, headers={"Idempotency-Key": "upload-1"})
    assert again == first  # not "2 duplicated"


@pytest.mark.parametrize(
    ("verb", "params"),
    [
        ("activate", {}),
        ("update", {"expire_date": "2031-01-01"}),
        ("detach", {"email": "alice@example.com"}),
    ],
)
def test_each_writing_verb_replays_its_first_answer(client, shop, session, verb, params):
    attach(client, shop, email="alice@example.com", code="FREE-1")
    body = {"token": shop.token, "loyalty_id": shop.personal_id, "code": "FREE-1", **params}
    if verb == "detach":
        body["db_id"] = shop.db_id
    status, first = call(client, verb, body, headers={"Idempotency-Key": f"{verb}-1"})
    assert status == 200
    status, again = call(client, verb, body, headers={"Idempotency-Key": f"{verb}-1"})
    assert (status, again) == (200, first)
    if verb == "detach":
        # Done again, detach would have answered 409 Promo code is not attached.
        assert attached_codes(session) == []


def test_attach_without_a_key_runs_only_the_statements_of_a_draw(
    app, client, shop, engine, monkeypatch
):
    """The token, the profile, the take, the attachment and its event in the history (on
    PostgreSQL one statement that does all five, attach_pg.py): nothing about keys."""
    app.config["PROMO_IDEMPOTENCY_PRUNE_EVERY"] = 0
    # The token's first call of the minute also writes when it was used (token_use.py).
    attach(client, shop, email="nobody@example.com")
    with recorded_statements(engine, monkeypatch) as statements:
        status, _ = attach(client, shop, email="bob@example.com")
        without = list(statements)
        statements.clear()
        attach(client, shop, key="k", email="alice@example.com")
        keyed = list(statements)
    assert status == 200
    assert len(without) == (1 if engine.dialect.name == "postgresql" else 5)
    assert not any("promo_idempotency_key" in statement for statement in without)
    assert sum("promo_event" in statement for statement in without) == 1
    assert len(keyed) == 7  # and the key's claim and its answer


@pytest.mark.postgresql_only
def test_attach_of_a_named_code_is_one_statement_on_postgresql(
    app, client, shop, engine, monkeypatch
):
    """A free named code: the token, the profile, the code, the take, the attachment and
    its event in one statement (attach_pg_named.py); the same call again (a retry without
    a key): one statement too, that writes nothing."""
    attach(client, shop, email="nobody@example.com", code="FREE-3")  # the token's use, noted
    with recorded_statements(engine, monkeypatch) as statements:
        first = attach(client, shop, email="bob@example.com", code="FREE-2")
        named = list(statements)
        statements.clear()
        again = attach(client, shop, email="bob@example.com", code="FREE-2")
        retried = list(statements)
    assert first[0] == 200 and again == first
    assert len(named) == 1 and "INSERT INTO promo_event" in named[0]
    assert len(retried) == 1
