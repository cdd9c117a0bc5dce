"""Copying a shop's promo tables from one database to another (say SQLite to PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Engine,
    Table,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Connection

from .db import sqlite_lock
from .db.binding import database_url, prepare_nothing_behind_pgbouncer
from .db.migrate import MigrationError, copyable_revision, upgrade
from .errors import ServiceError
from .models import PromoModel


class TransferError(ServiceError):
    """A copy that cannot start; the message says why."""


@dataclass
class CopyReport:
    """Rows copied, table by table, in the order they were copied."""

    rows: dict[str, int] = field(default_factory=dict)


def open_engine(url: str, busy_timeout_ms: int = 10_000, behind_pgbouncer: bool = False) -> Engine:
    """Open an engine on `url` to write to, as the service opens its own."""
    engine = create_engine(database_url(url))
    sqlite_lock.install(engine, busy_timeout_ms)
    prepare_nothing_behind_pgbouncer(engine, behind_pgbouncer)
    return engine


def open_source_engine(url: str, behind_pgbouncer: bool = False) -> Engine:
    """Open an engine on `url` to read from: on SQLite a plain deferred transaction, a
    snapshot of every table that takes no write lock, so a running app is not held up."""
    engine = create_engine(database_url(url))
    prepare_nothing_behind_pgbouncer(engine, behind_pgbouncer)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN")

    return engine


# Kept by the target's triggers as the rows of the other tables arrive (revision 0009).
KEPT_BY_TRIGGERS = ("promo_program_count",)


def promo_tables() -> list[Table]:
    """Every promo table to copy, parents before the tables that refer to them."""
    tables = PromoModel.metadata.sorted_tables
    return [table for table in tables if table.name not in KEPT_BY_TRIGGERS]


def copy_data(
    source: Engine,
    target: Engine,
    *,
    batch_size: int = 10_000,
    replace: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> CopyReport:
    """Copy every promo table from `source` to `target`, in one transaction on the target.

    The target is brought to the head revision first (creating the promo tables if it
    lacks them); the source must be at the head too. A target that already holds promo
    rows is refused unless `replace`, which deletes them first. Rows are streamed in
    batches of `batch_size`, keeping their ids, so memory stays flat at any size; on
    PostgreSQL each id sequence is then moved past the largest copied id.
    """
    tables = promo_tables()
    present = set(inspect(source).get_table_names())
    missing = [table.name for table in tables if table.name not in present]
    if len(missing) == len(tables):
        raise TransferError("The source database has no promo tables.")
    problem = copyable_revision(source)
    if problem:
        raise TransferError(problem)
    try:
        upgrade(target)
    except MigrationError as error:
        raise TransferError(str(error)) from None
    report = CopyReport()
    with source.connect() as reader, target.begin() as writer:
        if reader.dialect.name == "postgresql":
            # One snapshot for every table, so rows added meanwhile cannot break a reference.
            reader = reader.execution_options(isolation_level="REPEATABLE READ")
        occupied = [table.name for table in tables if _has_rows(writer, table)]
        if occupied and not replace:
            raise TransferError(
                f"The target database already holds promo rows (in {', '.join(occupied)}); "
                "copy into an empty database, or pass --force to replace them."
            )
        for table in reversed(tables):
            writer.execute(delete(table))
        for table in tables:
            copied = 0
            if table.name not in missing:
                copied = _copy_table(reader, writer, table, batch_size, progress)
            report.rows[table.name] = copied
        if writer.dialect.name == "postgresql":
            for table in tables:
                _reset_sequence(writer, table)
    return report


def _has_rows(connection: Connection, table: Table) -> bool:
    return connection.scalar(select(1).select_from(table).limit(1)) is not None


def _copy_table(
    reader: Connection,
    writer: Connection,
    table: Table,
    batch_size: int,
    progress: Callable[[str, int], None] | None,
) -> int:
    columns = [column.name for column in table.columns]
    query = select(*table.columns).order_by(*table.primary_key.columns)
    result = reader.execution_options(yield_per=batch_size).execute(query)
    copied = 0
    for rows in result.partitions():
        writer.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        copied += len(rows)
        if progress is not None:
            progress(table.name, copied)
    return copied


def _reset_sequence(writer: Connection, table: Table) -> None:
    """Make the next id PostgreSQL hands out in `table` follow the largest copied one."""
    key = list(table.primary_key.columns)
    if len(key) != 1 or table.autoincrement_column is None:
        return
    column = key[0]
    sequence = writer.scalar(select(func.pg_get_serial_sequence(table.name, column.name)))
    if sequence is None:
        return
    next_id = select(func.coalesce(func.max(column), 0) + 1).scalar_subquery()
    writer.execute(select(func.setval(sequence, next_id, False)))
