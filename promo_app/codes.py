"""Promo codes: attaching them to profiles, drawing them from the pool, importing them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    Dialect,
    Insert,
    Select,
    Update,
    any_,
    bindparam,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .engine import DirectStatement, holds_sqlite_write_lock, promo_connection, writers_waiting
from .errors import (
    AlreadyAttached,
    CodeExpired,
    DatabaseNotFound,
    LoyaltyProgramNotFound,
    NoCodesAvailable,
    NotAttached,
    PromoCodeNotFound,
)
from .models import Attachment, Database, LoyaltyProgram, PromoCode, utcnow
from .profiles import ProfileRef

MAX_CODE_LENGTH = 255


class InvalidCode(ValueError):
    """A string that cannot be a promo code; the message says why."""


def normalize_code(raw: str) -> str:
    """Return `raw` as a promo code (surrounding white space trimmed) or raise InvalidCode."""
    code = raw.strip()
    if not code:
        raise InvalidCode("A promo code must not be empty.")
    if len(code) > MAX_CODE_LENGTH:
        raise InvalidCode(f"A promo code has at most {MAX_CODE_LENGTH} characters.")
    if not code.isprintable():
        raise InvalidCode("A promo code must not contain control characters.")
    return code


def parse_expire_date(raw: str) -> datetime:
    """Parse an RFC 3339 time or a date (valid through that whole day, UTC) into naive UTC."""
    text = raw.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(23, 59, 59))
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError(
            f"Not a date: {raw!r}; use YYYY-MM-DD or an RFC 3339 time such as 2026-12-31T23:59:59Z."
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def rfc3339(moment: datetime | None) -> str:
    """Format a stored (naive UTC) time as RFC 3339; an unset time is ""."""
    if moment is None:
        return ""
    return moment.replace(microsecond=0).isoformat() + "Z"


def get_program(session: Session, loyalty_id: int) -> LoyaltyProgram:
    program = session.get(LoyaltyProgram, loyalty_id)
    if program is None:
        raise LoyaltyProgramNotFound()
    return program


class ProgramRef(NamedTuple):
    """A loyalty program as a call needs it: its id and the kind of code it makes."""

    id: int
    universal: bool


def _targets_query() -> Select:
    """Build once the lookup of a call's database and program: one statement, two answers."""
    databases, programs = Database.__table__, LoyaltyProgram.__table__
    program = programs.c.id == bindparam("loyalty_id")
    return select(
        select(databases.c.id).where(databases.c.id == bindparam("db_id")).scalar_subquery(),
        select(programs.c.id).where(program).scalar_subquery(),
        select(programs.c.universal).where(program).scalar_subquery(),
    )


_TARGETS_QUERY = DirectStatement(_targets_query())


def find_targets(connection: Connection, db_id: int, loyalty_id: int) -> ProgramRef:
    """Check that database `db_id` and program `loyalty_id` exist; return the program."""
    [(found_db, found_program, universal)] = _TARGETS_QUERY.rows(
        connection, {"db_id": db_id, "loyalty_id": loyalty_id}
    )
    if found_db is None:
        raise DatabaseNotFound()
    if found_program is None:
        raise LoyaltyProgramNotFound()
    return ProgramRef(found_program, bool(universal))


def is_expired(code: PromoCode, now: datetime) -> bool:
    return code.expire_date is not None and code.expire_date <= now


@dataclass(frozen=True)
class AttachResult:
    """What a shop learns from an attach: which code its customer got, and when."""

    code: str
    loyalty_id: int
    profile_id: str
    attached: datetime

    def as_data(self) -> dict[str, object]:
        return {
            "code": self.code,
            "loyalty_id": self.loyalty_id,
            "profile_id": self.profile_id,
            "attached": rfc3339(self.attached),
        }


