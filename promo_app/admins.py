"""Admin users of the standalone page: passwords stored as werkzeug hashes, never as text."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .errors import InvalidInput
from .models import AdminUser, new_session_nonce
from .text import unstorable

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
    if unstorable(name) or not name.isprintable():
        raise AdminUserError("An admin name has no control characters.")
    _check_password(password)
    user = session.scalar(select(AdminUser).where(AdminUser.name == name))
    created = user is None
    if user is None:
        user = AdminUser(name=name)
        session.add(user)
    _set_password(session, user, password)
    return user, created


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AdminUserError(f"A password has at least {MIN_PASSWORD_LENGTH} characters.")


def _set_password(session: Session, user: AdminUser, password: str) -> None:
    user.password_hash = generate_password_hash(password)
    # A new password ends every session of the old one.
    user.session_nonce = new_session_nonce()
    session.flush()


def add_admin(session: Session, name: str, password: str) -> AdminUser:
    """Create admin `name`; refuse a name that is taken (its password stays); the caller
    commits."""
    if session.scalar(select(AdminUser.id).where(AdminUser.name == name.strip())) is not None:
        raise AdminUserError(f"An admin named {name.strip()!r} exists already.")
    return set_admin_user(session, name, password)[0]


def _get_admin(session: Session, admin_id: int) -> AdminUser:
    user = session.get(AdminUser, admin_id)
    if user is None:
        raise AdminUserError("There is no such admin (removed meanwhile?).")
    return user


def reset_password(session: Session, admin_id: int, password: str) -> AdminUser:
    """Give admin `admin_id` a new password, ending every session they have; the caller
    commits."""
    _check_password(password)
    user = _get_admin(session, admin_id)
    _set_password(session, user, password)
    return user


class LastAdminError(AdminUserError):
    """Removing this admin would leave nobody who can sign in."""


def remove_admin(session: Session, admin_id: int) -> str:
    """Remove admin `admin_id` and return their name, refusing the last admin; the caller
    commits, or rolls back on an error.

    Every session of theirs ends with the row: a page session is let in only while an
    admin row has its id and nonce, and a later admin never has the same nonce. Two
    merchants removing the last two admins at once cannot leave none: the rows are locked
    first on PostgreSQL, and on SQLite the count runs after the delete, under the write
    lock the delete took.
    """
    session.execute(select(AdminUser.id).with_for_update())
    name = _get_admin(session, admin_id).name
    session.execute(delete(AdminUser).where(AdminUser.id == admin_id))
    if not session.scalar(select(func.count()).select_from(AdminUser)):
        raise LastAdminError(
            f"{name!r} is the last admin: nobody could sign in without them. "
            "Add another admin first. Nothing was changed."
        )
    return name


def authenticate_admin(session: Session, name: str, password: str) -> AdminUser | None:
    """Return the admin user with this name and password, or None."""
    if unstorable(name):
        # No admin has such a name (PostgreSQL could not even compare it): a wrong name.
        check_password_hash(_NOBODY_HASH, password)
        return None
    user = session.scalar(select(AdminUser).where(AdminUser.name == name.strip()))
    if user is None:
        check_password_hash(_NOBODY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def session_nonce(session: Session, user: AdminUser) -> str:
    """Return the nonce that the page sessions of `user` carry, making one if it has none
    (an admin made before sessions were revocable); the caller commits."""
    if user.session_nonce is None:
        user.session_nonce = new_session_nonce()
        session.flush()
    return user.session_nonce


def end_sessions(session: Session, admin_id: int) -> None:
    """End every page session of the admin `admin_id`, on every server; the caller commits."""
    session.execute(
        update(AdminUser).where(AdminUser.id == admin_id).values(session_nonce=new_session_nonce())
    )
