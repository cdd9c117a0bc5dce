"""How closely the API's answers follow the marketing platform's: the PROMO_COMPAT setting.

``"extended"`` (the default) answers with what a shop needs to know (which code a customer
got, a code's state after a change, our own texts for an import's codes) and refuses
unknown parameters. ``"altcraft"`` answers exactly what the platform's developer guide
prints, for a client written from those pages: `data` null for attach, activate, update
and detach; an imported code's `error_text` ""; a duplicate in `import` as the platform
reports it; `detach` of a code held by several profiles refused; unknown body parameters
ignored. HTTP statuses and `error_text` values are the same in both (SPEC.md).

A leaf: it reads a settings mapping and imports nothing of the package.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXTENDED = "extended"
ALTCRAFT = "altcraft"
MODES = (EXTENDED, ALTCRAFT)
# The deprecated setting that made attach's data null; True now means PROMO_COMPAT "altcraft".
DEPRECATED_ALIAS = "PROMO_ATTACH_NULL_DATA"


def compat_mode(config: Mapping[str, Any]) -> str:
    """Return the mode the settings `config` ask for."""
    if config.get(DEPRECATED_ALIAS):
        return ALTCRAFT
    return ALTCRAFT if config.get("PROMO_COMPAT") == ALTCRAFT else EXTENDED


def is_strict(config: Mapping[str, Any]) -> bool:
    """Say whether answers must be exactly the platform's."""
    return compat_mode(config) == ALTCRAFT


def check_setting(config: Mapping[str, Any]) -> str | None:
    """Refuse a PROMO_COMPAT that names no mode; return a deprecation warning to log, if any."""
    mode = config.get("PROMO_COMPAT", EXTENDED)
    if mode not in MODES:
        raise ValueError(
            f"PROMO_COMPAT must be one of {', '.join(map(repr, MODES))}, not {mode!r}."
        )
    if config.get(DEPRECATED_ALIAS):
        return (
            f"{DEPRECATED_ALIAS} is deprecated: set PROMO_COMPAT = {ALTCRAFT!r} instead "
            "(it is read as that now)."
        )
    return None
