"""The API's verbs as plain functions: they take a session and parameters, never a request.

Each returns what the answer's `data` holds; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from . import codes, events
from .attach import AttachResult, attach_code, claim_free_code, find_targets, held_code
from .codes import UNCHANGED, get_program
from .db.binding import promo_connection
from .errors import IncorrectRequest, NoCodesAvailable, PromoError
from .generating.patterns import DEFAULT_ALPHABET, Pattern, PatternError
from .generating.writing import GenerationReport, generate_codes
from .importing.batches import import_codes
from .importing.report import ImportLine, ImportReport, Outcome
from .profiles import ProfileKey, find_profile
from .profiles.matching import find_profile_or_deleted
from .times import utcnow
from .tokens import Grant, check_database_access
from .webhook import note_drawn


class ImportOutcomes(NamedTuple):
    """What `import` says about each code: (error, error_text). Stable, as error_text is."""

    imported: tuple[int, str]
    duplicate: tuple[int, str]
    invalid: tuple[int, str]


IMPORT_OUTCOMES = ImportOutcomes(
    imported=(0, "Successful operation"),
    duplicate=(409, "Promo code already exists"),
    invalid=(400, "Invalid promo code"),
)
# As the platform's developer guide prints them (PROMO_COMPAT "altcraft"); it shows no
# invalid code, so that one is ours.
PLATFORM_IMPORT_OUTCOMES = ImportOutcomes(
    imported=(0, ""),
    duplicate=(500, "Promocode duplicated"),
    invalid=(400, "Invalid promo code"),
)


def attach(
    connection: Connection,
    token: Grant,
    *,
    db_id: int,
    loyalty_id: int,
    profile_key: ProfileKey,
    code: str | None = None,
) -> AttachResult:
    """Attach `code`, or a free code of the program, to the profile `profile_key` names.

    It runs on a plain connection of the promo engine, not a session: the call the shops
    make most, it uses no ORM objects, and the session's bookkeeping would cost as much
    as the database's own work. A pool draw checks that the database and the program
    exist only when it fails: a profile of the database was found, and a code of the
    program drawn, so both exist. The errors are the same, in the same order. An attachment
    made now is recorded in the history, in the same transaction (a retry's is not).
    """
    check_database_access(token, db_id)
    note_drawn(connection.engine, loyalty_id)  # the alert webhook looks later, if it is set
    result = _attach(connection, db_id, loyalty_id, profile_key, code)
    if result.new:
        events.record_attached(
            connection,
            token.name,
            db_id,
            loyalty_id,
            result.code,
            result.profile_id,
            result.attached,
        )
    return result


def _attach(
    connection: Connection,
    db_id: int,
    loyalty_id: int,
    profile_key: ProfileKey,
    code: str | None,
) -> AttachResult:
    try:
        profile = find_profile(connection, db_id, profile_key)
        if code is None:
            return claim_free_code(connection, loyalty_id, profile, utcnow())
    except NoCodesAvailable:
        # In a one-per-profile program, a profile that holds a code gets that code again.
        program = find_targets(connection, db_id, loyalty_id)
        held = held_code(connection, program, profile) if program.one_per_profile else None
        if held is None:
            raise
        return held
    except PromoError:
        find_targets(connection, db_id, loyalty_id)  # a missing database or program first
        raise
    program = find_targets(connection, db_id, loyalty_id)
    return attach_code(connection, program, profile, code)


@dataclass
class ImportResult:
    """The answer of `import`: one outcome per code looked at, and the counts."""

    data: list[dict[str, Any]]
    inserted: int
    duplicated: int
    discarded_by_limit: int


def import_(
    session: Session,
    *,
    loyalty_id: int,
    codes_given: list[str | None],
    limit: int,
    outcomes: ImportOutcomes = IMPORT_OUTCOMES,
    actor: str = events.CLI,
) -> ImportResult:
    """Add the first `limit` codes to the program; say for each what became of it.

    `data[i]` is the outcome of `codes_given[i]`, in the words of `outcomes`; codes past
    the limit are only counted.
    """
    program = get_program(session, loyalty_id)
    kept = codes_given[:limit]
    lines = [ImportLine(index, raw or "") for index, raw in enumerate(kept)]
    report = import_codes(session, program, lines, report=ImportReport(keep=None))
    problems = {line: outcome for line, _raw, outcome, _message in report.problems}
    data = []
    for item in lines:
        outcome = problems.get(item.line)
        if outcome is None:
            error, error_text = outcomes.imported
        elif outcome == Outcome.DUPLICATED:
            error, error_text = outcomes.duplicate
        else:
            error, error_text = outcomes.invalid
        data.append({"code": item.raw, "error": error, "error_text": error_text})
    if report.inserted:
        counts = {"inserted": report.inserted, "duplicated": report.duplicated}
        counts["invalid"] = report.invalid
        events.record(
            promo_connection(session), events.IMPORTED, actor, loyalty_id=program.id, detail=counts
        )
    return ImportResult(
        data=data,
        inserted=report.inserted,
        duplicated=report.duplicated,
        discarded_by_limit=len(codes_given) - len(kept),
    )


def get(session: Session, *, loyalty_id: int, code: str) -> dict[str, Any]:
    """Describe `code` of the program."""
    promo = codes.get_code(session, get_program(session, loyalty_id), code)
    return codes.code_state(session, promo)


def activate(
    session: Session, *, loyalty_id: int, code: str, actor: str = events.CLI
) -> dict[str, Any]:
    """Mark an attached code used; answer its state."""
    promo = codes.get_code(session, get_program(session, loyalty_id), code)
    if promo.activated is None:
        codes.activate_code(session, promo)
        _record(session, events.ACTIVATED, actor, promo)
    return codes.code_state(session, promo)


def update(
    session: Session,
    *,
    loyalty_id: int,
    code: str,
    activated: bool | None = None,
    expire_date: datetime | None = UNCHANGED,
    actor: str = events.CLI,
) -> dict[str, Any]:
    """Set or clear a code's activation and expiry; answer its state."""
    promo = codes.get_code(session, get_program(session, loyalty_id), code)
    before = {"activated": promo.activated, "expire_date": promo.expire_date}
    codes.update_code(session, promo, activated=activated, expire_date=expire_date)
    after = {"activated": promo.activated, "expire_date": promo.expire_date}
    changed = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
    if changed:
        _record(session, events.UPDATED, actor, promo, detail=changed)
    return codes.code_state(session, promo)


def _record(session: Session, kind: str, actor: str, promo: Any, **more: Any) -> None:
    """Record an event of one code in the session's transaction."""
    events.record(
        promo_connection(session), kind, actor, loyalty_id=promo.loyalty_id, code=promo.code, **more
    )


def detach(
    session: Session,
    token: Grant,
    *,
    db_id: int,
    loyalty_id: int,
    profile_key: ProfileKey,
    code: str,
    refuse_shared: bool = False,
) -> dict[str, Any]:
    """Remove the attachment of `code` to the profile `profile_key` names; answer its state.

    A deleted profile's profile_id still finds it here: its codes stay taken until a
    merchant detaches them on purpose. With `refuse_shared`, a code attached to several
    profiles is refused (the platform's rule).
    """
    check_database_access(token, db_id)
    connection = promo_connection(session)
    program = find_targets(connection, db_id, loyalty_id)
    profile = find_profile_or_deleted(connection, db_id, profile_key)
    promo = codes.get_code(session, program, code)
    codes.detach_code(session, promo, profile, refuse_shared=refuse_shared)
    _record(session, events.DETACHED, token.name, promo, db_id=db_id, profile_id=profile.profile_id)
    return codes.code_state(session, promo)


def export_all(
    session: Session, *, loyalty_id: int, batch_size: int = 2000
) -> Iterator[dict[str, Any]]:
    """Check the program now, then return an iterator over all its codes, read in batches.

    The program is checked before this returns, so that an unknown one is an ordinary
    error answer rather than a broken stream.
    """
    program_id = get_program(session, loyalty_id).id

    def items() -> Iterator[dict[str, Any]]:
        for batch in codes.export_batches(session, program_id, batch_size):
            yield from batch

    return items()


def generate(
    session: Session,
    *,
    loyalty_id: int,
    count: int,
    pattern: str,
    prefix: str = "",
    suffix: str = "",
    alphabet: str = DEFAULT_ALPHABET,
    expire_date: datetime | None = None,
    force: bool = False,
    limit: int,
    actor: str = events.CLI,
) -> GenerationReport:
    """Add `count` (at most `limit`) new codes of `pattern` to the program; answer them."""
    if count > limit:
        raise IncorrectRequest({"count": [f"At most {limit:,} codes a call."]})
    try:
        shape = Pattern(pattern, prefix, suffix, alphabet)
        program = get_program(session, loyalty_id)
        steps = generate_codes(
            session, program, shape, count, expire_date=expire_date, force=force, keep_codes=True
        )
        *_, report = steps
    except PatternError as error:
        raise IncorrectRequest({error.field: [str(error)]}) from None
    detail = {"inserted": report.inserted, "pattern": prefix + pattern + suffix}
    events.record(
        promo_connection(session), events.GENERATED, actor, loyalty_id=program.id, detail=detail
    )
    return report
