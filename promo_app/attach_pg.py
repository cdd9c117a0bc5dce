"""An attach on PostgreSQL in one round trip: the token check, the profile lookup, the draw
(or the named code) and the attachment in one statement, committed as it ends.

With the database on another machine every statement of a call waits for the network; the
full path (attach.py) sends six for a draw (BEGIN, token, profile, draw, attachment, COMMIT).
This one statement does the common case, on a connection in autocommit, so that the
statement is its own transaction. When it attaches nothing (a bad or limited token, no
profile or several, no code at the head of the pool, a one-per-profile program whose
profile holds a code, a race lost), the caller runs the full path, which tells those
cases apart in SPEC.md's order and with its texts; nothing was changed meanwhile. A named
code (`code` given) has its own statement, attach_pg_named.py.

The statement is a chain of CTEs, each reading the one before: `caller`, `found`, `profile`
(attach_pg_parts.py), `taken` (UPDATE ... RETURNING), `attached` (INSERT ... RETURNING),
`recorded` (the event in the history, INSERT ... SELECT ... FROM attached).
bench/round_trips.py counts the statements; bench/RESULTS.md has the figures.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, bindparam, exists, insert, or_, select, true, update
from sqlalchemy.engine import Engine

from .attach import AttachResult
from .attach_pg_named import named_in_one_statement
from .attach_pg_parts import grant, one_profile, parameters, recorded, run_alone
from .db.direct import DirectStatement
from .models import Attachment, LoyaltyProgram, PromoCode
from .pool import pool_head
from .profiles import ProfileKey
from .profiles.matching import MATCHING_MODES
from .times import utcnow
from .token_use import note_use
from .webhook import note_drawn


def _draw_statement(mode: str) -> Select:
    """The whole draw for one matching mode; it answers (code, profile_id, the token's id)
    or no row."""
    codes, attachments = PromoCode.__table__, Attachment.__table__
    programs = LoyaltyProgram.__table__
    caller = grant()
    profile = one_profile(mode, caller)
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
    return (
        select(taken.c.code, profile.c.profile_id, select(caller.c.id).scalar_subquery())
        .select_from(attached)
        .join(taken, taken.c.id == attached.c.code_id)
        .join(profile, profile.c.id == attached.c.profile_pk)
        .add_cte(recorded(caller, profile, attached, taken))
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
    """On PostgreSQL, a pool draw (no `code`) or the attachment of a named code in one
    statement; None leaves the call to the full path. A named code that another profile
    holds raises AlreadyAttached, the full path's answer."""
    if engine.dialect.name != "postgresql":
        return None
    where = {"db_id": db_id, "loyalty_id": loyalty_id, "profile_key": profile_key, "now": utcnow()}
    if code is None:
        return draw_in_one_statement(engine, secret, **where)
    return named_in_one_statement(engine, secret, code=code, **where)


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
    attached nothing (then nothing was changed). A unique index's refusal is a concurrent
    draw that gave this profile a code of its one-per-profile program first: the full path
    answers with that code."""
    params = parameters(secret, db_id, loyalty_id, profile_key, now)
    row = run_alone(engine, _DRAWS[profile_key.mode], params, wrote_event=lambda row: True)
    if row is None:
        return None
    code, profile_id, token_id = row
    # What the full path does beside the draw: the token's last use, the webhook's note.
    note_use(engine, token_id)
    note_drawn(engine, loyalty_id)
    return AttachResult(code, loyalty_id, profile_id, now)
