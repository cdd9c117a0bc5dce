"""Profiles from a CSV file (`promo import-profiles`): a header row of `email`, `phone` and
the database's custom fields, then one profile a line, imported in batches of
`import_profiles`, each its own transaction, so that memory stays flat and a re-run of one
file changes nothing twice."""

from __future__ import annotations

import csv
import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy.engine import Connection

from .. import events
from ..errors import InvalidInput
from .batch import import_profiles, without_cycle_collection
from .upsert import lock_database

CHUNK = 5_000  # lines a transaction
KEEP_PROBLEMS = 1_000  # problem lines kept for the report; the rest are only counted


class ProfileFileError(InvalidInput):
    """A file that cannot be imported at all (its header, its encoding)."""


@dataclass
class FileReport:
    created: int = 0
    updated: int = 0
    refused: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    def refuse(self, line: int, reason: str) -> None:
        self.refused += 1
        if len(self.problems) < KEEP_PROBLEMS:
            self.problems.append((line, reason))


def import_profile_file(
    connection: Connection,
    db_id: int,
    file: IO[str],
    *,
    match: str | None = None,
    after_chunk: Callable[[FileReport], None] | None = None,
    actor: str = events.CLI,
) -> FileReport:
    """Add or update a profile for each line of `file`; commit after each chunk of lines.

    `match` says how a line finds its profile: None (its email, else its phone), "email",
    "phone", or a custom field's name. An empty cell leaves that field as it is.
    """
    declared = lock_database(connection, db_id)
    connection.commit()
    reader = csv.DictReader(file)
    try:
        columns = [name.strip() for name in reader.fieldnames or []]
    except UnicodeDecodeError:
        raise ProfileFileError("The file is not UTF-8 text.") from None
    unknown = [name for name in columns if name not in {"email", "phone", *declared}]
    if unknown:
        raise ProfileFileError(
            f"Columns {unknown} are not custom fields of database {db_id}; "
            f"it declares {sorted(declared) or 'none'}."
        )
    if match is not None and match not in {"email", "phone", *declared}:
        raise ProfileFileError(f"--match {match!r}: not email, phone or a custom field.")
    reader.fieldnames = columns
    if match in ("email", "phone"):
        matching, field_name = match, None
    else:
        matching, field_name = ("custom", match) if match else (None, None)
    report = FileReport()
    with without_cycle_collection():
        for lines, items in _chunks(reader, report):
            result = import_profiles(
                connection, db_id, items, matching=matching, field_name=field_name
            )
            if result.created or result.updated:
                counts = {
                    "created": result.created,
                    "updated": result.updated,
                    "failed": result.failed,
                }
                events.record(connection, events.PROFILE_UPDATED, actor, db_id=db_id, detail=counts)
            connection.commit()
            for line, outcome in zip(lines, result.outcomes, strict=True):
                if outcome.error:
                    reasons = "; ".join(
                        f"{name}: {' '.join(messages)}"
                        for name, messages in (outcome.errors or {}).items()
                    )
                    report.refuse(line, f"{outcome.error_text}. {reasons}".strip())
            report.created += result.created
            report.updated += result.updated
            gc.collect(0)  # whatever a chunk left in a cycle: memory stays flat
            if after_chunk is not None:
                after_chunk(report)
    return report


def _chunks(reader: csv.DictReader, report: FileReport) -> Iterator[tuple[list[int], list[dict]]]:
    lines: list[int] = []
    items: list[dict] = []
    try:
        for row in reader:
            if None in row:
                report.refuse(reader.line_num, "more cells than the header has columns")
                continue
            item = {name: text for name, value in row.items() if value and (text := value.strip())}
            if not item:
                continue
            lines.append(reader.line_num)
            items.append(item)
            if len(items) == CHUNK:
                yield lines, items
                lines, items = [], []
    except UnicodeDecodeError:
        raise ProfileFileError(
            f"The file is not UTF-8 text (after line {reader.line_num}; the lines before it "
            "were imported)."
        ) from None
    if items:
        yield lines, items