def attach_code(
    connection: Connection,
    program: ProgramRef,
    profile: ProfileRef,
    code: str | None,
    now: datetime | None = None,
) -> AttachResult:
    """Attach `code` (or, without one, a free code of the pool) to `profile`.

    The caller commits. Every step is guarded by the schema's constraints as well,
    so two concurrent calls can never both attach one personal code.
    """
    now = now or utcnow()
    if code is None:
        return claim_free_code(connection, program, profile, now)
    promo = find_or_create_code(connection, program, code)
    attached = _attached_at(connection, promo.id, profile.id)
    if attached is not None:
        return AttachResult(promo.code, program.id, profile.profile_id, attached)
    if not promo.universal and not promo.free:
        raise AlreadyAttached()
    if is_expired(promo, now):
        raise CodeExpired()
    if not promo.universal and not _take(connection, promo.id):
        # Another call took it between our read and our write (PostgreSQL's row lock
        # made us wait for it); answer as if we had come second, which we did.
        attached = _attached_at(connection, promo.id, profile.id)
        if attached is not None:
            return AttachResult(promo.code, program.id, profile.profile_id, attached)
        raise AlreadyAttached()
    try:
        with connection.begin_nested():
            connection.execute(
                insert(Attachment.__table__).values(
                    code_id=promo.id,
                    profile_pk=profile.id,
                    personal=not promo.universal,
                    attached=now,
                )
            )
    except IntegrityError:
        # A concurrent call attached the same universal code to the same profile.
        attached = _attached_at(connection, promo.id, profile.id)
        if attached is None:
            raise
        return AttachResult(promo.code, program.id, profile.profile_id, attached)
    return AttachResult(promo.code, program.id, profile.profile_id, now)


