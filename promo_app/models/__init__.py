"""Tables of the promo code service, one module per kind: base.py (the declarative base and
its bind key), shop.py (databases, profiles, programs, codes, attachments, counters),
access.py (tokens, admins), records.py (idempotency keys, webhook state, upload jobs,
events). Import them from here."""

from .access import AdminUser, ApiToken, TokenProgramScope, TokenScope
from .base import BIND_KEY, NAMING_CONVENTION, PromoModel, new_profile_id, new_session_nonce
from .records import Event, IdempotencyKey, UploadJob, WebhookState
from .shop import (
    Attachment,
    CustomField,
    Database,
    LoyaltyProgram,
    Profile,
    ProfileFieldValue,
    ProgramCount,
    PromoCode,
)

__all__ = [
    "BIND_KEY",
    "NAMING_CONVENTION",
    "AdminUser",
    "ApiToken",
    "Attachment",
    "CustomField",
    "Database",
    "Event",
    "IdempotencyKey",
    "LoyaltyProgram",
    "Profile",
    "ProfileFieldValue",
    "ProgramCount",
    "PromoCode",
    "PromoModel",
    "TokenProgramScope",
    "TokenScope",
    "UploadJob",
    "WebhookState",
    "new_profile_id",
    "new_session_nonce",
]
