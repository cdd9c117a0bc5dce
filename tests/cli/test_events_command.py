"""`flask promo events`: the history as CSV or JSON lines, filtered; a bad filter is one line
and exit status 1."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from sqlalchemy import delete

from promo_app.models import Event
from tests.helpers import call


@pytest.fixture
def history(session, shop) -> None:
    """Five events of two programs, two codes and two profiles, over three days."""
    session.execute(delete(Event))
    alice, bob = shop.profiles["alice"], shop.profiles["bob"]
    session.add_all(
        [
            Event(at=datetime(2026, 12, 1, 10), kind="attached", actor="shop", loyalty_id=1,
                  code="A-1", profile_id=alice, db_id=1),
            Event(at=datetime(2026, 12, 1, 11), kind="activated", actor="shop", loyalty_id=1,
                  code="A-1"),
            Event(at=datetime(2026, 12, 2, 9), kind="attached", actor="till", loyalty_id=2,
                  code="=HYPERLINK(1)", profile_id=bob, db_id=1),
            Event(at=datetime(2026, 12, 3, 8), kind="detached", actor="boss", loyalty_id=1,
                  code="A-1", profile_id=alice, db_id=1),
            Event(at=datetime(2026, 12, 3, 9), kind="imported", actor="cli", loyalty_id=2,
                  detail='{"inserted":3,"duplicated":1,"invalid":0}'),
        ]
    )  # fmt: skip
    session.commit()


def lines(runner, *args: str) -> list[dict]:
    result = runner.invoke(args=["promo", "events", "--format", "jsonl", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_jsonl_gives_every_event_oldest_first_with_its_fields(runner, history, shop):
    events = lines(runner)
    assert [event["kind"] for event in events] == [
        "attached",
        "activated",
        "attached",
        "detached",
        "imported",
    ]
    assert events[0] | {"id": 0} == {
        "id": 0,
        "at": "2026-12-01T10:00:00Z",
        "kind": "attached",
        "actor": "shop",
        "db_id": 1,
        "loyalty_id": 1,
        "code": "A-1",
        "profile_id": shop.profiles["alice"],
        "detail": {},
    }
    assert events[-1]["detail"] == {"inserted": 3, "duplicated": 1, "invalid": 0}


@pytest.mark.parametrize(
    ("args", "kinds"),
    [
        (["--loyalty-id", "1"], ["attached", "activated", "detached"]),
        (["--loyalty-id", "1", "--code", "A-1", "--kind", "attached"], ["attached"]),
        (["--since", "2026-12-02"], ["attached", "detached", "imported"]),
        (["--until", "2026-12-02"], ["attached", "activated", "attached"]),
        (["--since", "2026-12-01T10:30:00Z", "--until", "2026-12-03T08:00:00Z"],
         ["activated", "attached"]),
        (["--since", "2026-12-03T10:00:00+02:00"], ["detached", "imported"]),
        (["--kind", "imported"], ["imported"]),
    ],
)  # fmt: skip
def test_filters_select_the_events(runner, history, args, kinds):
    assert [event["kind"] for event in lines(runner, *args)] == kinds


def test_the_profile_filter_selects_that_customers_events(runner, history, shop):
    events = lines(runner, "--profile-id", shop.profiles["alice"])
    assert [(event["kind"], event["code"]) for event in events] == [
        ("attached", "A-1"),
        ("detached", "A-1"),
    ]


def test_csv_has_a_header_and_cells_safe_for_a_spreadsheet(runner, history):
    result = runner.invoke(args=["promo", "events", "--loyalty-id", "2"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [row["kind"] for row in rows] == ["attached", "imported"]
    assert rows[0]["code"] == "'=HYPERLINK(1)"  # not run as a formula
    assert rows[0]["actor"] == "till" and rows[0]["at"] == "2026-12-02T09:00:00Z"
    assert json.loads(rows[1]["detail"]) == {"inserted": 3, "duplicated": 1, "invalid": 0}
    assert rows[1]["code"] == "" and rows[1]["profile_id"] == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "--since: Not a date"),
        (["--until", "2026-13-01"], "--until: Not a date"),
        (["--loyalty-id", "one"], "--loyalty-id: not a program id"),
        (["--loyalty-id", "99999999999999999999"], "--loyalty-id: not a program id"),
        (["--profile-id", "ALICE"], "--profile-id: 24 lowercase hexadecimal characters"),
        (["--kind", "stolen"], "--kind: one of attached"),
        (["--code", "a\x00b"], "--code: a code has 1 to 255 printable characters"),
    ],
)
def test_a_bad_filter_is_one_line_and_exit_status_1(runner, history, args, message):
    result = runner.invoke(args=["promo", "events", *args])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_set_expiry_from_the_cli_is_one_event_with_its_count(runner, session, shop):
    session.execute(delete(Event))
    session.commit()
    assert (
        runner.invoke(args=["promo", "set-expiry", str(shop.personal_id), "2031-01-31"]).exit_code
        == 0
    )
    assert (
        runner.invoke(args=["promo", "set-expiry", str(shop.personal_id), "never"]).exit_code == 0
    )

    events = lines(runner)
    assert [(e["kind"], e["actor"], e["loyalty_id"], e["detail"]) for e in events] == [
        (
            "expiry_set",
            "cli",
            shop.personal_id,
            {"count": 3, "expire_date": "2031-01-31T23:59:59Z"},
        ),
        ("expiry_cleared", "cli", shop.personal_id, {"count": 3, "expire_date": None}),
    ]


def test_programs_and_databases_made_renamed_and_deleted_from_the_cli_are_recorded(runner, session):
    session.execute(delete(Event))
    session.commit()

    def run(*args: str) -> str:
        result = runner.invoke(args=["promo", *args])
        assert result.exit_code == 0, result.output
        return result.output.strip().splitlines()[-1]

    db_id = int(run("create-database", "Outlet", "--custom-field", "card"))
    loyalty_id = int(run("create-program", "Autumn", "--db-id", str(db_id), "--universal"))
    run("rename-program", str(loyalty_id), "Autumn sale")
    run("rename-program", str(loyalty_id), "Autumn sale")  # the same name: nothing changes
    run("delete-program", str(loyalty_id), "--yes")
    run("delete-database", str(db_id), "--yes")

    events = lines(runner)
    assert [(e["kind"], e["actor"], e["db_id"], e["loyalty_id"], e["detail"]) for e in events] == [
        ("database_created", "cli", db_id, None, {"name": "Outlet", "custom_fields": ["card"]}),
        (
            "program_created",
            "cli",
            db_id,
            loyalty_id,
            {"name": "Autumn", "universal": True, "one_per_profile": False},
        ),
        ("program_renamed", "cli", db_id, loyalty_id, {"name": ["Autumn", "Autumn sale"]}),
        (
            "program_deleted",
            "cli",
            db_id,
            loyalty_id,
            {"name": "Autumn sale", "codes": 0, "attachments": 0},
        ),
        (
            "database_deleted",
            "cli",
            db_id,
            None,
            {"name": "Outlet", "profiles": 0, "attachments": 0, "revoked_tokens": []},
        ),
    ]
    # Each kind is a filter of its own; a deleted program's history stays readable.
    assert [e["kind"] for e in lines(runner, "--kind", "program_renamed")] == ["program_renamed"]
    assert len(lines(runner, "--loyalty-id", str(loyalty_id))) == 3


def test_what_the_cli_refuses_records_nothing(runner, client, session, shop):
    body = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id}
    assert call(client, "attach", {**body, "email": "alice@example.com"})[0] == 200
    session.execute(delete(Event))
    session.commit()

    assert runner.invoke(args=["promo", "create-program", " "]).exit_code == 1
    given_out = ["promo", "delete-program", str(shop.personal_id), "--yes"]
    assert runner.invoke(args=given_out).exit_code == 1  # without --force
    assert runner.invoke(args=["promo", "rename-program", "999", "Gone"]).exit_code == 1
    assert runner.invoke(args=["promo", "create-database", "Shop"]).exit_code == 1  # taken
    assert lines(runner) == []
