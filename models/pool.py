"""Stale pooled connections caught before use, without a round trip on every request.

SQLAlchemy's ``pool_pre_ping`` pings the database at every checkout: one more round trip
for every webhook, which costs more than the webhook's own write (DESIGN.md §10). A
connection used a moment ago is as good as a ping; only one idle longer than
:data:`IDLE_PING_SECONDS` (the database may have restarted, a firewall may have cut it) is
pinged, and replaced when the ping fails. A connection that breaks under load fails its
statement instead: the webhook spools the request and answers, and the pool drops it.
"""

from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

#: A connection idle longer than this is pinged before it is handed out.
IDLE_PING_SECONDS = 5.0


def ping_idle_connections(engine: Engine) -> None:
    """Install the checks on this engine's pool (once)."""
    if getattr(engine, "_pings_idle", False):
        return
    dialect = engine.dialect

    def checkout(dbapi_connection, record, _proxy) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < IDLE_PING_SECONDS:
            return  # new, or used a moment ago
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError() from exc  # the pool replaces it and tries again
        if not alive:
            raise DisconnectionError()

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", _checkin)
    engine._pings_idle = True  # type: ignore[attr-defined]


def _checkin(_dbapi_connection, record) -> None:
    record.info["returned_at"] = time.monotonic()
