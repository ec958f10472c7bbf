"""Redis and the RQ queues the application uses.

Connections are made lazily, per process, from ``REDIS_URL``: nothing connects at import
time, and a web request never depends on Redis answering (work goes through the outbox).
"""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis
from rq import Queue

#: Every queue the app uses, most urgent first; the worker serves them in this order.
QUEUES = ("alerts", "default", "reports")

_EXTENSION = "hotline_redis"


def init_queue(app: Flask) -> None:
    app.extensions[_EXTENSION] = None


def redis_connection(app: Flask | None = None) -> Redis:
    """The process's Redis connection for RQ (created on first use)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    conn = app.extensions.get(_EXTENSION)
    if conn is None:
        url = app.config.get("REDIS_URL")
        if not url:
            raise RuntimeError(
                "REDIS_URL is not set: start the service with scripts/serve, which runs an "
                "embedded server, or point REDIS_URL at Redis"
            )
        conn = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        app.extensions[_EXTENSION] = conn
    return conn


def get_queue(name: str = "default", app: Flask | None = None) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_connection(app))
