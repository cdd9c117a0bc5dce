"""The merchant's page: `{prefix}/admin`, server-rendered, behind a sign-in."""

from . import actions, auth, customers, errors, filters, generate, uploads, views
from .blueprint import bp

__all__ = [
    "actions",
    "auth",
    "bp",
    "customers",
    "errors",
    "filters",
    "generate",
    "uploads",
    "views",
]
