"""`flask promo generate-codes`: new codes from a pattern, a progress bar, one-line refusals."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from promo_app.models import LoyaltyProgram, PromoCode


def run(runner, *args: str):
    return runner.invoke(args=["promo", "generate-codes", *args])


@pytest.fixture
def loyalty_id(session) -> int:
    program = LoyaltyProgram(name="Autumn", universal=False)
    session.add(program)
    session.commit()
    return program.id


def codes(session, loyalty_id: int) -> list[PromoCode]:
    session.rollback()
    return list(session.scalars(select(PromoCode).where(PromoCode.loyalty_id == loyalty_id)))


def test_generates_codes_with_prefix_and_expiry(runner, session, loyalty_id):
    result = run(
        runner,
        "--loyalty-id", str(loyalty_id), "--count", "300", "--pattern", "****-****",
        "--prefix", "AUT-", "--expire-date", "2031-10-31",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Inserted 300 codes into loyalty program {loyalty_id}" in result.output
    assert "Generating" in result.output  # the progress bar
    made = codes(session, loyalty_id)
    assert len(made) == 300 and len({row.code for row in made}) == 300
    assert all(row.code.startswith("AUT-") and len(row.code) == 13 for row in made)
    assert {row.expire_date for row in made} == {datetime(2031, 10, 31, 23, 59, 59)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "10", "--pattern", "SALE"], "at least one placeholder"),
        (["--count", "100", "--pattern", "###", "--force"], "can make 125 codes"),
        (["--count", "10", "--pattern", "#####"], "bits of randomness"),
        (["--count", "10", "--pattern", "*******", "--expire-date", "soon"], "Not a date"),
    ],
)
def test_a_refusal_is_one_line_and_writes_nothing(runner, session, loyalty_id, args, message):
    result = run(runner, "--loyalty-id", str(loyalty_id), *args)
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert codes(session, loyalty_id) == []


def test_an_unknown_program_is_one_line(runner, session):
    result = run(runner, "--loyalty-id", "999", "--count", "5", "--pattern", "*******")
    assert result.exit_code == 1 and "Loyalty program not found" in result.output
    assert session.scalar(select(func.count()).select_from(PromoCode)) == 0
