"""The history: every change through the API is an event with its actor, written in the
change's own transaction, so a refused or rolled-back change leaves none."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from promo_app import events as event_kinds
from promo_app.models import Attachment, Event, PromoCode
from promo_app.times import utcnow
from promo_app.tokens import create_token
from tests.api.profile_calls import profiles
from tests.helpers import call


def recorded(session, **where) -> list[dict]:
    """The events as the table holds them, oldest first (the shop's own setup left out)."""
    query = select(Event).where(Event.kind.not_in(["token_created"])).order_by(Event.id)
    for name, value in where.items():
        query = query.where(getattr(Event, name) == value)
    rows = [
        {
            "kind": event.kind,
            "actor": event.actor,
            "db_id": event.db_id,
            "loyalty_id": event.loyalty_id,
            "code": event.code,
            "profile_id": event.profile_id,
            "detail": json.loads(event.detail) if event.detail else {},
        }
        for event in session.scalars(query)
    ]
    session.rollback()
    return rows


def attach(client, shop, key=None, **params):
    body = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id, **params}
    headers = {"Idempotency-Key": key} if key else {}
    return call(client, "attach", body, headers=headers)


def test_a_pool_draw_records_who_gave_which_code_to_whom(client, session, shop):
    status, body = attach(client, shop, email="alice@example.com")

    assert status == 200
    assert recorded(session) == [
        {
            "kind": "attached",
            "actor": "shop",
            "db_id": shop.db_id,
            "loyalty_id": shop.personal_id,
            "code": body["data"]["code"],
            "profile_id": shop.profiles["alice"],
            "detail": {},
        }
    ]


def test_a_retry_of_an_attach_records_nothing_more(client, session, shop):
    attach(client, shop, email="alice@example.com", code="FREE-2")
    attach(client, shop, email="alice@example.com", code="FREE-2")  # already hers
    attach(client, shop, key="k1", email="bob@example.com")
    status, _ = attach(client, shop, key="k1", email="bob@example.com")  # replayed

    assert status == 200
    assert [(e["kind"], e["profile_id"]) for e in recorded(session)] == [
        ("attached", shop.profiles["alice"]),
        ("attached", shop.profiles["bob"]),
    ]


def test_a_refused_attach_records_nothing(client, session, shop):
    session.execute(
        update(PromoCode)
        .where(PromoCode.code == "FREE-3")
        .values(expire_date=utcnow() - timedelta(days=1))
    )
    session.commit()

    status, body = attach(client, shop, email="alice@example.com", code="FREE-3")
    assert (status, body["error_text"]) == (409, "Promo code has expired")
    attach(client, shop, email="nobody@example.com")  # 404: no such profile
    assert recorded(session) == []


