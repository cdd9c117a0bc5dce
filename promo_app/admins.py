"""Admin users of the standalone page: passwords stored as werkzeug hashes, never as text."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .errors import InvalidInput
from .models import AdminUser

MIN_PASSWORD_LENGTH = 8

# Checked when the name is unknown, so that a wrong name takes as long as a wrong password.
_NOBODY_HASH = generate_password_hash("not a password of anyone")


class AdminUserError(InvalidInput):
    """A name or password that cannot be used."""


def set_admin_user(session: Session, name: str, password: str) -> tuple[AdminUser, bool]:
    """Create admin `name`, or give it a new password if it exists; the caller commits.

    Returns the user and whether it is new.
    """
    name = name.strip()
    if not name or len(name) > 255:
        raise AdminUserError("An admin name has 1 to 255 characters.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AdminUserError(f"A password has at least {MIN_PASSWORD_LENGTH} characters.")
    user = session.scalar(select(AdminUser).where(AdminUser.name == name))
    created = user is None
    if user is None:
        user = AdminUser(name=name)
        session.add(user)
    user.password_hash = generate_password_hash(password)
    session.flush()
    return user, created


def authenticate_admin(session: Session, name: str, password: str) -> AdminUser | None:
    """Return the admin user with this name and password, or None."""
    user = session.scalar(select(AdminUser).where(AdminUser.name == name.strip()))
    if user is None:
        check_password_hash(_NOBODY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None
