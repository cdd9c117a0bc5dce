"""The merchant's page: `{prefix}/admin`, server-rendered, behind a sign-in."""

from . import actions, admins, auth, customers, errors, filters, generate, tokens, uploads, views
from .blueprint import bp

__all__ = [
    "actions",
    "admins",
    "auth",
    "bp",
    "customers",
    "errors",
    "filters",
    "generate",
    "tokens",
    "uploads",
    "views",
]
