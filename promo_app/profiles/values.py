"""What a call says a profile holds: its email, phone and custom fields, checked and keyed.

The API's schemas check types; these rules are the domain's own, so that the Python API
refuses the same input with the same errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import IncorrectRequest
from ..text import unstorable
from .matching import MATCHING_MODES, ProfileKey, email_key, phone_key

# Column sizes of promo_profile and promo_profile_field.
MAX_EMAIL = 320
MAX_PHONE = 64
MAX_FIELD_VALUE = 1024
BUILT_IN = ("email", "phone")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


@dataclass(slots=True)
class ProfileValues:
    """The values a call sets: UNSET leaves one as it is, None clears it.

    `fields` maps a custom field's id to its value.
    """

    email: str | None = UNSET
    phone: str | None = UNSET
    fields: dict[int, str | None] = field(default_factory=dict)
    # The keys of the email and phone this sets, made once (a batch asks for them often).
    email_key: str | None = field(default=UNSET, repr=False, compare=False)
    phone_key: str | None = field(default=UNSET, repr=False, compare=False)

    def keyed(self, mode: str) -> str | None:
        """Return the lookup key of the email or phone this sets, None if it sets none."""
        if mode == "email":
            key = self.email_key
            if key is UNSET:
                key = self.email_key = _key(self.email, email_key)
        else:
            key = self.phone_key
            if key is UNSET:
                key = self.phone_key = _key(self.phone, phone_key)
        return key


def _key(value: str | None, make: Callable[[str], str]) -> str | None:
    return None if value is UNSET or value is None else make(value)


def read_values(
    data: Mapping[str, Any] | None, declared: Mapping[str, int], where: str = "data"
) -> ProfileValues:
    """Check `data` (email, phone and custom fields by name) against the database's fields.

    A value of None or "" clears that field; a name not given leaves it as it is.
    """
    values = ProfileValues()
    problems: dict[str, list[str]] = {}
    for name, raw in (data or {}).items():
        try:
            if type(raw) is str and raw.isascii() and "\x00" not in raw:
                text = None if not raw or raw.isspace() else raw  # _text's answer, sooner
            else:
                text = _text(raw)
            if name == "email" or name == "phone":
                _set_identifier(values, name, text)
            elif name not in declared:
                known = ", ".join(sorted(declared)) or "none"
                raise ValueError(f"Not a custom field of this database (it declares {known}).")
            elif text is not None and len(text) > MAX_FIELD_VALUE:
                raise ValueError(f"Longer than {MAX_FIELD_VALUE} characters.")
            else:
                values.fields[declared[name]] = text
        except ValueError as error:
            problems[f"{where}.{name}" if where else name] = [str(error)]
    if problems:
        raise IncorrectRequest(problems)
    return values


def _text(raw: Any) -> str | None:
    """Return a field's value as text: a string, or an integer in decimal; "" is None."""
    if type(raw) is str:
        text = raw
    elif raw is None:
        return None
    elif isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValueError("Not a valid string.")
    else:
        text = str(raw)
    if "\x00" in text or not text.isascii():
        problem = unstorable(text)
        if problem:
            raise ValueError(problem)
    return None if not text or text.isspace() else text


def _set_identifier(values: ProfileValues, name: str, text: str | None) -> None:
    """Set the email or phone `text` on `values`, with its lookup key, or refuse it."""
    key = None
    if text is not None:
        text = text.strip()
        if name == "email":
            if len(text) > MAX_EMAIL:
                raise ValueError(f"Longer than {MAX_EMAIL} characters.")
            key = email_key(text)
        elif len(text) > MAX_PHONE:
            raise ValueError(f"Longer than {MAX_PHONE} characters.")
        else:
            key = phone_key(text)
            if not key:
                raise ValueError(
                    "Not a phone number: nothing is left after removing spaces and signs."
                )
    if name == "email":
        values.email, values.email_key = text, key
    else:
        values.phone, values.phone_key = text, key


def key_for(
    matching: str | None,
    given: Mapping[str, Any],
    values: ProfileValues,
    declared: Mapping[str, int],
) -> ProfileKey:
    """Return the key that finds the profile of an import.

    `given` holds the identifiers named at the top level (profile_id, email, phone,
    field_name, field_value). An email, a phone or the custom field's value may instead come
    from the data. Without `matching`: the first identifier given at the top level, as
    attach chooses, else the data's email, else its phone.
    """
    mode = matching or (given and _first_given(given)) or _first_in_values(values)
    if mode is None:
        raise IncorrectRequest(
            {
                "matching": [
                    "Name the profile: profile_id, email, phone or field_name with "
                    "field_value, or give data.email or data.phone."
                ]
            }
        )
    if mode == "custom":
        name = given.get("field_name")
        if name is None:
            raise IncorrectRequest({"field_name": ["Required when matching is 'custom'."]})
        if name not in declared:
            raise IncorrectRequest({"field_name": ["Not a custom field of this database."]})
        value = given.get("field_value")
        if value is None:
            value = values.fields.get(declared[name])
        if value is None:
            raise IncorrectRequest(
                {"field_value": [f"Required when matching is 'custom' (or give data.{name})."]}
            )
        return ProfileKey("custom", value, name)
    value = given.get(mode)
    if value is None and mode in BUILT_IN:
        value = getattr(values, mode)
        value = None if value is UNSET else value
    if value is None:
        where = mode if mode == "profile_id" else f"{mode} (or data.{mode})"
        raise IncorrectRequest({mode: [f"Required when matching is {mode!r}: give {where}."]})
    return ProfileKey(mode, value)


_NAME_OF_MODE = tuple((mode, "field_name" if mode == "custom" else mode) for mode in MATCHING_MODES)


def _first_given(given: Mapping[str, Any]) -> str | None:
    for mode, name in _NAME_OF_MODE:
        if given.get(name) is not None:
            return mode
    return None


def _first_in_values(values: ProfileValues) -> str | None:
    if values.email is not UNSET and values.email is not None:
        return "email"
    if values.phone is not UNSET and values.phone is not None:
        return "phone"
    return None
