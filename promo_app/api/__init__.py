"""The promo code API: `POST {prefix}/api/v1.1/promocodes/{verb}` and `…/profiles/{verb}`."""

from . import profile_views, views
from .blueprint import bp

__all__ = ["bp", "profile_views", "views"]
