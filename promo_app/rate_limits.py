"""Rate limits, kept by Flask-Limiter: per API token on the API (attach, and the other verbs),
per name and per address on the page's sign-in.

The extension makes its own `flask_limiter.Limiter` for the app, with the storage of
PROMO_RATELIMIT_STORAGE_URL (memory by default: each process counts alone; a
``redis://`` URL shares the counts between processes and servers). It declares no route
limits and adds no hooks to the app's requests, so that a host's own
Flask-Limiter and its RATELIMIT_* settings stay the host's. The API counts a call once its
token is known, and the sign-in once a password was wrong, through the Limiter's rate
limiting strategy: the route decorators would cost an attach call more than a tenth of
its time (see bench/RESULTS.md).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage

from .errors import TooManyRequests

EXTENSION_KEY = "promo_rate_limits"

# The settings that hold limits, in the limits notation ("100 per second;5000 per hour").
LIMIT_SETTINGS = (
    "PROMO_RATELIMIT_ATTACH",
    "PROMO_RATELIMIT_VERBS",
    "PROMO_RATELIMIT_SIGN_IN_PER_NAME",
    "PROMO_RATELIMIT_SIGN_IN_PER_IP",
)


@dataclass(frozen=True)
class RateLimits:
    """The limits of one app and the Flask-Limiter that keeps their counts."""

    limiter: Limiter
    prefix: str
    limits: dict[str, tuple[RateLimitItem, ...]]

    def spend(self, setting: str, *who: str) -> int:
        """Count one call against each limit of `setting` for `who`; return 0, or the
        seconds until the first limit that is spent lets a call through again."""
        strategy = self.limiter.limiter
        for item in self.limits[setting]:
            if not strategy.hit(item, self.prefix, setting, *who):
                return self._wait(item, setting, who)
        return 0

    def wait(self, setting: str, *who: str) -> int:
        """Return 0 if every limit of `setting` has room for `who`, else the seconds to wait;
        nothing is counted."""
        strategy = self.limiter.limiter
        for item in self.limits[setting]:
            if not strategy.test(item, self.prefix, setting, *who):
                return self._wait(item, setting, who)
        return 0

    def _wait(self, item: RateLimitItem, setting: str, who: tuple[str, ...]) -> int:
        stats = self.limiter.limiter.get_window_stats(item, self.prefix, setting, *who)
        return max(1, math.ceil(stats.reset_time - time.time()))


def install(app: Flask) -> None:
    """Make the app's Limiter from its PROMO_RATELIMIT_* settings (none when switched off)."""
    config = app.config
    if not config["PROMO_RATELIMIT_ENABLED"]:
        return
    limits = {}
    for setting in LIMIT_SETTINGS:
        value = config[setting]
        try:
            limits[setting] = tuple(parse_many(value)) if value else ()
        except ValueError as error:
            raise RuntimeError(
                f"{setting} = {value!r} is not a rate limit such as '10 per second': {error}"
            ) from None
    limiter = Limiter(
        get_remote_address,
        storage_uri=config["PROMO_RATELIMIT_STORAGE_URL"],
        strategy=config["PROMO_RATELIMIT_STRATEGY"],
        key_prefix=config["PROMO_RATELIMIT_KEY_PREFIX"],
    )
    # The limiter declares no route limits, so its per-request hooks would only find out,
    # on every request of the app, that there is nothing to count: they cost an attach call
    # more than a tenth of its time (see bench/RESULTS.md). Flask-Limiter registers them only
    # for a limiter that is not yet in the app's set, so ours goes in first, and init_app
    # then only makes its storage and strategy. (Flask-Limiter 4.1's init_app; pinned.)
    app.extensions.setdefault("limiter", set()).add(limiter)
    limiter.init_app(app)
    if not limiter.enabled:
        return  # RATELIMIT_ENABLED = False, Flask-Limiter's own switch for every limiter
    if isinstance(limiter.storage, MemoryStorage):
        _sweep_every_second(limiter.storage)
    app.extensions[EXTENSION_KEY] = RateLimits(
        limiter, config["PROMO_RATELIMIT_KEY_PREFIX"], limits
    )


def _sweep_every_second(storage: MemoryStorage) -> None:
    """Make the memory storage sweep its expired counters once a second, not every 10 ms.

    limits' MemoryStorage starts a new 10 ms timer thread whenever the last one has ended,
    so a worker answering a call a millisecond starts a thread every tenth call, and
    waits for it to run: that cost an attach call about a tenth of its time (see
    bench/RESULTS.md). Expired counters are dropped on reading anyway; the sweep only
    frees memory. Private to limits (pinned: limits 5.8): the name-mangled method.
    """

    def schedule() -> None:
        if not storage.timer.is_alive():
            storage.timer = threading.Timer(1.0, storage._MemoryStorage__expire_events)
            storage.timer.daemon = True
            storage.timer.start()

    storage._MemoryStorage__schedule_expiry = schedule


def _current() -> RateLimits | None:
    return current_app.extensions.get(EXTENSION_KEY)


def _guarded(spend, setting: str, *who: str) -> int:
    """Ask the storage; if it cannot answer (Redis down), let the call through and say so
    in the log: a broken limiter must not stop the shop's calls."""
    try:
        return spend(setting, *who)
    except Exception:
        current_app.logger.exception(
            "The rate limit storage did not answer; %s not applied", setting
        )
        return 0


def counts_token_calls(verb: str) -> bool:
    """Whether calls of `verb` count against a limit per token (see check_token)."""
    rate_limits = _current()
    setting = "PROMO_RATELIMIT_ATTACH" if verb == "attach" else "PROMO_RATELIMIT_VERBS"
    return rate_limits is not None and bool(rate_limits.limits[setting])


def check_token(verb: str, token_id: int) -> None:
    """Count an API call of the token; refuse it with 429 when its limit is spent."""
    rate_limits = _current()
    if rate_limits is None:
        return
    setting = "PROMO_RATELIMIT_ATTACH" if verb == "attach" else "PROMO_RATELIMIT_VERBS"
    if not rate_limits.limits[setting]:
        return
    wait = _guarded(rate_limits.spend, setting, str(token_id))
    if wait:
        limit = current_app.config[setting]
        raise TooManyRequests(
            wait, {"token": [f"This token may make {limit} such calls; retry in {wait} s."]}
        )


def _name_key(name: str) -> str:
    return hashlib.sha256(name.strip().casefold().encode("utf-8", "surrogatepass")).hexdigest()


def sign_in_wait(name: str) -> int:
    """Return 0 if a sign-in as `name` from this address may check its password now, else
    the seconds until it may."""
    rate_limits = _current()
    if rate_limits is None:
        return 0
    return max(
        _guarded(rate_limits.wait, "PROMO_RATELIMIT_SIGN_IN_PER_NAME", _name_key(name)),
        _guarded(rate_limits.wait, "PROMO_RATELIMIT_SIGN_IN_PER_IP", get_remote_address()),
    )


def count_failed_sign_in(name: str) -> None:
    """Count a wrong password against `name` and this address."""
    rate_limits = _current()
    if rate_limits is None:
        return
    _guarded(rate_limits.spend, "PROMO_RATELIMIT_SIGN_IN_PER_NAME", _name_key(name))
    _guarded(rate_limits.spend, "PROMO_RATELIMIT_SIGN_IN_PER_IP", get_remote_address())
