"""The merchant's page: `{prefix}/admin`, server-rendered, behind a sign-in."""

from . import views
from .blueprint import bp

__all__ = ["bp", "views"]
