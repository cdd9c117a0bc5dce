"""Backups of a SQLite database while the service writes, and restoring one.

SQLite's online backup API copies the database as one snapshot, committed content still in
the `-wal` file included (a copy of `promo.db` alone can miss it), while writers go on.
PostgreSQL has its own tools: `pg_dump` and `pg_restore`.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass

from sqlalchemy.engine import URL

from .db.in_use import Alone, InUse
from .errors import ServiceError
from .models import PromoModel


class BackupError(ServiceError):
    """A backup or restore that cannot be made; nothing was changed."""


@dataclass(frozen=True)
class Copied:
    path: str
    size: int
    rows: dict[str, int]


def sqlite_path(url: URL) -> str:
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError("Not a SQLite file.")
    return url.database


def pg_dump_command(url: URL, destination: str) -> str:
    """The pg_dump command that backs up a PostgreSQL database (the password left out)."""
    plain = url.set(drivername="postgresql", password=None)
    return f"pg_dump --format=custom --file {destination} '{plain.render_as_string()}'"


def pg_restore_command(url: URL, source: str) -> str:
    plain = url.set(drivername="postgresql", password=None)
    return f"pg_restore --clean --if-exists --dbname '{plain.render_as_string()}' {source}"


def _check(connection: sqlite3.Connection, what: str) -> dict[str, int]:
    """Check a database file is whole and holds the promo tables; count their rows."""
    try:
        result = connection.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            raise BackupError(f"{what} is damaged: {result[0][0]}")
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
        missing = sorted(set(PromoModel.metadata.tables) - tables)
        if missing:
            raise BackupError(f"{what} is not a promo database: it has no {missing[0]} table.")
        # The names are the models' own table names, never input.
        return {
            name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for name in PromoModel.metadata.tables
        }
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{what} is not a SQLite database: {error}") from None


def backup_sqlite(database: str, destination: str, replace: bool = False) -> Copied:
    """Copy the SQLite file `database` to `destination` as one consistent snapshot.

    Written to a temporary file beside the destination, checked, then renamed into place:
    a failed backup leaves no half-written file, and an old backup stays until the new one
    is whole.
    """
    if not os.path.exists(database):
        raise BackupError(f"{database} does not exist.")
    if os.path.exists(destination) and not replace:
        raise BackupError(f"{destination} exists; add --force to replace it.")
    if not os.path.isdir(os.path.dirname(os.path.abspath(destination))):
        raise BackupError(f"The folder of {destination} does not exist.")
    partial = f"{destination}.partial-{os.getpid()}"
    try:
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
        with closing(source), closing(sqlite3.connect(partial)) as target:
            source.backup(target)  # all pages in one step: one snapshot
            rows = _check(target, "The copy")
        os.replace(partial, destination)
    except (sqlite3.Error, OSError) as error:
        raise BackupError(f"The backup failed: {error}") from None
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return Copied(destination, os.path.getsize(destination), rows)


def restore_sqlite(source: str, database: str) -> Copied:
    """Replace the SQLite file `database` with the backup `source`.

    Refused while another process (a server, an import) uses `database`; the backup is
    checked first, so a damaged one changes nothing.
    """
    if not os.path.isfile(source):
        raise BackupError(f"{source} does not exist.")
    try:
        with Alone(database):
            backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            with closing(backup):
                _check(backup, source)
                with closing(sqlite3.connect(database, timeout=30)) as target:
                    backup.backup(target)
                    rows = _check(target, "The restored database")
    except InUse:
        raise BackupError(
            f"Another process uses {database} (a server or an import): stop it first "
            "(systemctl stop promo). Nothing was changed."
        ) from None
    except sqlite3.Error as error:
        raise BackupError(f"The restore failed: {error}") from None
    return Copied(database, os.path.getsize(database), rows)
