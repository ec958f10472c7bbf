"""Jobs about the service itself."""

from __future__ import annotations

from hotline.jobs import job
from models import District, db


@job
def heartbeat() -> dict[str, int]:
    """Prove a worker can reach the database inside an app context."""
    return {"districts": db.session.query(District).count()}
