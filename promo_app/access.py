"""What a token may reach: the programs of its databases, its programs, and reading only.

Every verb names a loyalty program; the API checks the caller's token against it right
after the parameters, before the verb reads or writes anything. A token with no limits
costs no query here (the attach hot path keeps its statements).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from .db.direct import DirectStatement
from .errors import AccessDenied
from .models import LoyaltyProgram
from .tokens import Grant, check_database_access

_PROGRAM_DATABASE = DirectStatement(
    select(LoyaltyProgram.__table__.c.db_id).where(
        LoyaltyProgram.__table__.c.id == bindparam("loyalty_id")
    )
)


def check_access(
    connection: Connection,
    grant: Grant,
    *,
    loyalty_id: int | None,
    db_id: int | None = None,
    writes: bool = True,
) -> None:
    """Refuse, with Access denied, a call that `grant` does not allow.

    A token limited to databases reaches only the programs that belong to one of them: a
    program of another database, an unassigned one and one that does not exist are all
    refused alike, so that the answer tells nothing about other shops' programs. A call
    that names no program (the profile verbs) names a database: a token limited to
    programs reaches the databases its programs serve.
    """
    if grant.unrestricted:
        return
    if writes and grant.read_only:
        raise AccessDenied({"token": ["This token may only read (get, export_all)."]})
    if db_id is not None:
        check_database_access(grant, db_id)
    if loyalty_id is None:
        if grant.loyalty_ids and not grant.db_ids and db_id not in _served(connection, grant):
            raise AccessDenied()
        return
    if grant.loyalty_ids and loyalty_id not in grant.loyalty_ids:
        raise AccessDenied()
    if grant.db_ids:
        owner = _PROGRAM_DATABASE.rows(connection, {"loyalty_id": loyalty_id})
        if not owner or owner[0][0] not in grant.db_ids:
            raise AccessDenied()


def _served(connection: Connection, grant: Grant) -> set[int]:
    """The databases that the programs a token is limited to serve."""
    programs = LoyaltyProgram.__table__
    query = select(programs.c.db_id).where(programs.c.id.in_(sorted(grant.loyalty_ids)))
    return {db_id for (db_id,) in connection.execute(query) if db_id is not None}
