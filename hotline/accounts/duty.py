"""The duty roster: which operators are on duty now (admins own the roster)."""

from __future__ import annotations

from sqlalchemy import select

from models import User, db


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
