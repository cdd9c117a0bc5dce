"""What the one-statement attaches on PostgreSQL share (attach_pg.py, a pool draw, and
attach_pg_named.py, a named code): the token's grant, the profile lookup, the event in the
history, the parameters and the run of the statement in autocommit.

Each piece is a CTE of the one statement; the statement attaches something only when the
token may write to the program and the key names exactly one live profile, and otherwise
leaves the call to the full path (attach.py), which tells the cases apart in SPEC.md's
order and with its texts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    Select,
    and_,
    bindparam,
    exists,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .db.direct import DirectStatement
from .events import ATTACHED, counted
from .models import (
    ApiToken,
    CustomField,
    Event,
    LoyaltyProgram,
    Profile,
    ProfileFieldValue,
    TokenProgramScope,
    TokenScope,
)
from .profiles import ProfileKey
from .profiles.matching import KEY_OF_MODE
from .tokens import hash_token


def grant() -> CTE:
    """The token, if it is live and may write to program `program_id` of database `db_id`:
    the rules of access.py, as conditions."""
    tokens, scopes = ApiToken.__table__, TokenScope.__table__
    program_scopes, programs = TokenProgramScope.__table__, LoyaltyProgram.__table__
    own_scopes = scopes.c.token_id == tokens.c.id
    program_db = select(programs.c.db_id).where(programs.c.id == bindparam("program_id"))
    by_database = or_(
        not_(exists().where(own_scopes)),
        and_(
            exists().where(own_scopes, scopes.c.db_id == bindparam("db_id")),
            exists().where(own_scopes, scopes.c.db_id == program_db.scalar_subquery()),
        ),
    )
    own_programs = program_scopes.c.token_id == tokens.c.id
    by_program = or_(
        not_(exists().where(own_programs)),
        exists().where(own_programs, program_scopes.c.loyalty_id == bindparam("program_id")),
    )
    return (
        select(tokens.c.id, tokens.c.name)
        .where(
            tokens.c.token_hash == bindparam("token_hash"),
            tokens.c.revoked.is_(None),
            tokens.c.read_only == false(),
            by_database,
            by_program,
        )
        .cte("caller")
    )


def _found(mode: str) -> Select:
    """The live profiles of database `db_id` that the key names, two at most: the lookups
    of profiles/matching.py, a custom field found by its name in the same statement."""
    profiles, values = Profile.__table__, ProfileFieldValue.__table__
    fields = CustomField.__table__
    wanted = select(profiles.c.id, profiles.c.profile_id).limit(2)
    in_database = profiles.c.db_id == bindparam("db_id")
    if mode == "profile_id":
        return wanted.where(
            in_database, profiles.c.profile_id == bindparam("value"), profiles.c.deleted.is_(None)
        )
    if mode in ("email", "phone"):
        return wanted.where(in_database, profiles.c[f"{mode}_key"] == bindparam("value"))
    field = select(fields.c.id).where(
        fields.c.db_id == bindparam("db_id"), fields.c.name == bindparam("field_name")
    )
    return wanted.join(values, values.c.profile_pk == profiles.c.id).where(
        in_database,
        values.c.field_id == field.limit(1).scalar_subquery(),
        values.c.value == bindparam("value"),
    )


def one_profile(mode: str, caller: CTE) -> CTE:
    """The profile the key names (id, profile_id) when the caller's token is good and the
    key names exactly one: two are "Several profiles match", for the full path."""
    found = _found(mode).where(exists(select(caller.c.id))).cte("found")
    return (
        select(found.c.id, found.c.profile_id)
        .where(select(func.count()).select_from(found).scalar_subquery() == 1)
        .cte("profile")
    )


def recorded(caller: CTE, profile: CTE, attached: CTE, codes: CTE) -> CTE:
    """The attachment's event in the history (events.py), in the same statement: one row
    for each row of `attached` (code_id, profile_pk), its code read from `codes` (id, code)."""
    events = Event.__table__
    return (
        insert(events)
        .from_select(
            ["at", "kind", "actor", "db_id", "loyalty_id", "code", "profile_id"],
            select(
                bindparam("now", type_=events.c.at.type),
                literal(ATTACHED),
                func.substr(caller.c.name, 1, 255),
                bindparam("db_id"),
                bindparam("program_id"),
                codes.c.code,
                profile.c.profile_id,
            )
            .select_from(attached)
            .join(codes, codes.c.id == attached.c.code_id)
            .join(profile, profile.c.id == attached.c.profile_pk)
            .join(caller, true()),
        )
        .cte("recorded")
    )


def parameters(
    secret: str, db_id: int, loyalty_id: int, profile_key: ProfileKey, now: datetime
) -> dict[str, Any]:
    """The values every one-statement attach binds."""
    return {
        "token_hash": hash_token(secret),
        "db_id": db_id,
        "program_id": loyalty_id,
        "value": KEY_OF_MODE.get(profile_key.mode, str)(profile_key.value),
        "field_name": profile_key.field_name or "",
        "now": now,
    }


def run_alone(
    engine: Engine,
    statement: DirectStatement,
    params: dict[str, Any],
    wrote_event: Callable[[tuple], bool],
) -> tuple | None:
    """Run `statement` on a connection in autocommit, so that it is its own transaction (no
    BEGIN or COMMIT sent); return its one row, or None when it gave none or a unique index
    refused it (a concurrent call came first): then nothing was changed."""
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            rows = statement.rows(connection, params)
            if rows and wrote_event(rows[0]):
                counted(connection)  # its event, for the history's pruning
        except IntegrityError:
            return None
    if not rows:
        return None
    [row] = rows
    return row
