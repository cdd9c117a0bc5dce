"""`flask promo events`: the history, as CSV or JSON lines, streamed in batches."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, time, timedelta
from typing import Any

import click
from sqlalchemy.orm import Session

from .cli import command
from .db.binding import begin_read_only, promo_connection
from .events import KINDS
from .history import EventFilter, iter_events
from .state import current_promo
from .text import spreadsheet_safe
from .times import parse_expire_date

COLUMNS = ("id", "at", "kind", "actor", "db_id", "loyalty_id", "code", "profile_id", "detail")
_PROFILE_ID = re.compile(r"[0-9a-f]{24}\Z")


def parse_moment(option: str, text: str, *, end_of_day: bool) -> datetime:
    """A date (the start of that day UTC, or with `end_of_day` the start of the next) or an
    RFC 3339 time, as the naive UTC the table stores."""
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            return datetime.combine(day + timedelta(days=1 if end_of_day else 0), time.min)
        return parse_expire_date(text)
    except (ValueError, OverflowError) as error:
        message = str(error) if "Not a date" in str(error) else f"Not a date: {text[:40]!r}."
        raise click.ClickException(f"{option}: {message}") from None


def read_filter(
    since: str | None,
    until: str | None,
    loyalty_id: str | None,
    code: str | None,
    profile_id: str | None,
    kind: str | None,
) -> EventFilter:
    """Check the filter's options; a bad one is one line and exit status 1."""
    if loyalty_id is not None and not (
        loyalty_id.isascii() and loyalty_id.isdigit() and 0 < int(loyalty_id) < 2**31
    ):
        raise click.ClickException(f"--loyalty-id: not a program id: {loyalty_id[:40]!r}.")
    if code is not None and not (1 <= len(code) <= 255 and code.isprintable()):
        raise click.ClickException("--code: a code has 1 to 255 printable characters.")
    if profile_id is not None and not _PROFILE_ID.match(profile_id):
        raise click.ClickException("--profile-id: 24 lowercase hexadecimal characters.")
    if kind is not None and kind not in KINDS:
        raise click.ClickException(f"--kind: one of {', '.join(KINDS)}.")
    return EventFilter(
        since=parse_moment("--since", since, end_of_day=False) if since else None,
        until=parse_moment("--until", until, end_of_day=True) if until else None,
        loyalty_id=int(loyalty_id) if loyalty_id is not None else None,
        code=code,
        profile_id=profile_id,
        kind=kind,
    )


def csv_row(event: dict[str, Any]) -> list[Any]:
    """An event as a CSV row, safe to open in a spreadsheet (names and codes come from
    outside: a failed sign-in's name is whatever was typed)."""
    detail = json.dumps(event["detail"], ensure_ascii=False) if event["detail"] else ""
    row = {**event, "detail": detail}
    return [
        spreadsheet_safe(value) if isinstance(value, str) else ("" if value is None else value)
        for value in (row[name] for name in COLUMNS)
    ]


@command("events")
@click.option("--format", "output", type=click.Choice(["csv", "jsonl"]), default="csv")
@click.option("--since", help="From this date (UTC) or RFC 3339 time on.")
@click.option("--until", help="Up to this date (through that day, UTC) or before this time.")
@click.option("--loyalty-id", help="Only this loyalty program's events.")
@click.option("--code", help="Only this code's events (with --loyalty-id, of that program).")
@click.option("--profile-id", help="Only this profile's events.")
@click.option("--kind", help="Only events of this kind (attached, detached, updated, ...).")
def events_command(output: str, **options: str | None) -> None:
    """Print the history (every change, who made it, when), oldest first."""
    where = read_filter(**options)
    # One read-only snapshot that blocks no writer, read in batches: flat memory.
    with Session(current_promo().engine) as session:
        begin_read_only(session)
        rows = iter_events(promo_connection(session), where)
        if output == "jsonl":
            for event in rows:
                click.echo(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for event in rows:
            writer.writerow(csv_row(event))
            click.echo(buffer.getvalue(), nl=False)
            buffer.seek(0)
            buffer.truncate()
        click.echo(buffer.getvalue(), nl=False)
