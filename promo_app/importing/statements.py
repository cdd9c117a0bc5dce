"""The SQL of the import engine: the lookup of a batch's codes, the insert of its new ones,
and the exact (slower) way used under concurrent writers."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    ARRAY,
    Dialect,
    Insert,
    Select,
    any_,
    bindparam,
    false,
    func,
    select,
    true,
)
from sqlalchemy.orm import Session

from ..models import PromoCode
from ..times import utcnow
from .report import ImportLine, ImportReport, Outcome

REPEATED = "Duplicated earlier in this import."
ALREADY_THERE = "Already in the loyalty program."

# The parameters of a new code's row, in the order of the INSERT's placeholders.
_ROW = ("program", "code", "expire_date", "created")
# PostgreSQL takes a batch's new codes by COPY, in the order of these columns: a statement
# per batch, so the statement trigger that counts new codes (revision 0009) runs once a batch,
# and without the per-row work of an INSERT's parameters (bench/RESULTS.md, issue 18).
COPY_CODES = "COPY promo_code (loyalty_id, code, universal, free, expire_date, created) FROM STDIN"


def _existing_codes_query(dialect_name: str) -> Select:
    """Build the query of which of a batch's codes (one bound parameter) a program has."""
    codes = PromoCode.__table__
    if dialect_name == "postgresql":
        among = codes.c.code == any_(bindparam("codes", type_=ARRAY(codes.c.code.type)))
    else:
        # One JSON array, not a parameter per code: no limit on the batch's size, and
        # nothing for SQLAlchemy to expand and convert code by code.
        batch = func.json_each(bindparam("codes")).table_valued("value")
        among = codes.c.code.in_(select(batch.c.value))
    return select(codes.c.code, codes.c.id).where(codes.c.loyalty_id == bindparam("program"), among)


def _upsert(dialect_name: str) -> Callable[..., Insert]:
    """The dialect's INSERT, the kind that can say ON CONFLICT DO NOTHING."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


_EXISTING_CODES = {name: _existing_codes_query(name) for name in ("postgresql", "sqlite")}
_NEW_CODES_INSERTS: dict[tuple[type, str, bool], tuple[str, bool]] = {}


def _new_codes_insert(dialect: Dialect, universal: bool) -> tuple[str, bool]:
    """Render the INSERT of a batch's new codes once per dialect (SQLite's; PostgreSQL's
    batches go by COPY_CODES): its SQL, and whether it takes tuples in the order of _ROW
    (rather than mappings).

    It runs as the driver's own executemany (`exec_driver_sql`): a compiled statement
    would build and convert every row's parameters in Python, which costs more than
    SQLite's own work for the row. The values are still bound parameters, never SQL.
    """
    key = (type(dialect), dialect.paramstyle, universal)
    if key not in _NEW_CODES_INSERTS:
        statement = (
            _upsert(dialect.name)(PromoCode.__table__)
            .values(
                loyalty_id=bindparam("program"),
                code=bindparam("code"),
                universal=true() if universal else false(),
                free=false() if universal else true(),
                expire_date=bindparam("expire_date"),
                created=bindparam("created"),
            )
            # A code written by a concurrent import since the batch's lookup: skipped,
            # and the row count tells.
            .on_conflict_do_nothing(index_elements=["loyalty_id", "code"])
        )
        compiled = statement.compile(dialect=dialect)
        if compiled.positional and tuple(compiled.positiontup or ()) != _ROW:
            raise RuntimeError(f"Unexpected order of parameters: {compiled.positiontup}")
        _NEW_CODES_INSERTS[key] = (compiled.string, compiled.positional)
    return _NEW_CODES_INSERTS[key]


def _insert_exactly(
    session: Session,
    program_id: int,
    batch: list[ImportLine],
    universal: bool,
    first_new_id: int,
    report: ImportReport,
) -> None:
    """Insert a batch with RETURNING, and tell its duplicates apart after the fact.

    Slower than _BatchWriter's way, but exact under concurrent writers: each code's
    outcome is what its own INSERT did.
    """
    codes = PromoCode.__table__
    statement = (
        _upsert(session.get_bind(PromoCode).dialect.name)(codes)
        .values(
            loyalty_id=program_id,
            # SQL constants, not parameters: nothing to convert row by row.
            universal=true() if universal else false(),
            free=false() if universal else true(),
            created=utcnow(),
            code=bindparam("line_code"),
            expire_date=bindparam("line_expire_date"),
        )
        .on_conflict_do_nothing(index_elements=["loyalty_id", "code"])
        .returning(codes.c.code)
    )
    rows = [{"line_code": item.raw, "line_expire_date": item.expire_date} for item in batch]
    inserted = set(session.execute(statement, rows).scalars())
    _record_outcomes(session, program_id, batch, inserted, first_new_id, report)


def _record_outcomes(
    session: Session,
    program_id: int,
    batch: list[ImportLine],
    inserted: set[str],
    first_new_id: int,
    report: ImportReport,
) -> None:
    """Record each line of a written batch, knowing which codes its insert wrote: the first
    line of each of those is inserted, the other lines are duplicates."""
    duplicates = [item for item in batch if item.raw not in inserted]
    earlier = {}
    if duplicates:
        # Tell a repeat within this input from a code the program already had.
        earlier = dict(
            session.execute(
                select(PromoCode.code, PromoCode.id).where(
                    PromoCode.loyalty_id == program_id,
                    PromoCode.code.in_({item.raw for item in duplicates}),
                )
            ).all()
        )
    seen: set[str] = set()
    for item in batch:
        if item.raw in inserted and item.raw not in seen:
            seen.add(item.raw)
            report.record(item, Outcome.INSERTED)
        elif earlier.get(item.raw, 0) > first_new_id or item.raw in seen:
            report.record(item, Outcome.DUPLICATED, REPEATED)
        else:
            report.record(item, Outcome.DUPLICATED, ALREADY_THERE)
