"""A pool draw on PostgreSQL in one round trip: the token check, the profile lookup, the draw
and the attachment in one statement, committed as it ends.

With the database on another machine every statement of a call waits for the network; the
full path (attach.py) sends six for a draw (BEGIN, token, profile, draw, attachment, COMMIT).
This one statement does the common case, on a connection in autocommit, so that the
statement is its own transaction. When it attaches nothing (a bad or limited token, no
profile or several, no code at the head of the pool, a one-per-profile program whose
profile holds a code, a race lost), the caller runs the full path, which tells those
cases apart in SPEC.md's order and with its texts; nothing was changed meanwhile.

The statement is a chain of CTEs, each reading the one before: `caller`, `found`, `profile`,
`taken` (UPDATE ... RETURNING), `attached` (INSERT ... RETURNING), `recorded` (the event in
the history, INSERT ... SELECT ... FROM attached).
bench/round_trips.py counts the statements; bench/RESULTS.md has the figures.
"""

from __future__ import annotations

from datetime import datetime

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
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .attach import AttachResult
from .db.direct import DirectStatement
from .events import ATTACHED, counted
from .models import (
    ApiToken,
    Attachment,
    CustomField,
    Event,
    LoyaltyProgram,
    Profile,
    ProfileFieldValue,
    PromoCode,
    TokenProgramScope,
    TokenScope,
)
from .pool import pool_head
from .profiles import ProfileKey
from .profiles.matching import KEY_OF_MODE, MATCHING_MODES
from .times import utcnow
from .token_use import note_use
from .tokens import hash_token
from .webhook import note_drawn


def _grant() -> CTE:
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


def _draw_statement(mode: str) -> Select:
    """The whole draw for one matching mode; it answers (code, profile_id, the token's id)
    or no row."""
    codes, attachments = PromoCode.__table__, Attachment.__table__
    programs = LoyaltyProgram.__table__
    grant = _grant()
    found = _found(mode).where(exists(select(grant.c.id))).cte("found")
    # Exactly one profile, or none: two are "Several profiles match", for the full path.
    profile = (
        select(found.c.id, found.c.profile_id)
        .where(select(func.count()).select_from(found).scalar_subquery() == 1)
        .cte("profile")
    )
    profile_pk = select(profile.c.id).scalar_subquery()
    # The same draw as attach.py's: the head of the pool, unexpired, not held by another
    # draw, and in a one-per-profile program only for a profile that holds none of it.
    one_per_profile = select(programs.c.id).where(
        programs.c.id == bindparam("program_id"), programs.c.one_per_profile
    )
    held = codes.alias("held")
    holds_one = exists(
        one_per_profile.where(
            exists().where(
                attachments.c.profile_pk == profile_pk,
                attachments.c.code_id == held.c.id,
                held.c.loyalty_id == bindparam("program_id"),
            )
        )
    )
    head = (
        pool_head().where(exists(select(profile.c.id))).limit(1).with_for_update(skip_locked=True)
    )
    unexpired = or_(codes.c.expire_date.is_(None), codes.c.expire_date > bindparam("now"))
    taken = (
        update(codes)
        .where(codes.c.id == head.scalar_subquery(), codes.c.free, unexpired, ~holds_one)
        .values(free=False)
        .returning(codes.c.id, codes.c.code)
        .cte("taken")
    )
    attached = (
        insert(attachments)
        .from_select(
            ["code_id", "profile_pk", "personal", "attached", "one_per_profile_loyalty_id"],
            select(
                taken.c.id,
                profile.c.id,
                true(),
                bindparam("now", type_=attachments.c.attached.type),
                one_per_profile.scalar_subquery(),
            ).select_from(taken.join(profile, true())),
        )
        .returning(attachments.c.code_id, attachments.c.profile_pk)
        .cte("attached")
    )
    # The attachment's event in the history (events.py), in the same statement.
    events = Event.__table__
    recorded = (
        insert(events)
        .from_select(
            ["at", "kind", "actor", "db_id", "loyalty_id", "code", "profile_id"],
            select(
                bindparam("now", type_=events.c.at.type),
                literal(ATTACHED),
                func.substr(grant.c.name, 1, 255),
                bindparam("db_id"),
                bindparam("program_id"),
                taken.c.code,
                profile.c.profile_id,
            )
            .select_from(attached)
            .join(taken, taken.c.id == attached.c.code_id)
            .join(profile, profile.c.id == attached.c.profile_pk)
            .join(grant, true()),
        )
        .cte("recorded")
    )
    return (
        select(taken.c.code, profile.c.profile_id, select(grant.c.id).scalar_subquery())
        .select_from(attached)
        .join(taken, taken.c.id == attached.c.code_id)
        .join(profile, profile.c.id == attached.c.profile_pk)
        .add_cte(recorded)
    )


_DRAWS = {mode: DirectStatement(_draw_statement(mode)) for mode in MATCHING_MODES}


def try_attach(
    engine: Engine,
    secret: str,
    *,
    db_id: int,
    loyalty_id: int,
    profile_key: ProfileKey,
    code: str | None,
) -> AttachResult | None:
    """On PostgreSQL, a pool draw (no `code`) in one statement; None leaves the call to
    the full path."""
    if code is not None or engine.dialect.name != "postgresql":
        return None
    return draw_in_one_statement(
        engine, secret, db_id=db_id, loyalty_id=loyalty_id, profile_key=profile_key, now=utcnow()
    )


def draw_in_one_statement(
    engine: Engine,
    secret: str,
    *,
    db_id: int,
    loyalty_id: int,
    profile_key: ProfileKey,
    now: datetime,
) -> AttachResult | None:
    """Attach the oldest free code of program `loyalty_id` to the profile `profile_key`
    names, for the token `secret`, in one statement committed as it ends; None if it
    attached nothing (then nothing was changed)."""
    params = {
        "token_hash": hash_token(secret),
        "db_id": db_id,
        "program_id": loyalty_id,
        "value": KEY_OF_MODE.get(profile_key.mode, str)(profile_key.value),
        "field_name": profile_key.field_name or "",
        "now": now,
    }
    with engine.connect() as connection:
        # Autocommit: the statement is its own transaction, no BEGIN or COMMIT sent.
        connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            rows = _DRAWS[profile_key.mode].rows(connection, params)
            if rows:
                counted(connection)  # its event, for the history's pruning
        except IntegrityError:
            # A concurrent draw gave this profile a code of its one-per-profile program
            # first; the full path answers with that code.
            return None
    if not rows:
        return None
    [(code, profile_id, token_id)] = rows
    # What the full path does beside the draw: the token's last use, the webhook's note.
    note_use(engine, token_id)
    note_drawn(engine, loyalty_id)
    return AttachResult(code, loyalty_id, profile_id, now)
