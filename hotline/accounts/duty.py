"""The duty roster: which operators are on duty now (admins own the roster)."""

from __future__ import annotations

from sqlalchemy import event, select

from models import User, db
from models.types import utcnow


def on_duty_operators() -> list[User]:
    """Active operators on duty with a phone, in a stable order."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.role == "operator",
                User.on_duty.is_(True),
                User.active.is_(True),
                User.phone.is_not(None),
            )
            .order_by(User.id)
        )
    )


def on_duty_phones(*, exclude: str | None = None, limit: int | None = None) -> list[str]:
    """Phones of the operators on duty now, each once, never an off-duty one's."""
    out: list[str] = []
    for user in on_duty_operators():
        if user.phone and user.phone != exclude and user.phone not in out:
            out.append(user.phone)
    return out[:limit]


AVAILABILITY = ("available", "busy", "away")


def set_availability(user: User, status: str) -> None:
    """Set an operator's availability (``available``, ``busy`` or ``away``)."""
    if status not in AVAILABILITY:
        raise ValueError(f"unknown availability {status!r}")
    if user.availability != status:
        user.availability = status
        user.availability_changed_at = utcnow()


@event.listens_for(User.on_duty, "set")
def _on_duty_starts_available(user: User, value: bool, old: object, _initiator) -> None:
    """An operator put on duty starts available."""
    if value and old is not True:
        user.availability = "available"
        user.availability_changed_at = utcnow()
