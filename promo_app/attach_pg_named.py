"""The attachment of a named code (`code` given) on PostgreSQL in one round trip, as
attach_pg.py does a pool draw: the token check, the profile lookup, the code, the
attachment and its event in one statement, on a connection in autocommit.

It does the two common successes of SPEC.md's rules for a named code:

- the code exists in the program, is usable (not voided, not expired) and is free (a
  personal code attached to nobody, or a universal code this profile does not hold):
  it is attached, and the event written;
- the code is attached to this very profile already: success, nothing changes, the
  answer says when it was attached (as the full path's does);
- the program has no code of that name: it is created as the program's default kind
  says (personal or universal, INSERT ... ON CONFLICT DO NOTHING), attached, and the
  event written. The counting triggers (revision 0009) count it as they count the full
  path's insert and take: a personal code inserted already taken is "attached" at once.

A personal code that another profile holds (and is not voided: SPEC.md's order puts
"expired" first then) gives a row with no time: "already attached", the full path's
answer, and nothing written. Anything else gives no row (a bad or limited token, no
profile or several, an expired or voided code, a code a concurrent call has just
created) and the caller runs the full path, which answers in SPEC.md's order and with its
texts; nothing was changed meanwhile.

Two calls for one personal code: the take is `UPDATE ... WHERE free`, so the second waits
for the first's row lock and then finds the code taken (PostgreSQL checks the row's
condition again), attaches nothing, and the full path answers it ("already attached", or
success for the same profile). Two calls attaching one universal code to one profile: the
(code, profile) unique index refuses the second, which the full path then answers. Two
calls creating one new code: the second's insert waits for the first's and does nothing;
the full path answers it ("already attached" for a personal code, the attachment of the
universal code it finds).
Like attach.py's attach_code, a named code leaves the one-per-profile column unset.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CTE,
    Select,
    bindparam,
    exists,
    false,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine

from .attach import AttachResult
from .attach_pg_parts import grant, one_profile, parameters, recorded, run_alone
from .db.direct import DirectStatement
from .errors import AlreadyAttached
from .models import Attachment, LoyaltyProgram, PromoCode
from .profiles import ProfileKey
from .profiles.matching import MATCHING_MODES
from .token_use import note_use
from .webhook import note_drawn


def _created(code: CTE, profile: CTE) -> CTE:
    """The code, created in the program as its default kind says, when the program has none
    of that name (attach.py's find_or_create_code, with the columns the model's defaults
    set): taken at once, so a personal code is made not free, as the full path's insert and
    take leave it. A concurrent call that created it first makes this insert do nothing
    (ON CONFLICT), and the full path answers the call."""
    codes, programs = PromoCode.__table__, LoyaltyProgram.__table__
    return (
        pg_insert(codes)
        .from_select(
            ["loyalty_id", "code", "universal", "free", "created"],
            select(
                programs.c.id,
                bindparam("code", type_=codes.c.code.type),
                programs.c.universal,
                false(),
                bindparam("now", type_=codes.c.created.type),
            ).where(
                programs.c.id == bindparam("program_id"),
                exists(select(profile.c.id)),
                ~exists(select(code.c.id)),
            ),
        )
        .on_conflict_do_nothing(index_elements=["loyalty_id", "code"])
        .returning(codes.c.id, codes.c.code, codes.c.universal)
        .cte("created")
    )


def _named_statement(mode: str) -> Select:
    """The whole attach of a named code for one matching mode; it answers (code,
    profile_id, attached, whether this call attached it, the token's id) or no row."""
    codes, attachments = PromoCode.__table__, Attachment.__table__
    caller = grant()
    profile = one_profile(mode, caller)
    # The code of the program, looked at only for a good token and one profile.
    code = (
        select(codes.c.id, codes.c.code, codes.c.universal, codes.c.free, codes.c.voided)
        .where(
            codes.c.loyalty_id == bindparam("program_id"),
            codes.c.code == bindparam("code"),
            exists(select(profile.c.id)),
        )
        .cte("code")
    )
    code_id = select(code.c.id).scalar_subquery()
    # This profile's attachment of it, if it has one (the pair is unique).
    held = (
        select(attachments.c.attached)
        .where(
            attachments.c.code_id == code_id,
            attachments.c.profile_pk == select(profile.c.id).scalar_subquery(),
        )
        .cte("held")
    )
    usable = (
        codes.c.id == code_id,
        codes.c.voided.is_(None),
        or_(codes.c.expire_date.is_(None), codes.c.expire_date > bindparam("now")),
        ~exists(select(held.c.attached)),
    )
    # A personal code is taken if it is still free once its row is ours; a universal
    # code is not taken, only attached.
    taken = (
        update(codes)
        .where(codes.c.universal == false(), codes.c.free, *usable)
        .values(free=False)
        .returning(codes.c.id, codes.c.code, codes.c.universal)
        .cte("taken")
    )
    shared = select(codes.c.id, codes.c.code, codes.c.universal).where(codes.c.universal, *usable)
    created = _created(code, profile)
    chosen = union_all(
        select(taken.c.id, taken.c.code, taken.c.universal),
        shared,
        select(created.c.id, created.c.code, created.c.universal),
    ).cte("chosen")
    attached = (
        insert(attachments)
        .from_select(
            ["code_id", "profile_pk", "personal", "attached"],
            select(
                chosen.c.id,
                profile.c.id,
                ~chosen.c.universal,
                bindparam("now", type_=attachments.c.attached.type),
            ).select_from(chosen.join(profile, true())),
        )
        .returning(attachments.c.code_id, attachments.c.profile_pk, attachments.c.attached)
        .cte("attached")
    )
    token_id = select(caller.c.id).scalar_subquery()
    null_time = literal(None, type_=attachments.c.attached.type)
    made = (
        select(chosen.c.code, profile.c.profile_id, attached.c.attached, true(), token_id)
        .select_from(attached)
        .join(chosen, chosen.c.id == attached.c.code_id)
        .join(profile, profile.c.id == attached.c.profile_pk)
    )
    again = select(code.c.code, profile.c.profile_id, held.c.attached, false(), token_id)
    again = again.select_from(held.join(code, true()).join(profile, true()))
    # A personal code another profile holds, as the statement's snapshot sees it (before
    # `taken`): "already attached", the full path's answer, as no attached time.
    other = (
        select(code.c.code, profile.c.profile_id, null_time, false(), token_id)
        .select_from(code.join(profile, true()))
        .where(
            code.c.universal == false(),
            code.c.free == false(),
            code.c.voided.is_(None),
            ~exists(select(held.c.attached)),
        )
    )
    return union_all(made, again, other).add_cte(recorded(caller, profile, attached, chosen))


_NAMED = {mode: DirectStatement(_named_statement(mode)) for mode in MATCHING_MODES}


def named_in_one_statement(
    engine: Engine,
    secret: str,
    *,
    db_id: int,
    loyalty_id: int,
    profile_key: ProfileKey,
    code: str,
    now: datetime,
) -> AttachResult | None:
    """Attach `code` of program `loyalty_id` to the profile `profile_key` names, for the
    token `secret`, in one statement committed as it ends, or answer its attachment if it
    has it already; None if it did neither (then nothing was changed). AlreadyAttached: the
    code is personal and another profile holds it (nothing was changed)."""
    params = {**parameters(secret, db_id, loyalty_id, profile_key, now), "code": code}
    row = run_alone(engine, _NAMED[profile_key.mode], params, wrote_event=lambda row: row[3])
    if row is None:
        return None
    found, profile_id, attached, new, token_id = row
    # What the full path does beside the attachment: the token's last use, the webhook's note.
    note_use(engine, token_id)
    note_drawn(engine, loyalty_id)
    if attached is None:
        raise AlreadyAttached()
    return AttachResult(found, loyalty_id, profile_id, attached, new=new)
