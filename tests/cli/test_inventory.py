"""`flask promo list-… / delete-… / rename-program / set-expiry` on a shop with attached codes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from promo_app.models import Attachment, Database, LoyaltyProgram, Profile, PromoCode
from tests.helpers import call


def run(runner, *args: str, input: str | None = None):
    return runner.invoke(args=["promo", *args], input=input)


def listed(runner, command: str) -> list[dict]:
    result = run(runner, command, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def count(session, model, *where) -> int:
    session.rollback()  # see the CLI's commits
    return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def attached(shop, client):
    """The shop, with one personal code and the universal one attached to alice."""
    params = {"token": shop.token, "db_id": shop.db_id, "email": "alice@example.com"}
    for extra in (
        {"loyalty_id": shop.personal_id},
        {"loyalty_id": shop.universal_id, "code": "SUMMER"},
    ):
        status, _ = call(client, "attach", {**params, **extra})
        assert status == 200
    return shop


def test_list_programs_counts_codes_free_and_attached(runner, attached):
    programs = {row["loyalty_id"]: row for row in listed(runner, "list-programs")}
    assert programs[attached.personal_id] | {"created": None} == {
        "loyalty_id": attached.personal_id,
        "name": "Welcome",
        "kind": "personal",
        "codes": 3,
        "free": 2,
        "attached": 1,
        "created": None,
    }
    assert programs[attached.universal_id]["attached"] == 1
    assert programs[attached.universal_id]["free"] == 0
    assert programs[attached.empty_id]["codes"] == 0
    table = run(runner, "list-programs").output.splitlines()
    assert table[0].split() == [
        "loyalty_id",
        "name",
        "kind",
        "codes",
        "free",
        "attached",
        "created",
    ]
    assert "Summer sale" in table[2]


def test_list_databases_tokens_and_admins(runner, attached):
    databases = listed(runner, "list-databases")
    assert [(row["name"], row["custom_fields"], row["profiles"]) for row in databases] == [
        ("Shop", ["card"], 4),
        ("Other shop", [], 1),
    ]
    tokens = listed(runner, "list-tokens")
    assert [(row["name"], row["db_ids"], row["revoked"]) for row in tokens] == [
        ("shop", [], None),
        ("other only", [attached.other_db_id], None),
    ]
    output = run(runner, "list-tokens").output
    assert attached.token not in output and attached.limited_token not in output
    assert "all" in output.splitlines()[1]
    assert listed(runner, "list-admins") == []
    assert run(runner, "create-admin", "boss", "--password", "long enough!").exit_code == 0
    assert [row["name"] for row in listed(runner, "list-admins")] == ["boss"]
    assert run(runner, "delete-admin", "boss", "--yes").exit_code == 0
    assert listed(runner, "list-admins") == []


def test_delete_program_with_attached_codes_needs_force(runner, session, attached):
    result = run(runner, "delete-program", str(attached.personal_id), "--yes")
    assert result.exit_code == 1
    assert "has 1 attached codes; nothing was deleted" in result.output
    assert "Traceback" not in result.output
    assert count(session, PromoCode, PromoCode.loyalty_id == attached.personal_id) == 3

    result = run(runner, "delete-program", str(attached.personal_id), "--force", "--yes")
    assert result.exit_code == 0, result.output
    assert "3 codes, 1 attachments" in result.output
    assert session.get(LoyaltyProgram, attached.personal_id) is None
    assert count(session, PromoCode, PromoCode.loyalty_id == attached.personal_id) == 0
    assert count(session, Attachment) == 1  # the universal code's


def test_delete_asks_first_and_a_no_changes_nothing(runner, session, attached):
    result = run(runner, "delete-program", str(attached.empty_id), input="n\n")
    assert result.exit_code == 1
    assert "Nothing was deleted." in result.output
    assert session.get(LoyaltyProgram, attached.empty_id) is not None
    result = run(runner, "delete-program", str(attached.empty_id), input="y\n")
    assert result.exit_code == 0, result.output
    session.rollback()
    assert session.get(LoyaltyProgram, attached.empty_id) is None


def test_delete_database_takes_its_profiles_and_revokes_tokens_limited_to_it(
    runner, session, client, attached
):
    result = run(runner, "delete-database", str(attached.other_db_id), "--yes")
    assert result.exit_code == 0, result.output
    assert "1 profiles, 0 attachments" in result.output
    assert "Revoked token 'other only'" in result.output
    # Left with no database, it would have been allowed every database: it is refused instead.
    status, envelope = call(
        client,
        "attach",
        {"token": attached.limited_token, "db_id": attached.db_id, "loyalty_id": 1, "email": "x"},
    )
    assert (status, envelope["error_text"]) == (401, "Invalid API token")

    result = run(runner, "delete-database", str(attached.db_id), "--yes")
    assert result.exit_code == 0, result.output
    assert "4 profiles, 2 attachments" in result.output
    assert count(session, Database) == 0
    assert count(session, Profile) == 0
    assert count(session, Attachment) == 0
    # The personal code given to alice stays given out; the others are still free.
    assert count(session, PromoCode, PromoCode.free.is_(True)) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["delete-program", "999", "--yes"], "Loyalty program not found"),
        (["delete-database", "999", "--yes"], "Database not found"),
        (["delete-admin", "nobody", "--yes"], "No admin is named 'nobody'."),
        (["rename-program", "999", "New"], "Loyalty program not found"),
        (["rename-program", "1", "  "], "A program name has 1 to 255 characters."),
        (["set-expiry", "1", "tomorrow"], "Not a date: 'tomorrow'"),
        (["set-expiry", "999", "2030-01-01"], "Loyalty program not found"),
    ],
)
def test_bad_administration_input_is_one_line_and_exit_1(runner, attached, args, message):
    result = run(runner, *args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_rename_program_and_set_expiry(runner, session, client, attached):
    result = run(runner, "rename-program", str(attached.personal_id), "Welcome 15%")
    assert result.exit_code == 0, result.output
    assert session.get(LoyaltyProgram, attached.personal_id).name == "Welcome 15%"

    result = run(runner, "set-expiry", str(attached.personal_id), "2000-01-01")
    assert result.exit_code == 0, result.output
    assert "3 codes of program" in result.output
    params = {"token": attached.token, "db_id": attached.db_id, "email": "bob@example.com"}
    status, envelope = call(client, "attach", {**params, "loyalty_id": attached.personal_id})
    assert (status, envelope["error_text"]) == (409, "No promo codes available")

    assert run(runner, "set-expiry", str(attached.personal_id), "never").exit_code == 0
    status, _ = call(client, "attach", {**params, "loyalty_id": attached.personal_id})
    assert status == 200


def stats(runner, *args: str):
    return run(runner, "stats", *args)


def test_stats_check_exits_2_when_a_program_is_empty_and_names_it(runner, attached):
    result = stats(runner, "--check")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        f"LOW program {attached.personal_id} 'Welcome': 2 free codes left (threshold 100).",
        f"EMPTY program {attached.empty_id} 'Empty': no free codes left; attach calls without a "
        "code answer 'No promo codes available'.",
    ]
    pools = {row["name"]: row["pool"] for row in json.loads(stats(runner, "--json").output)}
    assert pools == {"Welcome": "low", "Summer sale": "ok", "Empty": "empty"}


def test_stats_check_exits_1_when_only_low_and_0_when_all_are_full(runner, app, client, attached):
    assert run(runner, "delete-program", str(attached.empty_id), "--yes").exit_code == 0
    result = stats(runner, "--check")
    assert result.exit_code == 1
    assert result.output.startswith(f"LOW program {attached.personal_id} 'Welcome'")
    app.config["PROMO_LOW_CODES_THRESHOLD"] = 2
    result = stats(runner, "--check")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Every personal program has at least 2 free codes."
    # One more attach takes the pool below the threshold: the next check says so.
    params = {"token": attached.token, "db_id": attached.db_id, "email": "bob@example.com"}
    assert call(client, "attach", {**params, "loyalty_id": attached.personal_id})[0] == 200
    result = stats(runner, "--check")
    assert result.exit_code == 1
    assert "1 free codes left (threshold 2)" in result.output
