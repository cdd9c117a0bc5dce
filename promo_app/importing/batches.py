"""The import engine: codes inserted in batches, each line's outcome recorded.

See docs/benchmarks.md and bench/RESULTS.md for how the batch sizes were chosen.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..codes import InvalidCode, normalize_code
from ..db.binding import promo_connection
from ..db.sqlite_lock import holds_sqlite_write_lock, writers_waiting
from ..models import LoyaltyProgram, PromoCode
from ..times import utcnow
from .report import ImportLine, ImportReport, Outcome
from .statements import (
    _EXISTING_CODES,
    _ROW,
    ALREADY_THERE,
    COPY_CODES,
    REPEATED,
    _insert_exactly,
    _new_codes_insert,
    _record_outcomes,
)

# Importing ------------------------------------------------------------------------------

# Codes per insert: few on SQLite, where an insert holds the write lock that attach calls wait
# for; more on PostgreSQL, where each insert (a COPY in a savepoint) costs round trips.
SQLITE_INSERT_SIZE = 500
POSTGRESQL_INSERT_SIZE = 10_000
# Codes per transaction of an import, at most. Larger transactions mean fewer commits, and on
# SQLite fewer WAL checkpoints (bench/RESULTS.md has the figures), while memory holds only the
# insert at hand whatever the size; on SQLite a transaction ends sooner, after the insert at
# hand, when another writer waits for the lock.
IMPORT_BATCH_SIZE = 100_000


def import_codes(
    session: Session,
    program: LoyaltyProgram,
    lines: Iterable[ImportLine],
    *,
    universal: bool | None = None,
    batch_size: int = IMPORT_BATCH_SIZE,
    insert_size: int | None = None,
    report: ImportReport | None = None,
    after_batch: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Insert codes into `program`, reporting each duplicate and invalid line.

    They are inserted `insert_size` at a time (by default SQLITE_INSERT_SIZE or
    POSTGRESQL_INSERT_SIZE); `after_batch` runs when the codes so far
    should be committed: after `batch_size` of them, or sooner, after the insert at hand,
    when another writer waits for SQLite's write lock (`engine.writers_waiting`), so that
    an attach call never waits for more than one small insert. A caller that wants
    batches committed passes a function that commits.
    Memory stays flat whatever the input's size: only the insert at hand is held;
    a code's earlier occurrence in the input is found in the program (where an earlier
    insert put it), not in a set of the whole input.
    """
    report = report or ImportReport()
    universal = program.universal if universal is None else universal
    first_new_id = (
        session.scalar(select(PromoCode.id).order_by(PromoCode.id.desc()).limit(1))
    ) or 0
    writer = _BatchWriter(session, program.id, universal, first_new_id, report)
    if insert_size is None:
        insert_size = POSTGRESQL_INSERT_SIZE if writer.postgresql else SQLITE_INSERT_SIZE
    insert_size = min(insert_size, batch_size)
    pending: list[ImportLine] = []
    uncommitted = 0
    for item in lines:
        if item.problem is None:
            try:
                item.raw = normalize_code(item.raw)
            except InvalidCode as error:
                item.problem = str(error)
        if item.problem is not None:
            report.record(item, Outcome.INVALID, item.problem)
            continue
        pending.append(item)
        if len(pending) >= insert_size:
            writer.insert(pending)
            uncommitted += len(pending)
            pending = []
            if after_batch is not None and (uncommitted >= batch_size or writers_waiting(session)):
                after_batch(report)
                uncommitted = 0
    if pending:
        writer.insert(pending)
        uncommitted += len(pending)
    if after_batch is not None and uncommitted:
        after_batch(report)
    return report


