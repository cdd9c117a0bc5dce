"""Customer profiles: finding them (matching), adding or updating them one at a time or in
batches, reading them with their codes, deleting them, and the Python API for a host."""

from .databases import DatabaseNameError, create_database, get_database
from .matching import (
    MATCHING_MODES,
    ProfileKey,
    ProfileRef,
    add_profile,
    email_key,
    find_profile,
    phone_key,
)

__all__ = [
    "MATCHING_MODES",
    "DatabaseNameError",
    "ProfileKey",
    "ProfileRef",
    "add_profile",
    "create_database",
    "email_key",
    "find_profile",
    "get_database",
    "phone_key",
]
