"""What a batch of profile imports says: one outcome an item, and the counts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from operator import attrgetter
from typing import Any

SUCCESS_TEXT = "Successful operation"


@dataclass(slots=True)
class ItemOutcome:
    """What became of one item: `error` 0 with its profile, or the error and its reasons."""

    error: int = 0
    error_text: str = SUCCESS_TEXT
    profile_id: str = ""
    created: bool = False
    errors: dict[str, list[str]] | None = None

    def as_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "error": self.error,
            "error_text": self.error_text,
            "profile_id": self.profile_id,
            "created": self.created,
        }
        if self.errors:
            data["details"] = [
                {"field": name, "message": message}
                for name, messages in self.errors.items()
                for message in messages
            ]
        return data


_CREATED, _ERROR = attrgetter("created"), attrgetter("error")


@dataclass
class BatchResult:
    outcomes: list[ItemOutcome]  # counted once, when first asked

    @cached_property
    def created(self) -> int:
        return sum(map(_CREATED, self.outcomes))

    @cached_property
    def failed(self) -> int:
        return sum(map(bool, map(_ERROR, self.outcomes)))

    @property
    def updated(self) -> int:
        return len(self.outcomes) - self.created - self.failed