def test_a_rolled_back_attach_leaves_no_event(app, client, session, shop, monkeypatch):
    """The attachment and its event are one transaction: a failure after both (here the
    idempotency key's answer cannot be stored) takes the event with the attachment."""
    from promo_app import idempotency

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(idempotency._ANSWER, "rows", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    status, _ = attach(client, shop, key="k", email="alice@example.com")

    assert status == 500
    assert recorded(session) == []
    assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    session.rollback()


def test_activate_update_and_detach_record_their_actor_and_change(client, session, shop):
    attach(client, shop, email="bob@example.com", code="FREE-1")
    base = {"token": shop.token, "loyalty_id": shop.personal_id, "code": "FREE-1"}
    assert call(client, "activate", base)[0] == 200
    assert call(client, "activate", base)[0] == 200  # again: nothing changes
    assert call(client, "update", {**base, "expire_date": "2030-12-31"})[0] == 200
    assert call(client, "update", {**base, "expire_date": ""})[0] == 200
    detach = {**base, "db_id": shop.db_id, "email": "bob@example.com"}
    assert call(client, "detach", detach)[0] == 200

    bob = shop.profiles["bob"]
    assert [(e["kind"], e["actor"], e["code"], e["profile_id"]) for e in recorded(session)] == [
        ("attached", "shop", "FREE-1", bob),
        ("activated", "shop", "FREE-1", None),
        ("updated", "shop", "FREE-1", None),
        ("updated", "shop", "FREE-1", None),
        ("detached", "shop", "FREE-1", bob),
    ]
    updates = [e["detail"] for e in recorded(session, kind="updated")]
    assert updates == [
        {"expire_date": [None, "2030-12-31T23:59:59Z"]},
        {"expire_date": ["2030-12-31T23:59:59Z", None]},
    ]


def test_an_import_and_a_generation_record_one_event_each_with_counts(client, session, shop):
    base = {"token": shop.token, "loyalty_id": shop.personal_id}
    codes = ["NEW-1", "NEW-2", "FREE-1", "NEW-3"]
    assert call(client, "import", {**base, "codes": codes})[0] == 200
    assert call(client, "generate", {**base, "count": 5, "pattern": "****-****"})[0] == 200

    assert [(e["kind"], e["actor"], e["detail"]) for e in recorded(session)] == [
        ("imported", "shop", {"inserted": 3, "duplicated": 1, "invalid": 0}),
        ("generated", "shop", {"inserted": 5, "pattern": "****-****"}),
    ]


def test_profile_changes_are_recorded(client, session, shop):
    params = {"token": shop.token, "db_id": shop.db_id, "data": {"email": "new@example.com"}}
    made = profiles(client, "import", params)[1]["data"]["profile_id"]
    profiles(client, "import", params)
    # A new customer, one there already, and an email two profiles share (refused).
    items = [{"email": f"{name}@example.com"} for name in ("b1", "bob", "twin")]
    profiles(client, "import_batch", {"token": shop.token, "db_id": shop.db_id, "data": items})
    by_id = {"matching": "profile_id", "profile_id": made}
    profiles(client, "delete", {"token": shop.token, "db_id": shop.db_id, **by_id})

    assert [(e["kind"], e["profile_id"], e["detail"]) for e in recorded(session)] == [
        ("profile_created", made, {}),
        ("profile_updated", made, {}),
        ("profile_updated", None, {"created": 1, "updated": 1, "failed": 1}),
        ("profile_deleted", made, {"codes_held": 0}),
    ]
    assert {e["actor"] for e in recorded(session)} == {"shop"}
    assert {e["db_id"] for e in recorded(session)} == {shop.db_id}


def test_an_export_is_one_event_with_its_token_and_the_number_of_codes(client, session, shop):
    status, body = call(client, "export_all", {"token": shop.token, "loyalty_id": shop.personal_id})
    assert status == 200
    refused = {"token": shop.token, "loyalty_id": 999_999}
    assert call(client, "export_all", refused)[1]["error_text"] == "Loyalty program not found"

    assert recorded(session) == [
        {
            "kind": "exported",
            "actor": "shop",
            "db_id": None,
            "loyalty_id": shop.personal_id,
            "code": None,
            "profile_id": None,
            "detail": {"count": len(body["data"])},
        }
    ]
    assert len(body["data"]) > 0


def test_a_read_only_tokens_export_is_recorded_too(client, session, shop):
    reader = create_token(session, "reader", read_only=True)
    session.commit()
    status, body = call(client, "export_all", {"token": reader, "loyalty_id": shop.universal_id})
    assert status == 200
    [event] = recorded(session, kind="exported")
    assert (event["actor"], event["loyalty_id"]) == ("reader", shop.universal_id)
    assert event["detail"] == {"count": len(body["data"])}


def test_tokens_made_and_revoked_from_the_cli_are_recorded(runner, session, shop):
    session.execute(delete(Event))
    session.commit()
    assert runner.invoke(args=["promo", "create-token", "till", "--read-only"]).exit_code == 0
    assert runner.invoke(args=["promo", "revoke-token", "till"]).exit_code == 0
    assert runner.invoke(args=["promo", "revoke-token", "till"]).exit_code == 0  # again

    rows = session.execute(select(Event.kind, Event.actor, Event.detail).order_by(Event.id)).all()
    assert [(kind, actor, json.loads(detail)) for kind, actor, detail in rows] == [
        (
            "token_created",
            "cli",
            {"token": "till", "db_ids": [], "loyalty_ids": [], "read_only": True},
        ),
        ("token_revoked", "cli", {"token": "till"}),
    ]


@pytest.mark.parametrize(
    "app_config", [{"PROMO_EVENT_RETENTION_DAYS": 30, "PROMO_EVENT_PRUNE_EVERY": 1}]
)
@pytest.mark.parametrize("batch", [2, 1000])
def test_old_events_are_pruned_by_later_writes_a_bounded_number_at_a_time(
    client, session, shop, monkeypatch, batch
):
    monkeypatch.setattr(event_kinds, "PRUNE_BATCH", batch)
    old, recent = utcnow() - timedelta(days=31), utcnow() - timedelta(days=29)
    session.execute(delete(Event))  # the shop's setup: the old events come first, as in life
    session.add_all(
        [Event(at=old, kind="attached", actor="shop", code=f"OLD-{n}") for n in range(5)]
        + [Event(at=recent, kind="attached", actor="shop", code="RECENT")]
    )
    session.commit()

    assert attach(client, shop, email="alice@example.com")[0] == 200

    left = [e["code"] for e in recorded(session)]
    gone = min(batch, 5)
    assert left == [f"OLD-{n}" for n in range(gone, 5)] + ["RECENT", left[-1]]
    assert left[-1].startswith("FREE-")


@pytest.mark.parametrize("app_config", [{"PROMO_EVENT_PRUNE_EVERY": 1}])
def test_events_are_kept_forever_by_default(client, session, shop):
    session.add(Event(at=utcnow() - timedelta(days=3650), kind="attached", actor="x", code="OLD"))
    session.commit()
    attach(client, shop, email="alice@example.com")
    assert [e["code"] for e in recorded(session)][:1] == ["OLD"]
