"""The merchant's page: `{prefix}/admin`, server-rendered, behind a sign-in."""

from . import auth, errors, filters, generate, views
from .blueprint import bp

__all__ = ["auth", "bp", "errors", "filters", "generate", "views"]
