"""The page blueprint."""

from __future__ import annotations

from flask import (
    Blueprint,
)

bp = Blueprint(
    "promo_page",
    __name__,
    template_folder="templates",
    static_folder="static/promo",
    static_url_path="/static",
)
