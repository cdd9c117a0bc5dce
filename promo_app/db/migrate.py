"""Our own schema migrations: Alembic, with the scripts in the package and a version table
of their own (`promo_alembic_version`), so that they never meet a host's migrations.

A database made before migrations existed (promo_app 0.1.0's `create_all`) has promo tables
and no version table: the first revision adopts it (keeps what is there, adds what is
missing) and records it. See docs/migrations.md.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from ..errors import ServiceError

VERSION_TABLE = "promo_alembic_version"
SCRIPT_LOCATION = str(Path(__file__).resolve().parent.parent / "migrations")
PROMO_TABLE_PREFIX = "promo_"
# The revision whose tables are those of promo_app 0.1.0 (which recorded no revision).
FIRST_REVISION = "0001"


class MigrationError(ServiceError):
    """The promo tables are not at the revision asked for, or a migration failed (and
    nothing of it was kept); the message says which."""


@dataclass(frozen=True)
class UpgradeReport:
    """Where a database was before and after an upgrade, and whether it was adopted."""

    before: str | None
    after: str | None
    adopted: bool


def is_promo_table(name: str | None) -> bool:
    return name is not None and name.startswith(PROMO_TABLE_PREFIX) and name != VERSION_TABLE


def _only_promo_tables(_object: Any, name: str | None, type_: str, *_args: Any) -> bool:
    # Our revisions see the promo tables only: a host's tables in the same database are
    # neither compared nor dropped by them.
    return type_ != "table" or is_promo_table(name)


def configure_options() -> dict[str, Any]:
    """The options env.py gives Alembic's context (and tests their comparison)."""
    return {
        "version_table": VERSION_TABLE,
        "include_object": _only_promo_tables,
        # SQLite alters a table by copying it; batch operations do that for a revision.
        "render_as_batch": True,
        "compare_type": True,
    }


def alembic_config(
    connection: Connection | None = None, script_location: str | None = None
) -> Config:
    """Alembic's config for our scripts, made in code (there is no alembic.ini)."""
    config = Config()
    config.set_main_option("script_location", script_location or SCRIPT_LOCATION)
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


def script_directory(script_location: str | None = None) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(script_location=script_location))


def head_revision(script_location: str | None = None) -> str | None:
    """Return the newest revision of the scripts."""
    return _scripts(script_location or SCRIPT_LOCATION).get_current_head()


@functools.cache
def _scripts(script_location: str) -> ScriptDirectory:
    # Read once per process: Alembic's own commands read every revision file again on each
    # call, which costs more than an upgrade that has nothing to do.
    return script_directory(script_location)