def _claim_statements() -> tuple[Update, Insert]:
    """Build the two statements of a pool draw once; a draw only binds its values.

    They are Core statements on the tables, prebuilt: the ORM's per-call statement
    building and bulk-update bookkeeping cost more than the database's own work here.
    """
    codes, attachments = PromoCode.__table__, Attachment.__table__
    oldest_free = (
        select(codes.c.id)
        .where(
            codes.c.loyalty_id == bindparam("program_id"),
            codes.c.free,
            or_(codes.c.expire_date.is_(None), codes.c.expire_date > bindparam("now")),
        )
        .order_by(codes.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite's BEGIN IMMEDIATE serialises
        .scalar_subquery()
    )
    take = (
        update(codes)
        .where(codes.c.id == oldest_free, codes.c.free)
        .values(free=False)
        .returning(codes.c.id, codes.c.code)
    )
    attach = insert(attachments).values(
        code_id=bindparam("taken_id"),
        profile_pk=bindparam("profile"),
        personal=True,
        attached=bindparam("now"),
    )
    return take, attach


_TAKE_OLDEST_FREE, _ATTACH_TAKEN = map(DirectStatement, _claim_statements())


def claim_free_code(
    connection: Connection, program: ProgramRef, profile: ProfileRef, now: datetime
) -> AttachResult:
    """Take the oldest free, unexpired personal code of `program` and attach it."""
    taken = _TAKE_OLDEST_FREE.rows(connection, {"program_id": program.id, "now": now})
    if not taken:
        raise NoCodesAvailable()
    [(taken_id, code)] = taken
    _ATTACH_TAKEN.rows(connection, {"taken_id": taken_id, "profile": profile.id, "now": now})
    return AttachResult(code, program.id, profile.profile_id, now)


def find_code(
    session: Session, program: LoyaltyProgram | ProgramRef, code: str
) -> PromoCode | None:
    return session.scalar(
        select(PromoCode).where(PromoCode.loyalty_id == program.id, PromoCode.code == code)
    )


_CODE_COLUMNS = (
    PromoCode.__table__.c.id,
    PromoCode.__table__.c.code,
    PromoCode.__table__.c.universal,
    PromoCode.__table__.c.free,
    PromoCode.__table__.c.expire_date,
)


def find_or_create_code(connection: Connection, program: ProgramRef, code: str) -> Row:
    """Return `code` of `program` (id, code, universal, free, expire_date), creating it as
    the program's default kind if missing."""
    codes = PromoCode.__table__
    query = select(*_CODE_COLUMNS).where(codes.c.loyalty_id == program.id, codes.c.code == code)
    promo = connection.execute(query).first()
    if promo is not None:
        return promo
    try:
        with connection.begin_nested():
            connection.execute(
                insert(codes).values(
                    loyalty_id=program.id,
                    code=code,
                    universal=program.universal,
                    free=not program.universal,
                )
            )
    except IntegrityError:
        pass  # created by a concurrent call since we looked: use that one
    return connection.execute(query).one()


def _take(connection: Connection, code_id: int) -> bool:
    """Mark a personal code as no longer free, if it still is."""
    codes = PromoCode.__table__
    row = connection.execute(
        update(codes)
        .where(codes.c.id == code_id, codes.c.free)
        .values(free=False)
        .returning(codes.c.id)
    ).first()
    return row is not None


def _attached_at(connection: Connection, code_id: int, profile_pk: int) -> datetime | None:
    """When `code_id` was attached to the profile `profile_pk`, if it is."""
    attachments = Attachment.__table__
    return connection.execute(
        select(attachments.c.attached).where(
            attachments.c.code_id == code_id, attachments.c.profile_pk == profile_pk
        )
    ).scalar()


# Importing ------------------------------------------------------------------------------

# Codes per transaction of an import, at most. Larger transactions mean fewer commits, and on
# SQLite fewer WAL checkpoints (1,000,000 codes: 14-16 s at 100,000 a commit, 18 s at 20,000),
# while memory holds only the insert at hand (500 codes) whatever the size; on SQLite a
# transaction ends sooner, after the insert at hand, when another writer waits for the lock.
IMPORT_BATCH_SIZE = 100_000

INSERTED = "inserted"
DUPLICATED = "duplicated"
INVALID = "invalid"


@dataclass(slots=True)
class ImportLine:
    """One code of an import, as read: where it was, and what was wrong with it if anything."""

    line: int
    raw: str
    expire_date: datetime | None = None
    problem: str | None = None


@dataclass
class ImportReport:
    """Counts of an import, with the first `keep` lines that were not inserted."""

    keep: int | None = 100
    inserted: int = 0
    duplicated: int = 0
    invalid: int = 0
    problems: list[tuple[int, str, str, str]] = field(default_factory=list)

    def record(self, item: ImportLine, outcome: str, message: str = "") -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if outcome != INSERTED and (self.keep is None or len(self.problems) < self.keep):
            self.problems.append((item.line, item.raw, outcome, message))

    def record_inserted(self, count: int) -> None:
        """Count `count` inserted lines at once (an inserted line is never kept)."""
        self.inserted += count

    @property
    def total(self) -> int:
        return self.inserted + self.duplicated + self.invalid


def import_codes(
    session: Session,
    program: LoyaltyProgram,
    lines: Iterable[ImportLine],
    *,
    universal: bool | None = None,
    batch_size: int = IMPORT_BATCH_SIZE,
    insert_size: int = 500,
    report: ImportReport | None = None,
    after_batch: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Insert codes into `program`, reporting each duplicate and invalid line.

    They are inserted `insert_size` at a time; `after_batch` runs when the codes so far
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
            report.record(item, INVALID, item.problem)
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


REPEATED = "Duplicated earlier in this import."
ALREADY_THERE = "Already in the loyalty program."

# The parameters of a new code's row, in the order of the INSERT's placeholders.
_ROW = ("program", "code", "expire_date", "created")


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
    """Render the INSERT of a batch's new codes once per dialect: its SQL, and whether it
    takes tuples in the order of _ROW (rather than mappings).

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
    (5 s in 13 for a million codes), hence the two ways.
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
            self.report.record(item, DUPLICATED, message)

    def _parameters(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        """The rows as the driver takes them: tuples in the order of _ROW, or mappings."""
        if self.positional:
            return rows
        return [dict(zip(_ROW, row, strict=True)) for row in rows]

    def _insert_all(self, rows: list[tuple[Any, ...]]) -> bool:
        """Insert `rows` in a savepoint; keep them and say True if every one was inserted."""
        parameters = self._parameters(rows)
        savepoint = self.session.begin_nested()
        try:
            # Asked for after begin_nested: the session says SAVEPOINT when it hands it out.
            connection = promo_connection(self.session)
            inserted = connection.exec_driver_sql(self.insert_sql, parameters).rowcount
        except BaseException:
            savepoint.rollback()
            raise
        if inserted == len(rows):
            savepoint.commit()
            return True
        savepoint.rollback()
        return False


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
            report.record(item, INSERTED)
        elif earlier.get(item.raw, 0) > first_new_id or item.raw in seen:
            report.record(item, DUPLICATED, REPEATED)
        else:
            report.record(item, DUPLICATED, ALREADY_THERE)


# Looking codes up and changing them ---------------------------------------------------------


def get_code(session: Session, program: LoyaltyProgram | ProgramRef, code: str) -> PromoCode:
    """Return `code` of `program`, or fail with Promo code not found."""
    promo = find_code(session, program, code)
    if promo is None:
        raise PromoCodeNotFound()
    return promo


def code_state(session: Session, promo: PromoCode, now: datetime | None = None) -> dict[str, Any]:
    """Describe a code as the `get` verb answers it.

    `attached` is the time of the code's earliest attachment that still exists (for a
    personal code its only one); `expired` is the expiry time once it has passed.
    """
    now = now or utcnow()
    first_attached = session.scalar(
        select(func.min(Attachment.attached)).where(Attachment.code_id == promo.id)
    )
    expired = is_expired(promo, now)
    return {
        "code": promo.code,
        "loyalty_id": promo.loyalty_id,
        "created": rfc3339(promo.created),
        "is_attached": first_attached is not None,
        "attached": rfc3339(first_attached),
        "is_activated": promo.activated is not None,
        "activated": rfc3339(promo.activated),
        "is_expired": expired,
        "expired": rfc3339(promo.expire_date) if expired else "",
        "expire_date": rfc3339(promo.expire_date),
    }


def is_attached(session: Session, promo: PromoCode) -> bool:
    return (
        session.scalar(select(Attachment.id).where(Attachment.code_id == promo.id).limit(1))
        is not None
    )


def activate_code(session: Session, promo: PromoCode, now: datetime | None = None) -> None:
    """Mark an attached code used. Activating it again keeps the first activation time."""
    now = now or utcnow()
    if promo.activated is not None:
        return
    if not is_attached(session, promo):
        raise NotAttached()
    if is_expired(promo, now):
        raise CodeExpired()
    promo.activated = now


UNCHANGED: Any = object()


def update_code(
    session: Session,
    promo: PromoCode,
    *,
    activated: bool | None = None,
    expire_date: datetime | None = UNCHANGED,
    now: datetime | None = None,
) -> None:
    """Set or clear a code's activation and expiry; None for `activated` leaves it as it is.

    Setting `activated` on a code that is already activated keeps its first time.
    """
    now = now or utcnow()
    if activated is True and promo.activated is None:
        promo.activated = now
    elif activated is False:
        promo.activated = None
    if expire_date is not UNCHANGED:
        promo.expire_date = expire_date
    session.flush()


def detach_code(session: Session, promo: PromoCode, profile: ProfileRef) -> None:
    """Remove `profile`'s attachment of `promo`; a personal code goes back to the pool.

    A personal code that goes back to the pool is unused again: its activation is cleared,
    so that the next customer who draws it can use it.
    """
    # One DELETE that says whether it removed the pair: of two concurrent detaches, the
    # second (on PostgreSQL it waits for the first's row lock) removes nothing and gets 409.
    removed = session.execute(
        delete(Attachment)
        .where(Attachment.code_id == promo.id, Attachment.profile_pk == profile.id)
        .returning(Attachment.id)
        .execution_options(synchronize_session=False)
    ).first()
    if removed is None:
        raise NotAttached()
    if not promo.universal:
        promo.free = True
        promo.activated = None
    session.flush()


def export_batches(
    session: Session, loyalty_id: int, batch_size: int = 2000
) -> Iterator[list[dict[str, Any]]]:
    """Yield every code of the program `loyalty_id`, `{code, attached, activated}`, in batches.

    Keyset paging in the order of the codes, on the (loyalty_id, code) unique index: each
    batch is one short index range read, whatever the program's size, so memory stays flat
    and the time per code stays the same from the first batch to the last.
    """
    attached = (
        select(Attachment.id).where(Attachment.code_id == PromoCode.id).exists().label("attached")
    )
    query = (
        select(PromoCode.code, attached, PromoCode.activated.is_not(None))
        .where(PromoCode.loyalty_id == loyalty_id)
        .order_by(PromoCode.code)
        .limit(batch_size)
    )
    last_code: str | None = None
    while True:
        page = query if last_code is None else query.where(PromoCode.code > last_code)
        rows = session.execute(page).all()
        if not rows:
            return
        last_code = rows[-1][0]
        yield [
            {"code": code, "attached": bool(is_on), "activated": bool(used)}
            for code, is_on, used in rows
        ]
        if len(rows) < batch_size:
            return
