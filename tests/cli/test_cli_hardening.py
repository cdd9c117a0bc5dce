"""The CLI under careless input: one line and exit 1 (or a reported line), never a traceback."""

from __future__ import annotations

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
