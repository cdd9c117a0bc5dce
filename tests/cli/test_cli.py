"""`flask promo ...`: what a shop owner does from a shell."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from promo_app.models import ApiToken, Database, LoyaltyProgram, Profile, PromoCode
from promo_app.tokens import hash_token
from tests.helpers import call


def run(runner, *args: str, input: str | None = None):
    result = runner.invoke(args=["promo", *args], input=input)
    return result


def last_line(result) -> str:
    return result.output.strip().splitlines()[-1]


def test_create_database_program_and_token_print_what_scripts_need(runner, session):
    result = run(runner, "create-database", "Shop", "--custom-field", "card")
    assert result.exit_code == 0, result.output
    db_id = int(last_line(result))
    result = run(runner, "create-program", "Welcome")
    loyalty_id = int(last_line(result))
    result = run(runner, "create-program", "Sale", "--universal")
    assert "universal" in result.output
    result = run(runner, "create-token", "shop-site", "--db-id", str(db_id))
    secret = last_line(result)

    database = session.get(Database, db_id)
    assert [field.name for field in database.custom_fields] == ["card"]
    assert session.get(LoyaltyProgram, loyalty_id).universal is False
    token = session.scalar(select(ApiToken).where(ApiToken.name == "shop-site"))
    assert token.token_hash == hash_token(secret)
    assert secret not in token.token_hash
    assert [scope.db_id for scope in token.scopes] == [db_id]


def test_token_for_unknown_database_is_refused(runner):
    result = run(runner, "create-token", "x", "--db-id", "42")
    assert result.exit_code == 1
    assert "Database not found" in result.output


def test_revoked_token_stops_working(runner, client, shop):
    body = {
        "token": shop.token,
        "db_id": shop.db_id,
        "loyalty_id": shop.personal_id,
        "email": "bob@example.com",
    }
    assert call(client, "attach", body)[0] == 200
    assert run(runner, "revoke-token", "shop").exit_code == 0
    assert call(client, "attach", body)[1]["error_text"] == "Invalid API token"
    assert run(runner, "revoke-token", "nobody").exit_code == 1


def test_import_profiles_keeps_good_rows_and_reports_bad_ones(runner, tmp_path, session, shop):
    file = tmp_path / "profiles.csv"
    file.write_text(
        "\ufeffemail,phone,card\r\n"
        "new1@example.com,+7 900 111-11-11,501\r\n"
        ",,\r\n"
        "new2@example.com,,\r\n"
        ",,502,extra\r\n"
        ",+79001111113,\r\n",
        encoding="utf-8",
    )
    before = session.scalar(select(func.count()).select_from(Profile))
    session.rollback()
    result = run(runner, "import-profiles", str(file), "--db-id", str(shop.db_id))
    assert result.exit_code == 0, result.output
    assert "Added 3 profiles" in result.output
    assert "line 5: more cells than the header has columns" in result.output
    assert session.scalar(select(func.count()).select_from(Profile)) == before + 3
    found = session.scalar(select(Profile).where(Profile.phone_key == "+79001111111"))
    assert found.email == "new1@example.com"
    assert [value.value for value in found.field_values] == ["501"]


def test_import_profiles_refuses_undeclared_columns(runner, tmp_path, shop):
    file = tmp_path / "profiles.csv"
    file.write_text("email,shoe_size\na@example.com,9\n")
    result = run(runner, "import-profiles", str(file), "--db-id", str(shop.db_id))
    assert result.exit_code == 1
    assert "shoe_size" in result.output


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("codes.txt", "\ufeffA-1\r\nA-2\r\n\r\nA-1\r\nFREE-1\r\nBAD\u0007CODE\r\n   \r\nA-3"),
        (
            "codes.csv",
            "id,code,expire_date\n1,A-1,\n2,A-2,2030-01-31\n3,A-1,\n4,FREE-1,\n"
            "5,BAD\u0007CODE,\n6,A-3,2030-01-31T10:00:00+02:00\n7,A-4,soon\n",
        ),
    ],
)
def test_import_codes_reports_inserted_duplicated_invalid(
    runner, tmp_path, session, shop, name, content
):
    file = tmp_path / name
    file.write_text(content, encoding="utf-8")
    result = run(runner, "import-codes", str(file), "--loyalty-id", str(shop.personal_id))
    assert result.exit_code == 0, result.output
    invalid = 2 if name.endswith(".csv") else 1
    assert f"Inserted 3, duplicated 2, invalid {invalid}." in last_line(result)
    assert "line 4: duplicated: 'A-1'" in result.output or "line 5: duplicated" in result.output
    codes = session.scalars(
        select(PromoCode.code).where(PromoCode.loyalty_id == shop.personal_id)
    ).all()
    assert sorted(codes) == ["A-1", "A-2", "A-3", "FREE-1", "FREE-2", "FREE-3"]
    if name.endswith(".csv"):
        expiry = session.scalar(select(PromoCode.expire_date).where(PromoCode.code == "A-3"))
        assert expiry.isoformat() == "2030-01-31T08:00:00"


def test_import_codes_refuses_a_file_that_is_not_utf8_and_imports_nothing(
    runner, tmp_path, session, shop
):
    file = tmp_path / "codes.txt"
    file.write_bytes("GOOD-1\nCAFÉ\n".encode("latin-1"))
    result = run(runner, "import-codes", str(file), "--loyalty-id", str(shop.personal_id))
    assert result.exit_code == 1
    assert "not UTF-8" in result.output
    assert session.scalar(select(PromoCode).where(PromoCode.code == "GOOD-1")) is None


def test_import_universal_codes(runner, tmp_path, session, shop):
    file = tmp_path / "codes.txt"
    file.write_text("U-1\n")
    run(runner, "import-codes", str(file), "--loyalty-id", str(shop.personal_id), "--universal")
    code = session.scalar(select(PromoCode).where(PromoCode.code == "U-1"))
    assert (code.universal, code.free) == (True, False)


def test_demo_creates_a_shop_once_and_prints_a_working_curl(app, runner, client, session):
    first = run(runner, "demo")
    assert first.exit_code == 0, first.output
    assert "Created the demo shop" in first.output
    second = run(runner, "demo")
    assert "Created" not in second.output
    curl = last_line(second)
    assert curl.startswith("curl -s -X POST http://127.0.0.1:5000/api/v1.1/promocodes/attach")
    body = curl.split(" -d ", 1)[1].strip("'")
    response = client.post(
        "/api/v1.1/promocodes/attach", data=body, content_type="application/json"
    )
    assert response.get_json()["data"]["code"] == "WELCOME-0001"
    assert session.scalar(select(func.count()).select_from(Database)) == 1


def test_import_codes_with_a_small_batch_size_reports_repeats_across_batches(
    runner, tmp_path, session, shop
):
    file = tmp_path / "codes.txt"
    file.write_text("B-1\nB-2\nFREE-1\nB-1\nB-3\n")
    result = run(
        runner,
        "import-codes",
        str(file),
        "--loyalty-id",
        str(shop.personal_id),
        "--batch-size",
        "2",
    )
    assert "Inserted 3, duplicated 2, invalid 0." in last_line(result)
    assert "line 3: duplicated: 'FREE-1': Already in the loyalty program." in result.output
    assert "line 4: duplicated: 'B-1': Duplicated earlier in this import." in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create-database", "Shop"), "A database named 'Shop' exists already"),
        (("create-database", "   "), "A database name has 1 to 255 characters."),
        (("create-database", "New", "--custom-field", " "), "custom field's name has 1 to 255"),
        (("create-program", "   "), "A program name has 1 to 255 characters."),
        (("create-token", "  "), "A token name has 1 to 255 characters."),
        (("create-token", "shop"), "A token named 'shop' exists already."),
    ],
)
def test_a_command_refused_says_why_in_one_line_and_changes_nothing(
    runner, session, shop, args, message
):
    counts = [session.scalar(select(func.count()).select_from(t)) for t in TABLES]
    session.rollback()
    result = run(runner, *args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert [session.scalar(select(func.count()).select_from(t)) for t in TABLES] == counts


TABLES = (Database, LoyaltyProgram, ApiToken)


def test_import_profiles_again_updates_them_and_reports_each_refused_line(
    runner, tmp_path, session, shop
):
    file = tmp_path / "profiles.csv"
    file.write_text(
        "email,phone,card\n"
        "again@example.com,+79001112200,1\n"
        "twin@example.com,,\n"
        "bob@example.com,+7 900 111-22-00,\n",
        encoding="utf-8",
    )
    before = session.scalar(select(func.count()).select_from(Profile))
    session.rollback()
    first = run(runner, "import-profiles", str(file), "--db-id", str(shop.db_id))
    assert first.exit_code == 0, first.output
    assert first.output.startswith("Importing")  # the progress bar, before the report
    assert "Added 1 profiles to database 1 and updated 0; 2 lines were not valid." in first.output
    assert "line 3: Several profiles match." in first.output
    assert "line 4: Several profiles match. data.phone: Another profile" in first.output
    second = run(runner, "import-profiles", str(file), "--db-id", str(shop.db_id))
    assert "Added 0 profiles to database 1 and updated 1; 2 lines" in second.output
    assert session.scalar(select(func.count()).select_from(Profile)) == before + 1
    session.rollback()

    by_card = tmp_path / "cards.csv"
    by_card.write_text("card,email\n1001,alice@cards.example\n", encoding="utf-8")
    result = run(runner, "import-profiles", str(by_card), "--db-id", "1", "--match", "card")
    assert "Added 0 profiles to database 1 and updated 1; 0 lines" in result.output
    alice = session.scalar(select(Profile).where(Profile.profile_id == shop.profiles["alice"]))
    assert alice.email_key == "alice@cards.example"
    session.rollback()

    result = run(runner, "import-profiles", str(by_card), "--db-id", "1", "--match", "nope")
    assert (result.exit_code, last_line(result)) == (
        1,
        "Error: --match 'nope': not email, phone or a custom field.",
    )
