"""Loyalty programs: making one (the page and the CLI both call it)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .errors import InvalidInput
from .models import LoyaltyProgram


class ProgramNameError(InvalidInput):
    """A program name that cannot be used."""


def create_program(session: Session, name: str, universal: bool) -> LoyaltyProgram:
    """Add a loyalty program; the caller commits."""
    name = name.strip()
    if not name or len(name) > 255:
        raise ProgramNameError("A program name has 1 to 255 characters.")
    program = LoyaltyProgram(name=name, universal=universal)
    session.add(program)
    session.flush()
    return program
