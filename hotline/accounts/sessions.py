"""Server-side records of browser sessions (:class:`models.UserSession`).

The signed session cookie carries only a random id; the row says whether the session still
stands. Ending a row ends that browser's session on its next request, wherever it is — how
a password change or an administrator's reset signs out every other device at once.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import update

from hotline.audit import record_event
from models import User, UserSession, db
from models.types import utcnow

#: ``last_seen_at`` is written at most this often (not on every request).
TOUCH_EVERY = timedelta(seconds=60)

_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def summarise_user_agent(header: str | None) -> str | None:
    """ "Firefox on Android": enough to recognise a device, not the whole header."""
    if not header:
        return None
    browser = next((name for key, name in _BROWSERS if key in header), None)
    system = next((name for key, name in _SYSTEMS if key in header), None)
    if browser and system:
        return f"{browser} / {system}"
    return browser or system or re.sub(r"[^\w .;/()-]", "", header)[:40] or None


def start_session(user: User, user_agent: str | None) -> str:
    """A new session row for ``user``; returns its id (for the cookie)."""
    sid = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(id=sid, user_id=user.id, user_agent=summarise_user_agent(user_agent))
    )
    return sid


def live_session(sid: str | None, user_id: int) -> UserSession | None:
    """The standing session ``sid`` of ``user_id``, or None (unknown, ended, someone else's)."""
    if not sid:
        return None
    row = db.session.get(UserSession, sid)
    if row is None or row.user_id != user_id or row.ended_at is not None:
        return None
    return row


def touch(row: UserSession) -> bool:
    """Record activity (at most every :data:`TOUCH_EVERY`); True when the row changed."""
    now = utcnow()
    if row.last_seen_at is None or now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        return True
    return False


def end_session(sid: str) -> None:
    db.session.execute(
        update(UserSession)
        .where(UserSession.id == sid, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def end_sessions(user: User, *, keep: str | None = None, actor: User | str | None = None) -> int:
    """End every standing session of ``user`` but ``keep``; returns how many ended."""
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep:
        query = query.where(UserSession.id != keep)
    count = db.session.execute(
        query.values(ended_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    if count and actor is not None:
        record_event(actor, "session.end_all", "user", user.id, {"sessions": count})
    return count


def open_sessions(user: User) -> list[UserSession]:
    """The user's standing sessions, most recently used first."""
    return list(
        db.session.scalars(
            db.select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .order_by(UserSession.last_seen_at.desc())
        )
    )
