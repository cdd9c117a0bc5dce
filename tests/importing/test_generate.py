"""Generating codes into a program through the import engine: exactly the count asked for,
none colliding with the program's codes, nothing written when the pattern is refused."""

from __future__ import annotations

from datetime import datetime
from itertools import product

import pytest
from sqlalchemy import func, select

from promo_app.generating import writing
from promo_app.generating.patterns import Pattern, PatternError
from promo_app.generating.writing import generate_codes
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import LoyaltyProgram, PromoCode


@pytest.fixture
def program(session) -> LoyaltyProgram:
    program = LoyaltyProgram(name="Spring", universal=False)
    session.add(program)
    session.commit()
    return program


def codes_of(session, program) -> dict[str, PromoCode]:
    rows = session.scalars(select(PromoCode).where(PromoCode.loyalty_id == program.id))
    return {row.code: row for row in rows}


def run(reports) -> list:
    return [(report.inserted, report.redrawn) for report in reports]


def test_generates_the_count_asked_for_with_the_expiry(session, program):
    expiry = datetime(2031, 1, 31, 23, 59, 59)
    steps = run(
        generate_codes(
            session, program, Pattern("****-****", "SPRING-"), 2500, expire_date=expiry, step=1000
        )
    )
    session.commit()
    assert [inserted for inserted, _ in steps] == [1000, 2000, 2500]
    codes = codes_of(session, program)
    assert len(codes) == 2500
    assert all(code.startswith("SPRING-") and len(code) == 16 for code in codes)
    assert {row.expire_date for row in codes.values()} == {expiry}
    assert all(row.free and not row.universal for row in codes.values())


def test_never_collides_with_the_programs_codes(session, program):
    # 5**5 = 3,125 codes; the program has 300 of them: 12 more fit with room to spare.
    pattern = Pattern("#####", "X")
    existing = ["X" + "".join(digits) for digits in product("34679", repeat=5)][:300]
    import_codes(session, program, [ImportLine(n, code) for n, code in enumerate(existing)])
    session.commit()
    before = {row.code: (row.id, row.created) for row in codes_of(session, program).values()}
    [last, *_] = reversed(list(generate_codes(session, program, pattern, 12, force=True)))
    session.commit()
    after = codes_of(session, program)
    assert last.inserted == 12 and len(after) == 312
    # The old codes are untouched; the new ones are all new.
    assert {code: (after[code].id, after[code].created) for code in before} == before
    assert len(set(after) - set(before)) == 12


def test_redraws_the_codes_the_program_had_and_those_drawn_twice(session, program, monkeypatch):
    import_codes(session, program, [ImportLine(1, "OLD-1"), ImportLine(2, "OLD-2")])
    session.commit()
    real = writing.draw_codes
    draws = iter(["OLD-1", "NEW-1", "NEW-1", "OLD-2"])

    def first_the_old_ones(pattern, count):
        for _ in range(count):
            yield next(draws, None) or next(real(pattern, 1))

    monkeypatch.setattr(writing, "draw_codes", first_the_old_ones)
    steps = generate_codes(session, program, Pattern("*******"), 4, keep_codes=True)
    seen = [(step.inserted, step.redrawn, list(step.codes)) for step in steps]
    session.commit()
    # The first step drew 4 and got 1 new code; the next drew the 3 still missing.
    assert [(inserted, redrawn) for inserted, redrawn, _ in seen] == [(1, 3), (4, 3)]
    codes = set(codes_of(session, program))
    assert "NEW-1" in codes and len(codes) == 2 + 4
    assert set(seen[-1][2]) == codes - {"OLD-1", "OLD-2"}


def test_redraws_what_it_drew_twice(session, program):
    # A 10-code pattern (forced) asked for its whole room of 1: drawn until it is new.
    reports = list(generate_codes(session, program, Pattern("#", alphabet="full"), 1, force=True))
    session.commit()
    assert reports[-1].inserted == 1 and len(codes_of(session, program)) == 1


def test_keeps_the_codes_it_inserted_when_asked(session, program):
    [report] = generate_codes(session, program, Pattern("*******"), 50, keep_codes=True)
    session.commit()
    assert len(report.codes) == 50 and set(report.codes) == set(codes_of(session, program))


@pytest.mark.parametrize(
    ("pattern", "count", "force", "field", "message"),
    [
        (Pattern("####"), 63, True, "count", "can make 625 codes"),
        (Pattern("******"), 10, False, "pattern", "27.9 bits"),
        (Pattern("*******"), 0, False, "count", "at least one code"),
    ],
)
def test_a_refusal_writes_nothing(session, program, pattern, count, force, field, message):
    with pytest.raises(PatternError, match=message) as refused:
        generate_codes(session, program, pattern, count, force=force)
    assert refused.value.field == field
    session.rollback()
    assert session.scalar(select(func.count()).select_from(PromoCode)) == 0
