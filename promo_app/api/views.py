"""The API's verbs, each declared once: its parameters, its errors, its answer, and a
handler that calls one verb of `verbs.py`. The OpenAPI document reads these declarations."""

from __future__ import annotations

from flask import current_app, jsonify, url_for

from .. import attach_pg, errors, events, verbs
from ..compat import is_strict
from ..counts import program_size
from ..state import promo_session
from .blueprint import bp
from .generation import GENERATED_DATA, GenerateSchema
from .openapi import build_document, ref
from .schemas import (
    ActivateSchema,
    AttachSchema,
    DetachSchema,
    ExportAllSchema,
    GetSchema,
    ImportSchema,
    UpdateSchema,
)
from .verb import Answer, verb

attach_schema = AttachSchema()
import_schema = ImportSchema()
get_schema = GetSchema()
activate_schema = ActivateSchema()
update_schema = UpdateSchema()
detach_schema = DetachSchema()
export_all_schema = ExportAllSchema()
generate_schema = GenerateSchema()

MATCHING_EXAMPLE = {"db_id": 1, "matching": "email", "email": "john@example.com"}
CODE_STATE = ref("CodeState")


def list_of(name: str) -> dict:
    """`data` as a list: in XML one <data> element per item, repeated at the root."""
    return {"type": "array", "items": ref(name), "xml": {"wrapped": False}}


def attach_shortcut(engine, secret, args):
    """On PostgreSQL, a pool draw or a named code in one statement (attach_pg.py); None:
    the full path."""
    result = attach_pg.try_attach(
        engine,
        secret,
        db_id=args["db_id"],
        loyalty_id=args["loyalty_id"],
        profile_key=args["profile_key"],
        code=args.get("code"),
    )
    return None if result is None else result.as_data()


@verb(
    "attach",
    attach_schema,
    runs_on="connection",
    shortcut=attach_shortcut,
    shortcut_on=("postgresql",),
    summary="Attach a promo code to a profile",
    description="With `code`: attach that code (creating it in the program if it is missing). "
    "Without: attach the oldest free, unexpired personal code of the program. "
    "The profile is named by `matching` and its identifier, or by the first of "
    "profile_id, email, phone, field_name+field_value that is given.",
    data=ref("AttachData"),
    strict_null_data=True,
    errors=(
        errors.AccessDenied,
        errors.DatabaseNotFound,
        errors.LoyaltyProgramNotFound,
        errors.ProfileNotFound,
        errors.SeveralProfilesMatch,
        errors.AlreadyAttached,
        errors.CodeExpired,
        errors.NoCodesAvailable,
    ),
    example={**MATCHING_EXAMPLE, "code": "CODE-1"},
)
def attach(connection, args):
    result = verbs.attach(
        connection,
        args["api_token"],
        db_id=args["db_id"],
        loyalty_id=args["loyalty_id"],
        profile_key=args["profile_key"],
        code=args.get("code"),
    )
    return result.as_data()


@verb(
    "import",
    import_schema,
    summary="Add promo codes to a loyalty program",
    description="Adds up to PROMO_IMPORT_MAX_CODES codes (10,000 unless configured) as the "
    "program's default kind, personal or universal. `data[i]` tells what became of "
    "`codes[i]`; codes past the limit are not looked at, only counted in "
    "`discarded_by_limit`. Sending the same list again is safe: its codes are "
    "reported as duplicates (409) and nothing changes.",
    data=list_of("ImportItem"),
    errors=(errors.LoyaltyProgramNotFound,),
    example={"codes": ["CODE-1", "CODE-2"]},
    extra={
        "inserted": {"type": "integer", "description": "Codes added"},
        "duplicated": {"type": "integer", "description": "Codes already there"},
        "discarded_by_limit": {
            "type": "integer",
            "description": "Codes past the per-request limit, not looked at",
        },
    },
)
def import_(session, args):
    platform = is_strict(current_app.config)
    result = verbs.import_(
        session,
        loyalty_id=args["loyalty_id"],
        codes_given=args["codes"],
        limit=current_app.config["PROMO_IMPORT_MAX_CODES"],
        outcomes=verbs.PLATFORM_IMPORT_OUTCOMES if platform else verbs.IMPORT_OUTCOMES,
        actor=args["api_token"].name,
    )
    return Answer(
        result.data,
        {
            "inserted": result.inserted,
            "duplicated": result.duplicated,
            "discarded_by_limit": result.discarded_by_limit,
        },
    )


@verb(
    "get",
    get_schema,
    writes=False,
    summary="Describe a promo code",
    description="Answers the code's state: when it was added, attached, activated, and its expiry.",
    data=CODE_STATE,
    errors=(errors.LoyaltyProgramNotFound, errors.PromoCodeNotFound),
    example={"code": "CODE-1"},
)
def get(session, args):
    return verbs.get(session, loyalty_id=args["loyalty_id"], code=args["code"])


