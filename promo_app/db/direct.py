"""Statements compiled once per dialect and run straight on the DBAPI cursor."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Executable
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

# What must run before a DirectStatement on a connection of an engine, as SQLAlchemy's
# before_cursor_execute event runs before its own (SQLite's first-write lock).
_BEFORE: WeakKeyDictionary[Engine, Callable[[Any, Any, str], None]] = WeakKeyDictionary()


def before_direct_statements(engine: Engine, hook: Callable[[Any, Any, str], None]) -> None:
    """Run `hook(connection, cursor, sql)` before each DirectStatement on `engine`."""
    _BEFORE[engine] = hook


class DirectStatement:
    """A Core statement that SQLAlchemy compiles once per dialect and that then runs straight
    on the DBAPI cursor of a SQLAlchemy connection, inside that connection's transaction.

    The SQL is SQLAlchemy's own for the dialect (FOR UPDATE SKIP LOCKED on PostgreSQL, not
    on SQLite), its parameters bound, never spliced; parameters of types that need converting
    (times on SQLite) go through the type's own bind processor. What a call saves is the
    per-execution work (cache key, execution context, result objects), which costs several
    times SQLite's own work on a statement of the attach call (bench/RESULTS.md). Rows
    come as the driver gives them, so select only plain columns (ids, strings, flags). The
    statements are not seen by SQLAlchemy's logging or its own cursor events.
    """

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._plans: dict[str, _DirectPlan] = {}

    def _plan(self, dialect: Any) -> _DirectPlan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            compiled = self.statement.compile(dialect=dialect)
            if compiled.post_compile_params or compiled.literal_execute_params:
                raise TypeError("A DirectStatement cannot have parameters rendered at run time.")
            binds = compiled.binds
            processors = {}
            for name, bind in binds.items():
                process = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if process is not None:
                    processors[name] = process
            plan = _DirectPlan(
                sql=str(compiled),
                names=tuple(compiled.positiontup or ()) if compiled.positional else None,
                defaults={name: bind.value for name, bind in binds.items() if not bind.required},
                processors=processors,
                driver_error=dialect.loaded_dbapi.Error,
            )
            self._plans[dialect.name] = plan
        return plan

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple]:
        """Run the statement with `params`; return all the rows it gives."""
        plan = self._plan(connection.dialect)
        values = {**plan.defaults, **params}
        for name, process in plan.processors.items():
            values[name] = process(values[name])
        with _cursor(connection, plan, values) as cursor:
            if plan.names is None:
                cursor.execute(plan.sql, values)
            else:
                cursor.execute(plan.sql, [values[name] for name in plan.names])
            return cursor.fetchall() if cursor.description else []

    def many(
        self,
        connection: Connection,
        names: Sequence[str],
        rows: Iterable[tuple],
        same: Mapping[str, Any] | None = None,
    ) -> None:
        """Run the statement once for each of `rows` (its values in the order of `names`),
        in one `executemany` of the driver; nothing is returned. `same` gives the values that
        every row has (a batch's time), processed once. Values of `rows` that go through a
        bind processor (times on SQLite) must be hashable: each distinct one is processed
        once."""
        plan = self._plan(connection.dialect)
        names = tuple(names)
        shared = {name: value for name, value in plan.defaults.items() if name not in names}
        shared.update(same or {})
        processors = plan.processors
        constants = tuple(
            processors[name](value) if name in processors else value
            for name, value in shared.items()
        )
        rows = _processed(rows, constants, names, processors)
        names += tuple(shared)
        if plan.names is None:
            bound: Iterable[Any] = [dict(zip(names, row, strict=True)) for row in rows]
        elif plan.names == names:
            bound = rows
        else:
            order = [names.index(name) for name in plan.names]
            bound = [[row[index] for index in order] for row in rows]
        with _cursor(connection, plan, {}) as cursor:
            cursor.executemany(plan.sql, bound)


@contextmanager
def _cursor(connection: Connection, plan: Any, values: Mapping[str, Any]) -> Iterator[Any]:
    """A driver cursor in the connection's transaction (begun as SQLAlchemy's own execute
    would, so that the statements of a call are one transaction, committed or rolled back
    as the connection says), after the engine's hook; closed after use. A driver error is
    raised as SQLAlchemy raises it: IntegrityError, OperationalError ("database is locked")."""
    if not connection.in_transaction():
        connection.begin()
    cursor = connection.connection.cursor()
    try:
        before = _BEFORE.get(connection.engine)
        if before is not None:
            before(connection, cursor, plan.sql)
        yield cursor
    except plan.driver_error as error:
        raise DBAPIError.instance(plan.sql, values, error, plan.driver_error) from error
    finally:
        cursor.close()


def _processed(
    rows: Iterable[tuple],
    constants: tuple,
    names: tuple[str, ...],
    processors: Mapping[str, Callable[[Any], Any]],
) -> list[tuple]:
    """Return `rows` (the values of `names`) with `constants` after each and the values of
    the columns that have a bind processor processed (each distinct value once)."""
    columns = [(index, processors[name]) for index, name in enumerate(names) if name in processors]
    if not columns:
        return [row + constants for row in rows] if constants else list(rows)
    done: list[dict[Any, Any]] = [{} for _ in columns]
    result = []
    for row in rows:
        values = list(row + constants)
        for (index, process), memo in zip(columns, done, strict=True):
            value = values[index]
            if value in memo:
                values[index] = memo[value]
            else:
                values[index] = memo[value] = process(value)
        result.append(tuple(values))
    return result


@dataclass(frozen=True)
class _DirectPlan:
    """A DirectStatement as compiled for one dialect."""

    sql: str
    names: tuple[str, ...] | None  # the order of the parameters, for a positional driver
    defaults: dict[str, Any]  # values given in the statement itself (LIMIT 2, free=False)
    processors: dict[str, Callable[[Any], Any]]
    driver_error: type[Exception]
