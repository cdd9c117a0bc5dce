"""Importing codes batch by batch: each line's outcome, whichever way its batch was written.

A batch is normally one lookup and one insert of its new codes (executemany on SQLite, COPY
on PostgreSQL); when a concurrent writer adds one of them in between, the batch is written
again the exact way. Either way the report and the rows are the same.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert, select, text

from promo_app.importing import batches as engine_module
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine, ImportReport
from promo_app.models import LoyaltyProgram, PromoCode
from promo_app.page.queries import program_summaries
from promo_app.times import utcnow


def mixed_lines() -> list[ImportLine]:
    """Lines with every outcome, spread over batches of 3: repeats within a batch and
    across batches, codes the program had, invalid codes and expiry dates."""
    return [
        ImportLine(1, "OLD-1"),
        ImportLine(2, " A "),
        ImportLine(3, "B", expire_date=datetime(2030, 1, 1, 23, 59, 59)),
        ImportLine(4, "A"),
        ImportLine(5, "   "),
        ImportLine(6, "C", expire_date=datetime(2031, 5, 6, 7, 8, 9, 123456)),
        ImportLine(7, "B"),
        ImportLine(8, "OLD-2"),
        ImportLine(9, "D"),
        ImportLine(10, "x" * 256),
        ImportLine(11, "E", problem="Not a date: 'soon'."),
        ImportLine(12, "OLD-1"),
        ImportLine(13, "F"),
    ]


def lines_new_first() -> list[ImportLine]:
    """Lines whose first batches have no code of the program, only repeats of their own."""
    lines = [ImportLine(1, "A"), ImportLine(2, "A"), ImportLine(3, "B")]
    lines += [ImportLine(4, "C"), ImportLine(5, "B"), ImportLine(6, "D")]
    return [*lines, ImportLine(7, "OLD-2"), ImportLine(8, "E"), ImportLine(9, "A")]


def new_program(session, name: str, universal: bool) -> LoyaltyProgram:
    program = LoyaltyProgram(name=name, universal=universal)
    session.add(program)
    session.flush()
    import_codes(session, program, [ImportLine(1, "OLD-1"), ImportLine(2, "OLD-2")])
    session.commit()
    return program


def outcome(report: ImportReport) -> tuple:
    return report.inserted, report.duplicated, report.invalid, report.problems


def stored(session, program_id: int) -> list[tuple]:
    """The program's rows as the database holds them (SQLite's text, not parsed)."""
    return session.execute(
        text(
            "SELECT code, universal, free, expire_date FROM promo_code"
            " WHERE loyalty_id = :program ORDER BY id"
        ),
        {"program": program_id},
    ).all()


def write_exactly(self, batch: list[ImportLine]) -> None:
    engine_module._insert_exactly(
        self.session, self.program_id, batch, self.universal, self.first_new_id, self.report
    )


@pytest.mark.parametrize(
    ("universal", "make_lines", "expected"),
    [
        (False, mixed_lines, (5, 5, 3)),
        (True, mixed_lines, (5, 5, 3)),
        (False, lines_new_first, (5, 4, 0)),
    ],
)
def test_a_batch_written_by_executemany_reports_as_the_exact_way(
    session, shop, monkeypatch, universal, make_lines, expected
):
    fast = new_program(session, "Fast", universal)
    fast_report = import_codes(session, fast, make_lines(), insert_size=3)
    session.commit()
    monkeypatch.setattr(engine_module._BatchWriter, "insert", write_exactly)
    exact = new_program(session, "Exact", universal)
    exact_report = import_codes(session, exact, make_lines(), insert_size=3)
    session.commit()

    assert outcome(fast_report) == outcome(exact_report)
    assert outcome(fast_report)[:3] == expected
    assert stored(session, fast.id) == stored(session, exact.id)
    if make_lines is lines_new_first:
        return
    # Invalid lines are recorded as they are read, duplicates when their batch is written.
    assert sorted((line, message) for line, _code, _outcome, message in fast_report.problems) == [
        (1, "Already in the loyalty program."),
        (4, "Duplicated earlier in this import."),
        (5, "A promo code must not be empty."),
        (7, "Duplicated earlier in this import."),
        (8, "Already in the loyalty program."),
        (10, "A promo code has at most 255 characters."),
        (11, "Not a date: 'soon'."),
        (12, "Already in the loyalty program."),
    ]
    assert [row.code for row in stored(session, fast.id)] == ["OLD-1", "OLD-2", *"ABCDF"]
    rows = session.scalars(select(PromoCode).where(PromoCode.loyalty_id == fast.id)).all()
    expiry = {row.code: row.expire_date for row in rows}
    assert expiry["B"] == datetime(2030, 1, 1, 23, 59, 59)
    assert expiry["C"] == datetime(2031, 5, 6, 7, 8, 9, 123456)
    assert {(row.universal, row.free) for row in rows} == {(universal, not universal)}
    assert all(abs((utcnow() - row.created).total_seconds()) < 60 for row in rows)


def test_a_batch_whose_lookup_missed_a_code_is_written_again_the_exact_way(
    session, shop, monkeypatch
):
    # As if each code of the program had been added after the lookup: the lookup finds none.
    # On SQLite the batch's second insert runs under the write lock the first one took, and
    # is told apart after the fact instead of written again.
    for name, query in list(engine_module._EXISTING_CODES.items()):
        blind = query.where(PromoCode.__table__.c.loyalty_id == -1)
        monkeypatch.setitem(engine_module._EXISTING_CODES, name, blind)
    exact_batches = spy_on_exact_writes(monkeypatch)
    program = session.get_one(LoyaltyProgram, shop.personal_id)
    lines = [ImportLine(1, "FREE-1"), ImportLine(2, "NEW-1"), ImportLine(3, "NEW-1")]
    lines += [ImportLine(4, "FREE-2"), ImportLine(5, "NEW-2"), ImportLine(6, "NEW-3")]
    report = import_codes(session, program, lines, insert_size=5)
    session.commit()

    on_sqlite = session.get_bind(PromoCode).dialect.name == "sqlite"
    assert exact_batches == ([] if on_sqlite else [["FREE-1", "NEW-1", "NEW-1", "FREE-2", "NEW-2"]])
    assert outcome(report) == (
        3,
        3,
        0,
        [
            (1, "FREE-1", "duplicated", "Already in the loyalty program."),
            (3, "NEW-1", "duplicated", "Duplicated earlier in this import."),
            (4, "FREE-2", "duplicated", "Already in the loyalty program."),
        ],
    )
    assert codes_of(session, program.id) == ["FREE-1", "FREE-2", "FREE-3", *new_codes(3)]


def test_a_code_another_writer_adds_between_lookup_and_insert_is_not_lost_or_counted_twice(
    session, engine, shop, monkeypatch
):
    program = session.get_one(LoyaltyProgram, shop.personal_id)
    program_id = program.id
    session.commit()  # on SQLite the other writer could not write while this one held the lock
    exact_batches = spy_on_exact_writes(monkeypatch)
    insert_all = engine_module._BatchWriter._insert_all

    def insert_after_a_rival(self, rows):
        if any(row[1] == "NEW-5" for row in rows):
            # Another connection, as another import or an attach would be, commits one of
            # the batch's codes after the lookup saw it missing.
            with engine.begin() as other:
                other.execute(insert(PromoCode), {"loyalty_id": program_id, "code": "NEW-5"})
        return insert_all(self, rows)

    monkeypatch.setattr(engine_module._BatchWriter, "_insert_all", insert_after_a_rival)
    # FREE-1, which the program has, makes the batches look their codes up before they
    # insert; the first batch's lookup runs after its first try, the next ones' first.
    lines = [ImportLine(1, "FREE-1"), *(ImportLine(n, f"NEW-{n - 1}") for n in range(2, 8))]
    lines += [ImportLine(8, "NEW-1"), ImportLine(9, "NEW-7")]
    report = import_codes(
        session, program, lines, batch_size=4, after_batch=lambda _report: session.commit()
    )

    assert exact_batches == [["NEW-4", "NEW-5", "NEW-6", "NEW-1"]]
    assert (report.inserted, report.duplicated, report.invalid) == (6, 3, 0)
    assert [(line, what) for line, _code, what, _message in report.problems] == [
        (1, "duplicated"),
        (6, "duplicated"),
        (8, "duplicated"),
    ]
    assert report.problems[0][3] == "Already in the loyalty program."
    assert report.problems[2][3] == "Duplicated earlier in this import."
    assert codes_of(session, program_id) == [
        *(f"FREE-{n}" for n in range(1, 4)),
        *("NEW-1", "NEW-2", "NEW-3", "NEW-5", "NEW-4", "NEW-6", "NEW-7"),
    ]


def test_an_insert_under_the_write_lock_that_meets_old_codes_keeps_its_new_ones(
    session, shop, monkeypatch
):
    program = new_program(session, "Under the lock", False)
    savepoint_inserts = []
    insert_all = engine_module._BatchWriter._insert_all

    def spy(self, rows):
        savepoint_inserts.append([row[1] for row in rows])
        return insert_all(self, rows)

    monkeypatch.setattr(engine_module._BatchWriter, "_insert_all", spy)
    lines = [ImportLine(1, "NEW-1"), ImportLine(2, "NEW-2"), ImportLine(3, "NEW-3")]
    lines += [ImportLine(4, "OLD-1"), ImportLine(5, "NEW-1"), ImportLine(6, "NEW-4")]
    lines += [ImportLine(7, "OLD-2"), ImportLine(8, "NEW-5")]
    report = import_codes(session, program, lines, insert_size=3)  # one transaction
    session.commit()

    assert outcome(report) == (
        5,
        3,
        0,
        [
            (4, "OLD-1", "duplicated", "Already in the loyalty program."),
            (5, "NEW-1", "duplicated", "Duplicated earlier in this import."),
            (7, "OLD-2", "duplicated", "Already in the loyalty program."),
        ],
    )
    assert codes_of(session, program.id) == ["OLD-1", "OLD-2", *new_codes(5)]
    if session.get_bind(PromoCode).dialect.name == "sqlite":
        # Only the transaction's first insert needed a savepoint: it took the write lock.
        assert savepoint_inserts == [["NEW-1", "NEW-2", "NEW-3"]]


def spy_on_exact_writes(monkeypatch) -> list[list[str]]:
    """Record the codes of every batch written the exact way."""
    batches: list[list[str]] = []
    exactly = engine_module._insert_exactly

    def spy(session, program_id, batch, *args):
        batches.append([item.raw for item in batch])
        return exactly(session, program_id, batch, *args)

    monkeypatch.setattr(engine_module, "_insert_exactly", spy)
    return batches


def new_codes(count: int) -> list[str]:
    return [f"NEW-{n}" for n in range(1, count + 1)]


def codes_of(session, program_id: int) -> list[str]:
    return list(
        session.scalars(
            select(PromoCode.code).where(PromoCode.loyalty_id == program_id).order_by(PromoCode.id)
        )
    )


@pytest.mark.parametrize(
    ("someone_waits", "commits_after"),
    [(False, [12, 24, 25]), (True, [3, 6, 9, 12, 15, 18, 21, 24, 25])],
)
def test_an_import_commits_after_each_insert_while_another_writer_waits(
    session, shop, monkeypatch, someone_waits, commits_after
):
    """Batches of 10 codes, inserted 3 at a time: committed every 10 codes, or after each
    insert while another writer waits for SQLite's write lock (an attach call)."""
    monkeypatch.setattr(engine_module, "writers_waiting", lambda _session: someone_waits)
    program = session.get_one(LoyaltyProgram, shop.personal_id)
    lines = [ImportLine(n, f"NEW-{n}") for n in range(1, 26)]
    committed: list[int] = []

    def commit(report: ImportReport) -> None:
        session.commit()
        committed.append(report.inserted)

    report = import_codes(session, program, lines, batch_size=10, insert_size=3, after_batch=commit)
    assert report.inserted == 25
    # An insert is never split: a batch ends with the first insert that reaches its size.
    assert committed == commits_after


def test_an_import_in_default_sized_inserts_reports_and_counts_as_the_exact_way(
    session, shop, monkeypatch
):
    # Default insert sizes: on PostgreSQL the batch goes by COPY, which fails as a whole on a
    # code the program has and is then written again after a lookup; the counting triggers
    # count what it wrote.
    fast = new_program(session, "Fast", False)
    fast_report = import_codes(session, fast, mixed_lines() + lines_new_first())
    session.commit()
    monkeypatch.setattr(engine_module._BatchWriter, "insert", write_exactly)
    exact = new_program(session, "Exact", False)
    exact_report = import_codes(session, exact, mixed_lines() + lines_new_first())
    session.commit()

    assert outcome(fast_report) == outcome(exact_report)
    assert outcome(fast_report)[:3] == (6, 13, 3)
    assert stored(session, fast.id) == stored(session, exact.id)
    summaries = {summary.id: summary for summary in program_summaries(session)}
    assert summaries[fast.id].total == summaries[exact.id].total == 8
