"""Adding background work to the transactional outbox.

Work is written in the same transaction as the data it is about; the relay (``flask
worker`` runs it) moves due rows to RQ. Nothing in a web request calls Redis.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from hotline.jobs import registry
from hotline.jobs.queue import QUEUES
from models import OutboxItem, db
from models.types import utcnow


def add_work(
    job: str,
    payload: dict[str, Any],
    *,
    queue: str | None = None,
    dedupe_key: str | None = None,
    available_at: datetime | None = None,
    fresh: bool = False,
) -> OutboxItem:
    """Add job ``job`` (a registered name) to the current transaction; payloads hold ids,
    never personal data.
    The queue is the job's own unless ``queue`` says otherwise.

    With ``dedupe_key`` the same work is added only once (the existing row is returned).
    ``fresh`` says the key names something created in this transaction, so there is
    nothing to look up (the key's unique index still guards it).
    """
    spec = registry.get(job)  # an unknown name fails here, in the transaction adding it
    queue = queue or spec.queue
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    if dedupe_key is not None and not fresh:
        existing = db.session.scalar(select(OutboxItem).where(OutboxItem.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    item = OutboxItem(
        job=spec.name,
        payload=payload,
        queue=queue,
        dedupe_key=dedupe_key,
        available_at=available_at or utcnow(),
    )
    db.session.add(item)
    return item
