"""The Python API for a host store: `promo.profiles.upsert/get/delete` and `promo.attach`,
the API's verbs called from the host's own code with no HTTP round trip.

Each call is one transaction on a connection of the promo engine, committed before it
returns, as one API call is; it raises the PromoError the API would answer with, and then
nothing of it is kept. Call it inside the host's app context (a request, a CLI command, or
`with app.app_context()`), after the host's own commit when both use one SQLite file: a
writer waits for another's write lock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import Connection

from . import verbs
from .codes import InvalidCode, normalize_code
from .errors import IncorrectRequest
from .profiles import verbs as profile_verbs
from .profiles.deleting import Deleted
from .profiles.matching import MATCHING_MODES, ProfileKey
from .profiles.reading import ProfileData, get_profile
from .profiles.upsert import Imported
from .tokens import Grant

if TYPE_CHECKING:
    from .extension import PromoCodes

T = TypeVar("T")
_PROFILE_ID = re.compile(r"[0-9a-f]{24}\Z")

# How a host names a profile: its profile_id, something with a .profile_id (what upsert and
# get return), or one identifier: {"email": …}, {"phone": …}, {"profile_id": …} or
# {custom field name: value}, such as {"user_id": current_user.id}.
ProfileSpec = str | Imported | ProfileData | Mapping[str, Any]


def profile_key(spec: ProfileSpec) -> ProfileKey:
    """Turn what a host passes as `profile` into the key that finds it."""
    if isinstance(spec, Imported | ProfileData):
        spec = spec.profile_id
    if isinstance(spec, str):
        spec = {"profile_id": spec}
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise IncorrectRequest(
            {
                "profile": [
                    "Name one identifier: a profile_id, or {name: value} of one of "
                    "email, phone, profile_id or a custom field."
                ]
            }
        )
    ((name, raw),) = spec.items()
    if isinstance(raw, bool) or not isinstance(raw, str | int) or not str(raw).strip():
        raise IncorrectRequest(
            {name: ["Not a valid identifier: a non-blank string or an integer."]}
        )
    value = str(raw)
    if name == "profile_id" and not _PROFILE_ID.match(value):
        raise IncorrectRequest({name: ["A profile_id is 24 lowercase hexadecimal characters."]})
    if name in MATCHING_MODES and name != "custom":
        return ProfileKey(name, value)
    return ProfileKey("custom", value, name)


class HostProfiles:
    """`promo.profiles`: customer profiles from a host's own code, with no HTTP call."""

    def __init__(self, promo: PromoCodes) -> None:
        self._promo = promo

    def upsert(
        self,
        db_id: int,
        *,
        email: str | None = None,
        phone: str | None = None,
        fields: Mapping[str, str | int | None] | None = None,
        match: str | ProfileSpec | None = None,
    ) -> Imported:
        """Add or update a profile of database `db_id`; return its profile_id and whether
        it was made now.

        `match` says which profile: None (the given email, else phone), "email", "phone",
        the name of a custom field (its value in `fields`), or one identifier as `profile`
        takes it ({"user_id": 42}). A value of "" (or None in `fields`) clears that field;
        None for email or phone leaves it as it is.
        """
        data: dict[str, Any] = dict(fields or {})
        for name, value in (("email", email), ("phone", phone)):
            if value is not None:
                data[name] = value
        if match is None or (isinstance(match, str) and match in ("email", "phone")):
            matching, given = match, {}
        elif isinstance(match, str):
            matching, given = "custom", {"field_name": match}
        else:
            key = profile_key(match)
            matching = key.mode
            given = (
                {"field_name": key.field_name, "field_value": key.value}
                if key.mode == "custom"
                else {key.mode: key.value}
            )
        return self._run(
            lambda connection: profile_verbs.import_(
                connection, HOST_GRANT, db_id=db_id, matching=matching, given=given, data=data
            )
        )

    def get(self, db_id: int, profile: ProfileSpec) -> ProfileData:
        """Return the profile, its custom fields and every code it holds."""
        key = profile_key(profile)
        return self._run(lambda connection: get_profile(connection, db_id, key))

    def delete(self, db_id: int, profile: ProfileSpec) -> Deleted:
        """Delete the profile's identifiers and fields; its codes stay taken."""
        key = profile_key(profile)
        return self._run(
            lambda connection: profile_verbs.delete(connection, HOST_GRANT, db_id=db_id, key=key)
        )

    def _run(self, call: Callable[[Connection], T]) -> T:
        return run(self._promo, call)


# The host's own code may use every database, as a token limited to none may.
HOST_GRANT = Grant(token_id=0, db_ids=frozenset(), name="host")


def run(promo: PromoCodes, call: Callable[[Connection], T]) -> T:
    """Run `call` on a connection of the promo engine in one transaction; commit it."""
    with promo.engine.connect() as connection:
        result = call(connection)
        connection.commit()
    return result


def attach(
    promo: PromoCodes, db_id: int, loyalty_id: int, profile: ProfileSpec, code: str | None = None
) -> str:
    """Attach `code`, or a free code of the program, to `profile`; return the code."""
    key = profile_key(profile)
    if code is not None:
        try:
            code = normalize_code(code)
        except InvalidCode as error:
            raise IncorrectRequest({"code": [str(error)]}) from None
    result = run(
        promo,
        lambda connection: verbs.attach(
            connection, HOST_GRANT, db_id=db_id, loyalty_id=loyalty_id, profile_key=key, code=code
        ),
    )
    return result.code
