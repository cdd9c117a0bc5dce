"""What an import says: one outcome per line, counted, with the first problem lines kept."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    """What became of one line of an import; the value names the report's counter."""

    INSERTED = "inserted"
    DUPLICATED = "duplicated"
    INVALID = "invalid"


@dataclass(slots=True)
class ImportLine:
    """One code of an import, as read: where it was, and what was wrong with it if anything."""

    line: int
    raw: str
    expire_date: datetime | None = None
    problem: str | None = None


@dataclass
class ImportReport:
    """Counts of an import, with the first `keep` lines that were not inserted."""

    keep: int | None = 100
    inserted: int = 0
    duplicated: int = 0
    invalid: int = 0
    problems: list[tuple[int, str, str, str]] = field(default_factory=list)

    def record(self, item: ImportLine, outcome: Outcome, message: str = "") -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if outcome != Outcome.INSERTED and (self.keep is None or len(self.problems) < self.keep):
            self.problems.append((item.line, item.raw, outcome, message))

    def record_inserted(self, count: int) -> None:
        """Count `count` inserted lines at once (an inserted line is never kept)."""
        self.inserted += count

    @property
    def total(self) -> int:
        return self.inserted + self.duplicated + self.invalid

    def counts(self) -> dict[str, int]:
        """The counts by outcome, as a job's row and the history's events store them."""
        return {"inserted": self.inserted, "duplicated": self.duplicated, "invalid": self.invalid}


@dataclass
class UploadReport(ImportReport):
    """An import report that keeps the `keep` problems with the lowest line numbers.

    Invalid lines are found as they are read, duplicates only when their batch is
    inserted, so the first problems found are not always the first lines; a bounded
    heap keeps the right ones whatever the file's size.
    """

    def record(self, item: ImportLine, outcome: Outcome, message: str = "") -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if outcome == Outcome.INSERTED:
            return
        entry = (-item.line, item.raw, outcome, message)
        if self.keep is None or len(self._heap) < self.keep:
            heapq.heappush(self._heap, entry)
        elif item.line < -self._heap[0][0]:
            heapq.heapreplace(self._heap, entry)

    @property
    def first_problems(self) -> list[tuple[int, str, str, str]]:
        """The kept problems, by line number."""
        return sorted((-line, raw, outcome, message) for line, raw, outcome, message in self._heap)

    def __post_init__(self) -> None:
        self._heap: list[tuple[int, str, str, str]] = []
