"""The service's own errors, under one base, `ServiceError`: the API, the page and the CLI
each turn it into their own answer in one place.

`PromoError` and its kinds are the API's answers: each carries the `error` number and the
stable `error_text` of SPEC.md. `InvalidInput` is a value a person gave (a name, a file, a
code) that cannot be used; its message says why.
"""

from __future__ import annotations


class ServiceError(Exception):
    """An error the service raises on purpose; its message is for a person."""


class InvalidInput(ServiceError, ValueError):
    """A value that cannot be used; the message says why, and nothing was changed."""


class RaceLost(Exception):
    """A write lost a race to a unique index, so that its transaction can only roll back;
    run again, the call sees the winner's commit and answers as a retry would."""


class PromoError(ServiceError):
    """An answer other than success; `errors` maps field names to messages."""

    error = 500
    error_text = "Internal error"

    def __init__(self, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(self.error_text)
        self.errors = errors


class IncorrectRequest(PromoError):
    error = 400
    error_text = "Incorrect request"


class TokenRequired(PromoError):
    error = 401
    error_text = "API token required"


class InvalidToken(PromoError):
    error = 401
    error_text = "Invalid API token"


class AccessDenied(PromoError):
    error = 403
    error_text = "Access denied"


class DatabaseNotFound(PromoError):
    error = 404
    error_text = "Database not found"


class LoyaltyProgramNotFound(PromoError):
    error = 404
    error_text = "Loyalty program not found"


class ProfileNotFound(PromoError):
    error = 404
    error_text = "Profile not found"


class PromoCodeNotFound(PromoError):
    error = 404
    error_text = "Promo code not found"


class NotFound(PromoError):
    """A path under the API that names no verb."""

    error = 404
    error_text = "Not found"


class NotAllowed(PromoError):
    error = 405
    error_text = "Method not allowed"


class SeveralProfilesMatch(PromoError):
    error = 409
    error_text = "Several profiles match"


class AlreadyAttached(PromoError):
    error = 409
    error_text = "Promo code is already attached"


class CodeExpired(PromoError):
    error = 409
    error_text = "Promo code has expired"


class NoCodesAvailable(PromoError):
    error = 409
    error_text = "No promo codes available"


class NotAttached(PromoError):
    error = 409
    error_text = "Promo code is not attached"


class AttachedToSeveralProfiles(PromoError):
    """detach, under PROMO_COMPAT "altcraft": the code is held by more than one profile."""

    error = 409
    error_text = "Promo code is attached to several profiles"


class IdempotencyKeyReused(PromoError):
    """An Idempotency-Key given again with other parameters (or to another verb)."""

    error = 409
    error_text = "Idempotency key was used with other parameters"


class IdempotencyKeyInProgress(PromoError):
    """An Idempotency-Key whose first call has not finished."""

    error = 409
    error_text = "Idempotency key is in use by a call in progress"


class RequestTooLarge(PromoError):
    error = 413
    error_text = "Request too large"


class UnsupportedContentType(PromoError):
    error = 415
    error_text = "Unsupported content type"


class TooManyRequests(PromoError):
    error = 429
    error_text = "Too many requests"

    def __init__(self, retry_after: int = 1, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(errors)
        # Whole seconds until the limit lets a call through again (the Retry-After header).
        self.retry_after = max(1, retry_after)


class InternalError(PromoError):
    error = 500
    error_text = "Internal error"


class HttpError(PromoError):
    """An HTTP error raised around the API's views (by a host, say) with a status that
    SPEC.md's table has no text for: it keeps its status and HTTP's phrase."""

    def __init__(self, status: int, phrase: str) -> None:
        self.error = status
        self.error_text = phrase
        super().__init__()
