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


@dataclass(slots=True, init=False)
class ProfileValues:
    """The values a call sets: UNSET leaves one as it is, None clears it.

    `fields` maps a custom field's id to its value. `email_key` and `phone_key` are the
    lookup keys of the email and phone it sets (None where it sets none), made once, when
    it is made: a batch asks for them several times an item.
    """

    email: str | None
    phone: str | None
    fields: dict[int, str | None]
    email_key: str | None = field(repr=False, compare=False)
    phone_key: str | None = field(repr=False, compare=False)

    def __init__(
        self,
        email: str | None = UNSET,
        phone: str | None = UNSET,
        fields: dict[int, str | None] | None = None,
        keys: tuple[str | None, str | None] | None = None,  # given by a caller that made them
    ) -> None:
        self.email, self.phone = email, phone
        self.fields = {} if fields is None else fields
        if keys is None:
            keys = (_key(email, email_key), _key(phone, phone_key))
        self.email_key, self.phone_key = keys

    def keyed(self, mode: str) -> str | None:
        """Return the lookup key of the email or phone this sets, None if it sets none."""
        return self.email_key if mode == "email" else self.phone_key


def _key(value: str | None, make: Callable[[str], str]) -> str | None:
    return None if value is UNSET or value is None else make(value)


def read_values(
    data: Mapping[str, Any] | None, declared: Mapping[str, int], where: str = "data"
) -> ProfileValues:
    """Check `data` (email, phone and custom fields by name) against the database's fields.

    A value of None or "" clears that field; a name not given leaves it as it is.
    """
    email = phone = email_keyed = phone_keyed = UNSET
    fields: dict[int, str | None] = {}
    problems: dict[str, list[str]] = {}
    for name, raw in (data or {}).items():
        try:
            if type(raw) is str and raw.isascii() and "\x00" not in raw:
                # _text's answer, sooner; an email or phone is stripped, and blank is None.
                if name == "email":
                    email, email_keyed = _identifier(name, raw.strip() or None)
                    continue
                if name == "phone":
                    phone, phone_keyed = _identifier(name, raw.strip() or None)
                    continue
                text = None if not raw or raw.isspace() else raw
            else:
                text = _text(raw)
            if name == "email":
                email, email_keyed = _identifier(name, text if text is None else text.strip())
            elif name == "phone":
                phone, phone_keyed = _identifier(name, text if text is None else text.strip())
            elif name not in declared:
                known = ", ".join(sorted(declared)) or "none"
                raise ValueError(f"Not a custom field of this database (it declares {known}).")
            elif text is not None and len(text) > MAX_FIELD_VALUE:
                raise ValueError(f"Longer than {MAX_FIELD_VALUE} characters.")
            else:
                fields[declared[name]] = text
        except ValueError as error:
            problems[f"{where}.{name}" if where else name] = [str(error)]
    if problems:
        raise IncorrectRequest(problems)
    keys = (
        None if email_keyed is UNSET else email_keyed,
        None if phone_keyed is UNSET else phone_keyed,
    )
    return ProfileValues(email, phone, fields, keys)


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


def _identifier(name: str, text: str | None) -> tuple[str | None, str | None]:
    """Return the email or phone `text` (stripped, not blank) and its lookup key, or refuse
    it."""
    if text is None:
        return None, None
    if name == "email":
        if len(text) > MAX_EMAIL:
            raise ValueError(f"Longer than {MAX_EMAIL} characters.")
        return text, email_key(text)
    if len(text) > MAX_PHONE:
        raise ValueError(f"Longer than {MAX_PHONE} characters.")
    key = phone_key(text)
    if not key:
        raise ValueError("Not a phone number: nothing is left after removing spaces and signs.")
    return text, key


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
        if value is not UNSET and value is not None:
            return ProfileKey(mode, value, None, values.keyed(mode))
    if value is None or value is UNSET:
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