@verb(
    "activate",
    activate_schema,
    summary="Mark an attached promo code used",
    description="Sets `activated` to now. A code that is attached to no profile is refused; "
    "so is an expired one. Activating an activated code again changes nothing.",
    data=CODE_STATE,
    strict_null_data=True,
    errors=(
        errors.LoyaltyProgramNotFound,
        errors.PromoCodeNotFound,
        errors.NotAttached,
        errors.CodeExpired,
    ),
    example={"code": "CODE-1"},
)
def activate(session, args):
    return verbs.activate(
        session, loyalty_id=args["loyalty_id"], code=args["code"], actor=args["api_token"].name
    )


@verb(
    "update",
    update_schema,
    summary="Change a promo code's activation or expiry",
    description="Give `activated`, `expire_date` or both. activated=true marks the code used "
    "(keeping an earlier time), false clears it; expire_date sets the expiry, and "
    '"" or null clears it. A code the merchant voided cannot be changed (409 Promo code has '
    "expired).",
    data=CODE_STATE,
    strict_null_data=True,
    errors=(errors.LoyaltyProgramNotFound, errors.PromoCodeNotFound, errors.CodeExpired),
    example={"code": "CODE-1", "expire_date": "2030-12-31"},
)
def update(session, args):
    changes = {name: args[name] for name in ("activated", "expire_date") if name in args}
    return verbs.update(
        session,
        loyalty_id=args["loyalty_id"],
        code=args["code"],
        actor=args["api_token"].name,
        **changes,
    )


@verb(
    "detach",
    detach_schema,
    summary="Detach a promo code from a profile",
    description="Removes that profile's attachment. A personal code becomes free again, its "
    "activation cleared, and can be drawn from the pool by attach without a code; "
    "a universal code keeps its other profiles' attachments (under PROMO_COMPAT "
    '"altcraft", as the platform does, a code held by several profiles is refused).',
    data=CODE_STATE,
    strict_null_data=True,
    strict_errors=(errors.AttachedToSeveralProfiles,),
    errors=(
        errors.AccessDenied,
        errors.DatabaseNotFound,
        errors.LoyaltyProgramNotFound,
        errors.ProfileNotFound,
        errors.PromoCodeNotFound,
        errors.SeveralProfilesMatch,
        errors.NotAttached,
    ),
    example={**MATCHING_EXAMPLE, "code": "CODE-1"},
)
def detach(session, args):
    return verbs.detach(
        session,
        args["api_token"],
        db_id=args["db_id"],
        loyalty_id=args["loyalty_id"],
        profile_key=args["profile_key"],
        code=args["code"],
        refuse_shared=is_strict(current_app.config),
    )


@verb(
    "export_all",
    export_all_schema,
    runs_on="snapshot",
    summary="List every promo code of a loyalty program",
    description="Streams every code of the program in the order of the codes, in flat memory "
    "whatever the program's size. Errors (token, program) are answered before the "
    "stream starts, as ordinary envelopes. The history records the export (an `exported` "
    "event with the token's name and the number of codes) as the stream starts.",
    data=list_of("ExportItem"),
    writes=False,
    errors=(errors.LoyaltyProgramNotFound,),
)
def export_all(session, args):
    loyalty_id = args["loyalty_id"]
    items = verbs.export_all(session, loyalty_id=loyalty_id)
    # Recorded as the stream starts, so that an export the client or the server cuts short is
    # in the history too; the count is read in the export's own snapshot, so it is the
    # number of codes the stream holds. The event has a short transaction of its own.
    detail = {"count": program_size(session, loyalty_id)}
    actor = args["api_token"].name
    if not events.record_apart(
        promo_session(), events.EXPORTED, actor, loyalty_id=loyalty_id, detail=detail
    ):
        current_app.logger.warning("The export of program %s was not recorded.", loyalty_id)
    return items


@verb(
    "generate",
    generate_schema,
    summary="Generate new promo codes from a pattern (our extension)",
    description="Not part of the platform's API: an extension of this service. Adds `count` "
    "new random codes (at most PROMO_IMPORT_MAX_CODES a call) of the form prefix + pattern + "
    "suffix, none equal to a code the program has, as the program's default kind. Refused "
    "(400, nothing added) when the pattern has no placeholder, cannot hold the count with "
    "room to spare (the message names its capacity), or has under 30 bits of randomness "
    "without `force`. `data` lists the new codes.",
    data=GENERATED_DATA,
    errors=(errors.LoyaltyProgramNotFound,),
    example={"count": 2, "prefix": "SPRING-", "pattern": "****-****"},
    extra={
        "inserted": {"type": "integer", "description": "Codes added"},
        "redrawn": {
            "type": "integer",
            "description": "Drawn codes the program had already, drawn again",
        },
    },
)
def generate(session, args):
    result = verbs.generate(
        session,
        loyalty_id=args["loyalty_id"],
        count=args["count"],
        pattern=args["pattern"],
        prefix=args["prefix"],
        suffix=args["suffix"],
        alphabet=args["alphabet"],
        expire_date=args.get("expire_date"),
        force=args["force"],
        limit=current_app.config["PROMO_IMPORT_MAX_CODES"],
        actor=args["api_token"].name,
    )
    data = [{"code": code} for code in result.codes]
    return Answer(data, {"inserted": result.inserted, "redrawn": result.redrawn})


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API, as mounted in this app."""
    server = url_for(".openapi").removesuffix("/openapi.json")
    return jsonify(build_document(server, current_app.config))
