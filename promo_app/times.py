"""Times as the service stores and writes them: naive UTC in the database, RFC 3339 outside."""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def utcnow() -> datetime:
    """Return the current UTC time as a naive datetime, the form every column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_expire_date(raw: str) -> datetime:
    """Parse an RFC 3339 time or a date (valid through that whole day, UTC) into naive UTC."""
    text = raw.strip()
    shown = repr(raw if len(raw) <= 40 else raw[:40] + "...")
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(23, 59, 59))
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError(
            f"Not a date: {shown}; use YYYY-MM-DD or an RFC 3339 time such as 2026-12-31T23:59:59Z."
        ) from None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise ValueError(
                f"Not a date we can keep: {shown} is outside the years 1 to 9999 in UTC."
            ) from None
    return moment


def rfc3339(moment: datetime | None) -> str:
    """Format a stored (naive UTC) time as RFC 3339; an unset time is ""."""
    if moment is None:
        return ""
    return moment.replace(microsecond=0).isoformat() + "Z"
