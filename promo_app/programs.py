"""Loyalty programs: making one (the page and the CLI both call it), for a database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import events
from .db.binding import promo_connection
from .errors import InvalidInput
from .models import Database, LoyaltyProgram
from .profiles import get_database


class ProgramNameError(InvalidInput):
    """A program name that cannot be used."""


def create_program(
    session: Session,
    name: str,
    universal: bool,
    db_id: int | None = None,
    *,
    one_per_profile: bool = False,
    actor: str = events.CLI,
) -> LoyaltyProgram:
    """Add a loyalty program, serving the customers of database `db_id` if given (tokens
    limited to that database reach it), and its event; the caller commits. In a
    one-per-profile program a pool draw for a profile that holds a code of the program
    answers that code."""
    name = name.strip()
    if not name or len(name) > 255:
        raise ProgramNameError("A program name has 1 to 255 characters.")
    if db_id is not None:
        get_database(session, db_id)
    program = LoyaltyProgram(
        name=name, universal=universal, db_id=db_id, one_per_profile=one_per_profile
    )
    session.add(program)
    session.flush()
    events.record(
        promo_connection(session),
        events.PROGRAM_CREATED,
        actor,
        db_id=db_id,
        loyalty_id=program.id,
        detail={"name": name, "universal": universal, "one_per_profile": one_per_profile},
    )
    return program


def databases(session: Session) -> list[tuple[int, str]]:
    """The databases a new program may serve, as (db_id, name), oldest first."""
    return [
        tuple(row)
        for row in session.execute(select(Database.id, Database.name).order_by(Database.id))
    ]
