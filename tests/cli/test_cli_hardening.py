"""The CLI under careless input: one line and exit 1 (or a reported line), never a traceback."""

from __future__ import annotations

import tracemalloc

import pytest
from sqlalchemy import select

from promo_app.models import LoyaltyProgram, PromoCode


def test_import_codes_reports_an_expire_date_out_of_range_as_a_line(runner, session, tmp_path):
    program = LoyaltyProgram(name="Welcome", universal=False)
    session.add(program)
    session.commit()
    loyalty_id = program.id
    path = tmp_path / "codes.csv"
    path.write_text("code,expire_date\nGOOD,2030-01-01\nFAR,9999-12-31T23:59:59-23:59\n")
    result = runner.invoke(
        args=["promo", "import-codes", str(path), "--loyalty-id", str(loyalty_id)]
    )
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert "line 3" in result.output
    assert "outside the years 1 to 9999" in result.output
    assert "Inserted 1, duplicated 0, invalid 1." in result.output
    session.rollback()
    assert session.scalars(select(PromoCode.code)).all() == ["GOOD"]


def test_an_id_past_the_largest_is_one_line(runner, tmp_path):
    path = tmp_path / "codes.txt"
    path.write_text("A\n")
    result = runner.invoke(args=["promo", "import-codes", str(path), "--loyalty-id", "9" * 30])
    assert result.exit_code != 0
    assert not isinstance(result.exception, OverflowError | ValueError)
    assert "Traceback" not in result.output


@pytest.mark.parametrize("filename", ["codes.txt", "codes.csv"])
def test_import_codes_reports_a_20_mb_line_without_holding_it(runner, session, tmp_path, filename):
    program = LoyaltyProgram(name="Welcome", universal=False)
    session.add(program)
    session.commit()
    loyalty_id = program.id
    path = tmp_path / filename
    with open(path, "wb") as file:
        file.write(b"code\nGOOD-1\n" if filename.endswith(".csv") else b"GOOD-1\n")
        for _ in range(20):
            file.write(b"x" * 2**20)
        file.write(b"\nGOOD-2\n")
    line = 3 if filename.endswith(".csv") else 2
    tracemalloc.start()
    try:
        result = runner.invoke(
            args=["promo", "import-codes", str(path), "--loyalty-id", str(loyalty_id)]
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, result.output
    assert f"line {line}: invalid: 'xxxxxxxxxx" in result.output
    assert "too long for a code" in result.output
    assert "Inserted 2, duplicated 0, invalid 1." in result.output
    assert peak < 10 * 2**20  # the line alone would be 20 MiB and more
    session.rollback()
    assert sorted(session.scalars(select(PromoCode.code)).all()) == ["GOOD-1", "GOOD-2"]
