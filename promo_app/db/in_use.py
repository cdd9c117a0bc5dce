"""Who uses a SQLite file: every process whose app opens it holds a shared fcntl lock on a
side file (`<file>-promo-in-use`) for as long as it lives, so that a restore can tell that a
server still runs on the file and refuse to overwrite it under that server's feet.

POSIX locks belong to a process: the restoring process's own lock never stands in its way.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: users go unseen
    fcntl = None

# The side file each database path of this process holds its shared lock on (by pid: a forked
# child holds none of its parent's locks and takes its own), and how many engines use it.
_HELD: dict[tuple[int, str], int] = {}
_USERS: dict[tuple[int, str], int] = {}


def side_file(database: str) -> str:
    return f"{database}-promo-in-use"


def _descriptor(database: str) -> int:
    key = (os.getpid(), os.path.abspath(database))
    if key not in _HELD:
        _HELD[key] = os.open(side_file(key[1]), os.O_RDWR | os.O_CREAT, 0o600)
    return _HELD[key]


def mark_in_use(engine: Any, database: str | None) -> None:
    """Say that this process uses the SQLite file `database` (nothing for :memory:) for as
    long as `engine` lives."""
    if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        fcntl.lockf(_descriptor(database), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return  # a restore holds it right now, or the folder is read-only: go unseen
    key = (os.getpid(), os.path.abspath(database))
    _USERS[key] = _USERS.get(key, 0) + 1
    weakref.finalize(engine, _release, key)


def _release(key: tuple[int, str]) -> None:
    # Closing any descriptor of the file drops all of this process's locks on it: only the
    # last engine of the file closes it.
    _USERS[key] -= 1
    if _USERS[key] == 0 and key[0] == os.getpid():
        del _USERS[key]
        os.close(_HELD.pop(key))


class InUse(Exception):
    """Another process uses the database."""


class Alone:
    """Hold the side file's lock exclusively: no other process may use the database meanwhile.

    Raises InUse when another process holds it (a server, an import)."""

    def __init__(self, database: str) -> None:
        self.database = database

    def __enter__(self) -> Alone:
        if fcntl is None:
            return self
        descriptor = _descriptor(self.database)
        try:
            fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InUse(self.database) from None
        return self

    def __exit__(self, *_exc: object) -> None:
        if fcntl is not None:
            fcntl.lockf(_descriptor(self.database), fcntl.LOCK_SH | fcntl.LOCK_NB)
