"""The merchant's page: `{prefix}/admin`, server-rendered, behind a sign-in."""

from . import auth, customers, errors, filters, views
from .blueprint import bp

__all__ = ["auth", "bp", "customers", "errors", "filters", "views"]
