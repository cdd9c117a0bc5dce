"""The events and their delivery: a JSON body signed with HMAC-SHA256 over its raw bytes,
POSTed to PROMO_WEBHOOK_URL and retried with exponential backoff a bounded number of
times. How a receiver checks one: docs/deploy.md, "Alerts"."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..alerts import alert_line
from ..times import rfc3339

log = logging.getLogger("promo_app.webhook")

SIGNATURE_HEADER = "X-Promo-Signature"
EVENT_HEADER = "X-Promo-Event-Id"
TIMESTAMP_HEADER = "X-Promo-Timestamp"
MIN_SECRET_LENGTH = 16


class WebhookSettingError(RuntimeError):
    """PROMO_WEBHOOK_* settings that cannot work: the app refuses to start."""


@dataclass(frozen=True)
class Settings:
    url: str
    secret: bytes
    attempts: int
    backoff: float
    timeout: float
    check_every: float
    threshold: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings | None:
        """The webhook's settings, or None without PROMO_WEBHOOK_URL (no webhook at all)."""
        url = config.get("PROMO_WEBHOOK_URL")
        if not url:
            return None
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise WebhookSettingError("PROMO_WEBHOOK_URL must be an http:// or https:// URL.")
        secret = config.get("PROMO_WEBHOOK_SECRET") or ""
        if isinstance(secret, int) and not isinstance(secret, bool):
            secret = str(secret)  # all digits, read from the environment as a JSON number
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
            raise WebhookSettingError(
                f"PROMO_WEBHOOK_URL is set: set PROMO_WEBHOOK_SECRET too, at least "
                f"{MIN_SECRET_LENGTH} characters (python -c 'import secrets; "
                "print(secrets.token_hex(32))'); the receiver checks the signature with it."
            )
        return cls(
            url=url,
            secret=secret.encode(),
            attempts=max(int(config["PROMO_WEBHOOK_ATTEMPTS"]), 1),
            backoff=float(config["PROMO_WEBHOOK_BACKOFF_SECONDS"]),
            timeout=float(config["PROMO_WEBHOOK_TIMEOUT_SECONDS"]),
            check_every=float(config["PROMO_WEBHOOK_CHECK_SECONDS"]),
            threshold=int(config["PROMO_LOW_CODES_THRESHOLD"]),
        )


def make_event(program: dict[str, Any], threshold: int, now: datetime) -> dict[str, Any]:
    """The event of a crossing: `program` is what crossing.look answers."""
    return {
        "id": uuid.uuid4().hex,
        "type": f"pool.{program['pool']}",
        "created": rfc3339(now),
        "loyalty_id": program["loyalty_id"],
        "name": program["name"],
        "free": program["free"],
        "threshold": threshold,
        "message": alert_line(program, threshold),
    }


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def post(settings: Settings, event: dict[str, Any]) -> None:
    """POST the event once, stamped with this attempt's time; raise unless answered 2xx."""
    timestamp = int(time.time())
    body = json.dumps({**event, "timestamp": timestamp}, ensure_ascii=False).encode()
    request = urllib.request.Request(
        settings.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "promo-codes-webhook",
            EVENT_HEADER: event["id"],
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(settings.secret, body),
        },
    )
    # urlopen raises HTTPError for an answer of 4xx or 5xx.
    with urllib.request.urlopen(request, timeout=settings.timeout) as response:
        response.read()


def deliver(
    settings: Settings, event: dict[str, Any], wait: Callable[[float], bool] = time.sleep
) -> bool:
    """Send the event, retried after backoff, twice that, four times that... up to the attempts
    allowed; return whether the receiver took it. `wait` sleeps, and answers True to stop."""
    for attempt in range(1, settings.attempts + 1):
        try:
            post(settings, event)
            return True
        except Exception as error:  # any failure of the receiver is retried
            log.warning(
                "Alert webhook: %s for program %s, attempt %d of %d failed: %s",
                event["type"],
                event["loyalty_id"],
                attempt,
                settings.attempts,
                error,
            )
        if attempt < settings.attempts and wait(settings.backoff * 2 ** (attempt - 1)):
            break
    log.error(
        "Alert webhook: gave up on %s for program %s (event %s): %s",
        event["type"],
        event["loyalty_id"],
        event["id"],
        event["message"],
    )
    return False
