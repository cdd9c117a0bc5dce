"""The API's verbs as plain functions: they take a session and parameters, never a request.

Each returns what the answer's `data` holds; the caller commits.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from .codes import AttachResult, attach_code, get_program
from .models import ApiToken
from .profiles import ProfileKey, find_profile, get_database
from .tokens import check_database_access


def attach(
    session: Session,
    token: ApiToken,
    *,
    db_id: int,
    loyalty_id: int,
    profile_key: ProfileKey,
    code: str | None = None,
) -> AttachResult:
    """Attach `code`, or a free code of the program, to the profile `profile_key` names."""
    check_database_access(token, db_id)
    database = get_database(session, db_id)
    program = get_program(session, loyalty_id)
    profile = find_profile(session, database, profile_key)
    return attach_code(session, program, profile, code)
