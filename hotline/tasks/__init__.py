"""Tasks: work waiting for an operator (DESIGN.md section 11).

Whatever notices the work opens the task (the voice flow for a voicemail or a callback
request, the follow-up job for a call that is due, a declined or unanswered referral, an
SMS conversation routed to the provincial centre without a place); an operator closes it
with an outcome. Opening is idempotent on the task's key, inside the caller's transaction.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Task, db

KINDS = ("voicemail", "callback", "follow_up_call", "referral_declined", "sms_unrouted")
OUTCOMES = ("reached", "no_answer", "unsafe", "not_needed")


def open_task(
    kind: str,
    about: str,
    *,
    case_id: int | None = None,
    contact_id: int | None = None,
    follow_up_id: int | None = None,
) -> Task:
    """The task of ``kind`` about ``about`` (e.g. ``contact:12``), opened once.

    Runs in the caller's transaction (a savepoint absorbs a concurrent duplicate).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown task kind {kind!r}")
    key = f"{kind}:{about}"
    task = db.session.scalar(select(Task).where(Task.key == key))
    if task is not None:
        return task
    try:
        with db.session.begin_nested():
            task = Task(
                key=key,
                kind=kind,
                status="open",
                case_id=case_id,
                contact_id=contact_id,
                follow_up_id=follow_up_id,
            )
            db.session.add(task)
    except IntegrityError:
        task = db.session.scalar(select(Task).where(Task.key == key))
    return task