class _BatchWriter:
    """Insert an import's batches and say what became of each line.

    A batch's new codes are inserted by one executemany, each once (a set finds the
    batch's repeats). Which of its codes are new is first assumed to be all of them, as
    in most imports; once an insert's row count says otherwise, each batch first looks up
    which of its codes the program has (one SELECT).

    On SQLite, once the transaction holds the write lock (from its first write on), no
    one else can write: an insert whose count comes short met codes the program had, and
    its own rows are the ones above the highest id before it, so it is kept and its lines
    told apart after the fact. Otherwise (the first insert of a transaction, PostgreSQL)
    the insert runs in a savepoint, rolled back when it comes short; should the insert
    after a lookup still come short, a concurrent writer added one of its codes since the
    lookup, and the batch is rolled back again and inserted the exact, slower way
    (`_insert_exactly`). A savepoint costs SQLite a copy of every page the insert touches
    (bench/RESULTS.md), hence the two ways.
    """

    def __init__(
        self,
        session: Session,
        program_id: int,
        universal: bool,
        first_new_id: int,
        report: ImportReport,
    ) -> None:
        self.session = session
        self.program_id = program_id
        self.universal = universal
        self.first_new_id = first_new_id
        self.report = report
        self.look_up_first = False
        dialect = session.get_bind(PromoCode).dialect
        self.postgresql = dialect.name == "postgresql"
        self.lookup = _EXISTING_CODES["postgresql" if self.postgresql else "sqlite"]
        self.insert_sql, self.positional = _new_codes_insert(dialect, universal)
        datetime_type = PromoCode.__table__.c.created.type
        self.to_database = datetime_type.dialect_impl(dialect).bind_processor(dialect)

    def insert(self, batch: list[ImportLine]) -> None:
        if not self.look_up_first:
            rows, problems = self._rows(batch, {})
            if self._write(batch, rows, problems):
                return
            self.look_up_first = True
        rows, problems = self._rows(batch, self._existing(batch))
        if not self._write(batch, rows, problems):
            _insert_exactly(
                self.session,
                self.program_id,
                batch,
                self.universal,
                self.first_new_id,
                self.report,
            )

    def _write(
        self,
        batch: list[ImportLine],
        rows: list[tuple[Any, ...]],
        problems: list[tuple[ImportLine, str]],
    ) -> bool:
        """Insert `rows` and record the batch's lines; say False, having kept nothing, when
        the insert ran in a savepoint and came short."""
        if rows:
            connection = promo_connection(self.session)
            if holds_sqlite_write_lock(connection):
                self._insert_under_lock(connection, batch, rows, problems)
                return True
            if not self._insert_all(rows):
                return False
        self._record(len(rows), problems)
        return True

    def _insert_under_lock(
        self,
        connection: Connection,
        batch: list[ImportLine],
        rows: list[tuple[Any, ...]],
        problems: list[tuple[ImportLine, str]],
    ) -> None:
        """Insert `rows` while holding SQLite's write lock, and record the batch's lines."""
        codes = PromoCode.__table__
        before = connection.execute(select(func.max(codes.c.id))).scalar() or 0
        inserted = connection.exec_driver_sql(self.insert_sql, self._parameters(rows)).rowcount
        if inserted == len(rows):
            self._record(inserted, problems)
            return
        # Some were in the program already: no one else wrote, so the rows above `before`
        # are this insert's.
        ours = set(
            connection.execute(
                select(codes.c.code).where(
                    codes.c.id > before, codes.c.loyalty_id == self.program_id
                )
            ).scalars()
        )
        _record_outcomes(self.session, self.program_id, batch, ours, self.first_new_id, self.report)
        self.look_up_first = True

    def _existing(self, batch: list[ImportLine]) -> dict[str, int]:
        """Return the id of each of the batch's codes that the program has."""
        wanted = [item.raw for item in batch]
        parameter = wanted if self.postgresql else json.dumps(wanted)
        connection = promo_connection(self.session)
        result = connection.execute(self.lookup, {"program": self.program_id, "codes": parameter})
        return dict(result.all())

    def _rows(
        self, batch: list[ImportLine], existing: dict[str, int]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[ImportLine, str]]]:
        """Split a batch into the rows of its new codes and its duplicates' messages."""
        convert = self.to_database or (lambda value: value)
        created = convert(utcnow())
        rows: list[tuple[Any, ...]] = []
        problems: list[tuple[ImportLine, str]] = []
        new: set[str] = set()
        for item in batch:
            code = item.raw
            if code in existing:
                earlier = existing[code] > self.first_new_id
                problems.append((item, REPEATED if earlier else ALREADY_THERE))
            elif code in new:
                problems.append((item, REPEATED))
            else:
                new.add(code)
                expire = item.expire_date
                rows.append(
                    (self.program_id, code, None if expire is None else convert(expire), created)
                )
        return rows, problems

    def _record(self, inserted: int, problems: list[tuple[ImportLine, str]]) -> None:
        self.report.record_inserted(inserted)
        for item, message in problems:
            self.report.record(item, Outcome.DUPLICATED, message)

    def _parameters(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        """The rows as the driver takes them: tuples in the order of _ROW, or mappings."""
        if self.positional:
            return rows
        return [dict(zip(_ROW, row, strict=True)) for row in rows]

    def _insert_all(self, rows: list[tuple[Any, ...]]) -> bool:
        """Insert `rows` in a savepoint; keep them and say True if every one was inserted."""
        savepoint = self.session.begin_nested()
        try:
            # Asked for after begin_nested: the session says SAVEPOINT when it hands it out.
            connection = promo_connection(self.session)
            if self.postgresql:
                inserted = self._copy(connection, rows)
            else:
                parameters = self._parameters(rows)
                inserted = connection.exec_driver_sql(self.insert_sql, parameters).rowcount
        except BaseException:
            savepoint.rollback()
            raise
        if inserted == len(rows):
            savepoint.commit()
            return True
        savepoint.rollback()
        return False

    def _copy(self, connection: Connection, rows: list[tuple[Any, ...]]) -> int:
        """COPY `rows` into the codes (PostgreSQL); return how many were written: all of
        them, or none when one of the codes is in the program already."""
        from psycopg.errors import UniqueViolation

        universal, free = self.universal, not self.universal
        driver = connection.connection.driver_connection
        try:
            with driver.cursor() as cursor, cursor.copy(COPY_CODES) as copy:
                for program, code, expire_date, created in rows:
                    copy.write_row((program, code, universal, free, expire_date, created))
        except UniqueViolation:
            return 0
        return len(rows)
