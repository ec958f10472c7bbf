"""A per-address limit on login attempts, counted in Redis.

It fails open: when Redis does not answer, logins go on (the per-account lockout in the
database still holds), because staff locked out of the hotline during a Redis outage would
be worse than a slower brute-force attempt.
"""

from __future__ import annotations

import logging

from flask import current_app, request
from redis.exceptions import RedisError

from hotline.jobs.queue import redis_connection

log = logging.getLogger(__name__)


def _key() -> str:
    return f"hotline:login-attempts:{request.remote_addr or 'unknown'}"


def too_many_attempts() -> bool:
    """Count this attempt; True when the address went over the limit in the window."""
    limit = current_app.config["LOGIN_RATE_LIMIT"]
    window = current_app.config["LOGIN_RATE_WINDOW_SECONDS"]
    try:
        conn = redis_connection()
        pipe = conn.pipeline()
        pipe.set(_key(), 0, ex=window, nx=True)
        pipe.incr(_key())
        _, count = pipe.execute()
    except (RedisError, RuntimeError, OSError):
        log.warning("login rate limit skipped: Redis unavailable")
        return False
    return int(count) > limit
