"""Loyalty programs: making one (the page and the CLI both call it)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .errors import InvalidInput
from .models import LoyaltyProgram


class ProgramNameError(InvalidInput):
    """A program name that cannot be used."""


def create_program(
    session: Session, name: str, universal: bool, one_per_profile: bool = False
) -> LoyaltyProgram:
    """Add a loyalty program; the caller commits. In a one-per-profile program a pool draw
    for a profile that holds a code of the program answers that code."""
    name = name.strip()
    if not name or len(name) > 255:
        raise ProgramNameError("A program name has 1 to 255 characters.")
    program = LoyaltyProgram(name=name, universal=universal, one_per_profile=one_per_profile)
    session.add(program)
    session.flush()
    return program
