"""The promo code API: `POST {prefix}/api/v1.1/promocodes/{verb}`."""

from . import views
from .blueprint import bp

__all__ = ["bp", "views"]
