"""Writing the append-only audit trail."""

from __future__ import annotations

from typing import Any

from models import AuditEvent, User, db


def record_event(
    actor: User | str,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (committed with the change itself).

    ``details`` must hold codes and counts only, never personal data.
    """
    if isinstance(actor, User):
        actor_id, label = actor.id, actor.username
    else:
        actor_id, label = None, actor
    event = AuditEvent(
        actor_id=actor_id,
        actor_label=label,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=details,
    )
    db.session.add(event)
    return event
