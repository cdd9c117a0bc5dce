"""Which programs run low: personal programs whose pool of free codes is below the threshold
the page warns at (PROMO_LOW_CODES_THRESHOLD), or empty. Universal programs never run dry."""

from __future__ import annotations

from typing import Any

LOW, EMPTY = "low", "empty"


def pool_state(program: dict[str, Any], threshold: int) -> str:
    """Say how a program's pool stands: "ok", "low" or "empty" (from `program_counts`)."""
    if program["kind"] != "personal":
        return "ok"
    if program["free"] == 0:
        return EMPTY
    return LOW if program["free"] < threshold else "ok"


def alert_line(program: dict[str, Any], threshold: int) -> str:
    if program["free"] == 0:
        return (
            f"EMPTY program {program['loyalty_id']} {program['name']!r}: no free codes left; "
            "attach calls without a code answer 'No promo codes available'."
        )
    return (
        f"LOW program {program['loyalty_id']} {program['name']!r}: "
        f"{program['free']} free codes left (threshold {threshold})."
    )