def current_revision(connection: Connection) -> str | None:
    """Return the revision the database is at; None for a database without one."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def require_head(engine: Engine) -> None:
    """Refuse to go on unless the promo tables are at the head revision; an empty database
    (no promo table at all: nothing to lose) gets them, at the head."""
    with engine.connect() as connection:
        revision = current_revision(connection)
        empty = revision is None and not has_promo_tables(connection)
    head = head_revision()
    if revision == head:
        return
    if empty:
        upgrade(engine)
        return
    if revision is None:
        raise MigrationError(
            "The promo tables were made before migrations (promo_app 0.1.0): run "
            "`flask promo db upgrade` first (it keeps every row)."
        )
    raise MigrationError(
        f"The promo tables are at revision {revision}, this version of promo_app needs "
        f"{head}: run `flask promo db upgrade` first."
    )


def copyable_revision(engine: Engine) -> str | None:
    """Say why the promo tables of `engine` cannot be read as the models describe them
    (not at the head revision), or None when they can.

    A database made by 0.1.0 (promo tables, no revision) has the shape of the first
    revision, so it is readable as long as that is the head.
    """
    with engine.connect() as connection:
        revision = current_revision(connection)
        if revision is None and has_promo_tables(connection):
            revision = FIRST_REVISION
    head = head_revision()
    if revision in (head, None):
        return None
    return (
        f"The source's promo tables are at revision {revision}, not at the head {head}: "
        "run `flask promo db upgrade` on it first."
    )


def has_promo_tables(connection: Connection) -> bool:
    return any(is_promo_table(name) for name in inspect(connection).get_table_names())


def upgrade(
    engine: Engine, revision: str = "head", script_location: str | None = None
) -> UpgradeReport:
    """Run the revisions up to `revision` in one transaction: all of them, or none."""
    with _migrating(engine) as connection:
        before = current_revision(connection)
        adopted = before is None and has_promo_tables(connection)
        _upgrade(connection, revision, script_location or SCRIPT_LOCATION)
        return UpgradeReport(before, current_revision(connection), adopted)


def _upgrade(connection: Connection, revision: str, script_location: str) -> None:
    """What alembic.command.upgrade does, on the scripts read once (`_scripts`).

    `ScriptDirectory._upgrade_revs` is Alembic's private API, used here only (alembic
    1.20, pinned in requirements.txt).
    """
    scripts = _scripts(script_location)

    def steps(current: Any, _context: Any) -> Any:
        return scripts._upgrade_revs(revision, current)

    config = alembic_config(connection, script_location)
    with EnvironmentContext(config, scripts, fn=steps, destination_rev=revision):
        scripts.run_env()


def downgrade(
    engine: Engine, revision: str = "-1", script_location: str | None = None
) -> str | None:
    """Undo revisions down to `revision` (one step by default); return where it is now."""
    with _migrating(engine) as connection:
        if current_revision(connection) is None:
            raise MigrationError("The database has no promo revision to go down from.")
        command.downgrade(alembic_config(connection, script_location), revision)
        return current_revision(connection)


# A key of PostgreSQL's advisory locks for our migrations (any constant; "promo" in ASCII).
_ADVISORY_LOCK_KEY = 0x70726F6D6F


def _one_at_a_time(connection: Connection) -> None:
    """Hold a lock to the commit, so that a second upgrade at the same time (two app
    servers starting) waits for the first, then finds its work done."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        # The promo engine says BEGIN IMMEDIATE (the write lock) before a statement that
        # may write: this one, which itself changes nothing.
        connection.exec_driver_sql("SAVEPOINT promo_migrate")
        connection.exec_driver_sql("RELEASE promo_migrate")


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """Give one connection in one transaction; commit if the block ends well.

    On SQLite, foreign keys are off for the run: a batch operation rebuilds a table
    (create a copy, move the rows, drop the old one) and the drop would otherwise delete
    every row of the tables that refer to it (ON DELETE CASCADE). They are checked before
    the commit instead. SQLite ignores the pragma inside a transaction, so it is said first.
    """
    from alembic.util import CommandError

    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.commit()
        try:
            with connection.begin():
                _one_at_a_time(connection)
                try:
                    yield connection
                except CommandError as error:
                    raise MigrationError(str(error)) from None
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise MigrationError(
                            f"Rows refer to rows that are gone ({len(broken)}, first in "
                            f"{broken[0][0]}); nothing was changed."
                        )
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys = ON")
                connection.commit()


def new_revision(
    engine: Engine, message: str, *, autogenerate: bool = True, script_location: str | None = None
) -> str:
    """Write the next revision file (id one past the head: 0002, 0003, …); return its path.

    With `autogenerate`, the database must be at the head: the file holds what the models
    have that it lacks.
    """
    scripts = script_directory(script_location)
    head = scripts.get_current_head()
    next_id = f"{int(head or 0) + 1:04d}"
    with engine.connect() as connection:
        if autogenerate and current_revision(connection) != head:
            raise MigrationError(f"Upgrade the database to the head {head} first.")
        config = alembic_config(connection, script_location)
        script = command.revision(
            config, message=message, autogenerate=autogenerate, rev_id=next_id
        )
    return script.path
