"""Delivery status of messages the service sent (alerts, follow-ups, replies)."""

from __future__ import annotations

from sqlalchemy import select

from models import Alert, FollowUp, Message, db

#: Provider delivery statuses in the order they happen; a late callback never moves a
#: row backwards (``sent`` arriving after ``delivered``).
DELIVERY_RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "read": 6,
}
#: Final statuses saying the message did not reach the phone.
UNDELIVERED = frozenset({"undelivered", "failed"})
#: Statuses a row may hold before delivery is known; others (``acknowledged``,
#: ``escalated`` …) belong to the alert and follow-up logic and are left alone.
_UPDATABLE = frozenset({*DELIVERY_RANK, "pending", "received", "replied"})


def message_status(sid: str, status: str, error_code: str) -> bool:
    """Store a delivery report on the Message, Alert or FollowUp sent with this id.

    Returns False when no row has the id (nothing is stored).
    """
    status = status.strip().lower()[:20]
    if status not in DELIVERY_RANK:
        return False
    found = False
    for model in (Message, Alert, FollowUp):
        row = db.session.scalar(select(model).where(model.provider_sid == sid).limit(1))
        if row is None:
            continue
        found = True
        if error_code:
            row.error_code = error_code[:10]
        current = row.status or "pending"
        if current not in _UPDATABLE:
            continue
        if DELIVERY_RANK.get(status, 0) >= DELIVERY_RANK.get(current, 0):
            row.status = status
            if isinstance(row, Alert) and status in UNDELIVERED and current not in UNDELIVERED:
                # The carrier could not deliver it (phone off, number gone): the next
                # point is alerted now, not after the acknowledgement deadline.
                from hotline.alerts.escalation import alert_not_delivered

                alert_not_delivered(row, error_code or "carrier")
    return found
