"""Add or update many profiles in one transaction (`profiles/import_batch`, `promo
import-profiles`): the rules of `upsert.plan_import`, item by item, on look-ups made in
bulk before and writes made in bulk after.

Items are planned in order on an in-memory view of the profiles they touch, so that two
items of one batch with one new email make one profile, as two calls would. A bad item is
reported by its index; the others are written.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection

from ..errors import IncorrectRequest, PromoError
from .batch_view import View, look_up
from .batch_writes import Writes
from .matching import ProfileKey
from .outcomes import SUCCESS_TEXT, BatchResult, ItemOutcome
from .upsert import lock_database, plan_import
from .values import ProfileValues, key_for, read_values


def import_profiles(
    connection: Connection,
    db_id: int,
    items: Sequence[Mapping[str, Any]],
    *,
    matching: str | None = None,
    field_name: str | None = None,
) -> BatchResult:
    """Add or update a profile for each item (its data: email, phone, custom fields, and
    its profile_id when matching by it); say what became of each. The caller commits.

    Without `matching` each item is found by its email, else its phone. With "custom",
    `field_name` names the field and each item's value of it finds the profile.
    """
    with without_cycle_collection():
        return _import_profiles(connection, db_id, items, matching, field_name)


def _import_profiles(
    connection: Connection,
    db_id: int,
    items: Sequence[Mapping[str, Any]],
    matching: str | None,
    field_name: str | None,
) -> BatchResult:
    declared = lock_database(connection, db_id)
    if matching == "custom" and field_name not in declared:
        raise IncorrectRequest({"field_name": ["Not a custom field of this database."]})
    outcomes: list[Any] = [None] * len(items)  # an ItemOutcome each, when known
    planned: list[tuple[int, ProfileKey, ProfileValues]] = []
    given = {} if field_name is None else {"field_name": field_name}
    for index, item in enumerate(items):
        try:
            if "profile_id" in item:
                data = {name: value for name, value in item.items() if name != "profile_id"}
                named = {**given, "profile_id": item["profile_id"]}
            else:
                data, named = item, given
            values = read_values(data, declared, where="")
            key = key_for(matching, named, values, declared)
        except PromoError as error:
            outcomes[index] = _refused(error)
            continue
        planned.append((index, key, values))
    custom_field = declared.get(field_name) if field_name is not None else None
    view = View()
    look_up(connection, db_id, view, planned, custom_field)
    writes = Writes(view, custom_field)
    for index, key, values in planned:
        try:
            plan = plan_import(view, key, values, declared)
        except PromoError as error:
            outcomes[index] = _refused(error)
            continue
        profile_id, created = writes.apply(plan)
        outcomes[index] = ItemOutcome(0, SUCCESS_TEXT, profile_id, created)
    writes.flush(connection, db_id)
    return BatchResult(outcomes)


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a batch runs.

    A batch makes a few objects an item (values, keys, rows, outcomes), none of them in a
    reference cycle, so their reference counts free them all; but while they live, the
    collector's full passes walk every object of the process again and again (a quarter of
    a large import's time, bench/RESULTS.md). It runs again when the batch ends.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _refused(error: PromoError) -> ItemOutcome:
    return ItemOutcome(error=error.error, error_text=error.error_text, errors=error.errors)
