"""Jobs about the service itself."""

from __future__ import annotations

from hotline.jobs import registry
from models import District, db


@registry.register("system.heartbeat")
def heartbeat() -> dict[str, int]:
    """Prove a worker can reach the database inside an app context."""
    return {"districts": db.session.query(District).count()}
