"""Limits on sign-in attempts, counted in Redis: per client address and per account.

Per address (``LOGIN_RATE_LIMIT`` in ``LOGIN_RATE_WINDOW_SECONDS``) slows one machine
guessing many accounts; per account (``LOGIN_ACCOUNT_RATE_LIMIT`` in the same window) slows
many machines guessing one account. Neither alone may stop everyone: behind a proxy the
address is the client's (``TRUSTED_PROXY_HOPS``, :mod:`hotline.web.proxy`), so one address
over its limit does not stop anyone else from signing in. The refusal never says which
limit was hit.

It fails open: when Redis does not answer, logins go on (the per-account lockout in the
database still holds), because staff locked out of the hotline during a Redis outage would
be worse than a slower brute-force attempt.
"""

from __future__ import annotations

import hashlib
import logging

from flask import current_app, request
from redis.exceptions import RedisError

from hotline.jobs.queue import redis_connection

log = logging.getLogger(__name__)


def _address_key() -> str:
    return f"hotline:login-attempts:{request.remote_addr or 'unknown'}"


def _account_key(username: str) -> str:
    # Hashed: usernames of people under attack do not sit in Redis in clear.
    digest = hashlib.sha256(username.strip().lower().encode("utf-8")).hexdigest()[:32]
    return f"hotline:login-attempts:account:{digest}"


def too_many_attempts(username: str | None = None) -> bool:
    """Count this attempt against the address and (when given) the account; True when
    either went over its limit in the window."""
    window = current_app.config["LOGIN_RATE_WINDOW_SECONDS"]
    limits = {_address_key(): current_app.config["LOGIN_RATE_LIMIT"]}
    if username and username.strip():
        limits[_account_key(username)] = current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]
    try:
        pipe = redis_connection().pipeline()
        for key in limits:
            pipe.set(key, 0, ex=window, nx=True)
            pipe.incr(key)
        counts = pipe.execute()[1::2]
    except (RedisError, RuntimeError, OSError):
        log.warning("login rate limit skipped: Redis unavailable")
        return False
    return any(int(c) > limit for c, limit in zip(counts, limits.values(), strict=True))
