"""`flask promo add-field / remove-field`: a custom field for a database that already has
profiles, usable by the next call; refusals in one line, nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from promo_app.models import CustomField, ProfileFieldValue
from tests.api.profile_calls import profiles, stored
from tests.helpers import call


def run(runner, *args: str, input: str | None = None):
    return runner.invoke(args=["promo", *args], input=input)


def fields_of(session, db_id: int) -> list[str]:
    names = session.scalars(
        select(CustomField.name).where(CustomField.db_id == db_id).order_by(CustomField.id)
    ).all()
    session.rollback()
    return list(names)


def test_an_added_field_is_imported_and_matched_by_at_once(runner, client, session, shop):
    result = run(runner, "add-field", str(shop.db_id), " user_id ")
    assert result.exit_code == 0, result.output
    assert "Database 1 has a new custom field 'user_id'." in result.output
    assert fields_of(session, shop.db_id) == ["card", "user_id"]

    status, body = profiles(
        client,
        "import",
        {
            "token": shop.token,
            "db_id": shop.db_id,
            "email": "bob@example.com",
            "data": {"user_id": "u-42"},
        },
    )
    assert (status, body["data"]["profile_id"]) == (200, shop.profiles["bob"])
    assert stored(session, shop.profiles["bob"])["fields"] == {"user_id": "u-42"}
    status, body = call(
        client,
        "attach",
        {
            "token": shop.token,
            "db_id": shop.db_id,
            "loyalty_id": shop.personal_id,
            "field_name": "user_id",
            "field_value": "u-42",
        },
    )
    assert (status, body["data"]["profile_id"]) == (200, shop.profiles["bob"])


def test_a_file_can_match_by_an_added_field(runner, tmp_path, session, shop):
    assert run(runner, "add-field", str(shop.db_id), "user_id").exit_code == 0
    file = tmp_path / "people.csv"
    file.write_text("user_id,email\nu-1,bob@example.com\nu-2,new@example.com\n")
    result = run(runner, "import-profiles", str(file), "--db-id", str(shop.db_id))
    assert "Added 1 profiles to database 1 and updated 1; 0 lines" in result.output
    by_id = tmp_path / "by-id.csv"
    by_id.write_text("user_id,phone\nu-1,+7 900 555-00-01\n")
    result = run(runner, "import-profiles", str(by_id), "--db-id", "1", "--match", "user_id")
    assert "Added 0 profiles to database 1 and updated 1; 0 lines" in result.output
    assert stored(session, shop.profiles["bob"])["phone_key"] == "+79005550001"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1", " "), "Error: A custom field's name has 1 to 255 characters."),
        (("1", "x" * 256), "Error: A custom field's name has 1 to 255 characters."),
        (("1", "card"), "Error: The custom field 'card' is there already."),
        (
            ("1", "Email"),
            "Error: 'Email' cannot be a custom field's name: email, phone, "
            "profile_id are built in.",
        ),
        (
            ("1", "phone"),
            "Error: 'phone' cannot be a custom field's name: email, phone, "
            "profile_id are built in.",
        ),
        (
            ("1", "profile_id"),
            "Error: 'profile_id' cannot be a custom field's name: email, "
            "phone, profile_id are built in.",
        ),
        (("42", "user_id"), "Error: Database not found."),
    ],
)
def test_add_field_refuses_in_one_line_and_changes_nothing(runner, session, shop, args, message):
    result = run(runner, "add-field", *args)
    assert (result.exit_code, result.output.strip()) == (1, message)
    assert fields_of(session, shop.db_id) == ["card"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (("card", "card"), "Error: The custom field 'card' is there already."),
        (("email",), "Error: 'email' cannot be a custom field's name"),
        ((" ",), "Error: A custom field's name has 1 to 255 characters."),
    ],
)
def test_create_database_refuses_the_same_names(runner, session, fields, message):
    options = [part for name in fields for part in ("--custom-field", name)]
    result = run(runner, "create-database", "New", *options)
    assert result.exit_code == 1
    assert result.output.strip().startswith(message)
    assert len(result.output.strip().splitlines()) == 1


def values_of(session, name: str) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(ProfileFieldValue)
        .join(CustomField)
        .where(CustomField.name == name)
    )
    session.rollback()
    return count


def test_remove_field_refuses_while_profiles_hold_values_unless_forced(runner, session, shop):
    held = values_of(session, "card")
    assert held > 0
    result = run(runner, "remove-field", "1", "card", "--yes")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {held} profiles of database 1 hold a value of 'card': removing it would "
        "delete those values. Give --force to remove them too."
    )
    assert fields_of(session, shop.db_id) == ["card"]
    assert values_of(session, "card") == held

    result = run(runner, "remove-field", "1", "card", "--force", input="n\n")
    assert result.exit_code == 1
    assert fields_of(session, shop.db_id) == ["card"]

    result = run(runner, "remove-field", "1", "card", "--force", input="y\n")
    assert result.exit_code == 0, result.output
    assert f"Removed custom field 'card' and {held} values of it from database 1." in (
        result.output
    )
    assert fields_of(session, shop.db_id) == []
    assert values_of(session, "card") == 0
    assert stored(session, shop.profiles["alice"])["fields"] == {}


def test_remove_an_unused_field_and_an_unknown_one(runner, client, session, shop):
    assert run(runner, "add-field", "1", "user_id").exit_code == 0
    result = run(runner, "remove-field", "1", "user_id", "--yes")
    assert result.exit_code == 0, result.output
    assert "Removed custom field 'user_id' from database 1." in result.output
    assert fields_of(session, shop.db_id) == ["card"]
    status, body = profiles(
        client,
        "import",
        {"token": shop.token, "db_id": 1, "email": "bob@example.com", "data": {"user_id": "1"}},
    )
    assert (status, body["error_text"]) == (400, "Incorrect request")

    result = run(runner, "remove-field", "1", "user_id", "--yes")
    assert (result.exit_code, result.output.strip()) == (
        1,
        "Error: Database 1 has no custom field 'user_id'; it has ['card'].",
    )
