"""Generating codes into a program: drawn by `patterns`, written by the import engine.

The engine inserts them in batches, commits through `after_batch` as an upload does (on
SQLite it lets the write lock go when an attach call waits), and reports the drawn codes
the program had already, or that were drawn twice: those are drawn again, so the program
gets exactly the number of new codes asked for and no existing code is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..codes import prefix_condition
from ..importing.batches import IMPORT_BATCH_SIZE, import_codes
from ..importing.report import ImportLine, ImportReport
from ..models import LoyaltyProgram, PromoCode
from .patterns import Pattern, PatternError, check_count, draw_codes

# Codes drawn between two progress reports (one import, so one commit at least).
STEP = IMPORT_BATCH_SIZE
# Draws in a row that brought no new code before generation gives up: with at most one
# code in SPARE of the pattern in use, this happens only if codes are added meanwhile.
MAX_MISSES = 20


@dataclass
class GenerationReport:
    """How far a generation is: codes asked for, inserted so far, drawn again."""

    requested: int
    inserted: int = 0
    # Drawn codes the program had already (or drawn twice in this run), replaced by new draws.
    redrawn: int = 0
    # The codes inserted, in order, when the caller asked to keep them (the API answers them).
    codes: list[str] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return 100 * self.inserted // self.requested if self.requested else 100


def codes_of_pattern(session: Session, loyalty_id: int, pattern: Pattern) -> int:
    """Count the program's codes that may be of `pattern`: its literal start and length."""
    query = select(func.count()).where(
        PromoCode.loyalty_id == loyalty_id, func.length(PromoCode.code) == len(pattern.text)
    )
    if pattern.literal_prefix:
        query = query.where(prefix_condition(session, pattern.literal_prefix))
    return session.scalar(query) or 0


def generate_codes(
    session: Session,
    program: LoyaltyProgram,
    pattern: Pattern,
    count: int,
    *,
    expire_date: datetime | None = None,
    force: bool = False,
    keep_codes: bool = False,
    step: int = STEP,
    after_batch: Callable[[ImportReport], None] | None = None,
) -> Iterator[GenerationReport]:
    """Check that `pattern` can hold `count` more codes, then return an iterator that
    writes them, yielding the report after each step.

    The check runs before this returns (PatternError, nothing written), so a caller can
    answer a refusal before it starts a stream. `after_batch` commits, as for an upload;
    without it the caller commits at the end.
    """
    check_count(pattern, count, codes_of_pattern(session, program.id, pattern), force=force)
    return _write(session, program, pattern, count, expire_date, keep_codes, step, after_batch)


def _write(
    session: Session,
    program: LoyaltyProgram,
    pattern: Pattern,
    count: int,
    expire_date: datetime | None,
    keep_codes: bool,
    step: int,
    after_batch: Callable[[ImportReport], None] | None,
) -> Iterator[GenerationReport]:
    report = GenerationReport(requested=count)
    engine = ImportReport(keep=None if keep_codes else 0)
    misses = 0
    number = 0
    while report.inserted < count:
        want = min(count - report.inserted, step)
        drawn: dict[int, str] | None = {} if keep_codes else None
        before = engine.inserted
        engine.problems.clear()
        lines = _lines(pattern, want, number, expire_date, drawn)
        import_codes(session, program, lines, report=engine, after_batch=after_batch)
        number += want
        new = engine.inserted - before
        report.inserted += new
        report.redrawn += want - new
        if drawn is not None:
            repeated = {line for line, *_ in engine.problems}
            report.codes.extend(code for line, code in drawn.items() if line not in repeated)
        misses = 0 if new else misses + 1
        if misses >= MAX_MISSES:
            raise PatternError(
                "count",
                f"Only {report.inserted:,} of {count:,} codes could be generated: the program "
                f"has nearly every code of the pattern {pattern.text}. Those were kept.",
            )
        yield report


def _lines(
    pattern: Pattern,
    count: int,
    start: int,
    expire_date: datetime | None,
    drawn: dict[int, str] | None,
) -> Iterator[ImportLine]:
    """Draw `count` codes as the import engine reads them, numbered from `start`."""
    for number, code in enumerate(draw_codes(pattern, count), start):
        if drawn is not None:
            drawn[number] = code
        yield ImportLine(number, code, expire_date)
